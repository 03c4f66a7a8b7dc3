//! `/webhook`: Facebook's verification handshake and signed event deliveries.
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::facebook::{events, signature};
use crate::state::AppState;

/// Largest delivery accepted; Facebook's batches are far smaller.
pub const MAX_BODY: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhook", get(verify).post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

#[derive(Deserialize)]
struct Verification {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Answers the challenge when the mode is `subscribe` and the token is ours.
async fn verify(State(state): State<AppState>, Query(query): Query<Verification>) -> Response {
    let Some(expected) = &state.config.fb_verify_token else {
        tracing::warn!("webhook verification refused: FB_VERIFY_TOKEN is not set");
        return StatusCode::FORBIDDEN.into_response();
    };
    let token_ok = query
        .verify_token
        .as_deref()
        .is_some_and(|t| constant_time_eq(t.as_bytes(), expected.expose().as_bytes()));
    match (query.mode.as_deref(), token_ok, query.challenge) {
        (Some("subscribe"), true, Some(challenge)) => {
            tracing::info!("webhook verified");
            ([("content-type", "text/plain; charset=utf-8")], challenge).into_response()
        }
        _ => {
            tracing::warn!("webhook verification refused: wrong mode or verify token");
            StatusCode::FORBIDDEN.into_response()
        }
    }
}

fn count(state: &AppState, result: &str) {
    state.metrics.deliveries.with_label_values(&[result]).inc();
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies, parses and stores a delivery; `200` only once it is committed.
async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.config.fb_app_secret else {
        tracing::error!(
            "webhook delivery refused: FB_APP_SECRET is not set, so its signature cannot be checked"
        );
        count(&state, "unauthorized");
        return (
            StatusCode::UNAUTHORIZED,
            "webhook signature cannot be checked",
        )
            .into_response();
    };
    let header = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if let Err(err) = signature::verify(secret.expose().as_bytes(), &body, header) {
        tracing::warn!(reason = %err, "webhook delivery refused");
        count(&state, "unauthorized");
        return (StatusCode::UNAUTHORIZED, err.to_string()).into_response();
    }
    let parsed = match events::parse(&body) {
        Ok(parsed) => parsed,
        Err(err) => {
            tracing::warn!(error = %err, "webhook delivery refused");
            return (
                StatusCode::BAD_REQUEST,
                "body is not a webhook event envelope",
            )
                .into_response();
        }
    };
    let (skipped, ignored, events) = (parsed.skipped, parsed.ignored, parsed.events.len());
    let outcomes = &state.metrics.events;
    outcomes
        .with_label_values(&["skipped"])
        .inc_by(skipped as u64);
    outcomes
        .with_label_values(&["ignored"])
        .inc_by(ignored as u64);
    if parsed.events.is_empty() {
        tracing::debug!(skipped, ignored, "webhook delivery with nothing to store");
        count(&state, "accepted");
        return StatusCode::OK.into_response();
    }
    match state.ingest.submit(parsed.events).await {
        Ok(report) => {
            tracing::debug!(
                events,
                stored = report.stored,
                duplicates = report.duplicates,
                watermarks = report.watermarks,
                skipped,
                ignored,
                "webhook delivery stored"
            );
            count(&state, "accepted");
            StatusCode::OK.into_response()
        }
        // Not stored, or not known to be stored: never 200, so Facebook sends it again.
        Err(err) => {
            tracing::error!(error = %err, "webhook delivery not stored; Facebook will retry");
            count(&state, "unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "delivery not stored, retry later",
            )
                .into_response()
        }
    }
}
