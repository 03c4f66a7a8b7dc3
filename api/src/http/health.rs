//! `GET /health`: the database and the bus, each named when it fails.
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

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => "ok",
        Err(err) => {
            tracing::warn!(error = %err, "health: database unavailable");
            "unavailable"
        }
    };
    let bus = match state.bus.health().await {
        Ok(()) => "ok",
        Err(err) => {
            tracing::warn!(error = %err, "health: bus unavailable");
            "unavailable"
        }
    };
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
