//! `GET /health`: the database and the bus, each named when it fails.
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// Longest each check may take: a database or bus that hangs (rather than refusing) is
/// reported unavailable promptly, so a load balancer's probe gets an answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = async {
        let checked = tokio::time::timeout(CHECK_TIMEOUT, state.db.execute_unprepared("SELECT 1"));
        match checked.await {
            Ok(Ok(_)) => "ok",
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "health: database unavailable");
                "unavailable"
            }
            Err(_) => {
                tracing::warn!(timeout = ?CHECK_TIMEOUT, "health: database did not answer");
                "unavailable"
            }
        }
    };
    let bus = async {
        match tokio::time::timeout(CHECK_TIMEOUT, state.bus.health()).await {
            Ok(Ok(())) => "ok",
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "health: bus unavailable");
                "unavailable"
            }
            Err(_) => {
                tracing::warn!(timeout = ?CHECK_TIMEOUT, "health: bus did not answer");
                "unavailable"
            }
        }
    };
    let (database, bus) = tokio::join!(database, bus);
    let healthy = database == "ok" && bus == "ok";
    let status = if healthy { "ok" } else { "unavailable" };
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(json!({ "status": status, "database": database, "bus": bus })),
    )
}
