//! Small routers, one per concern, merged here.
mod graphql;
mod health;
mod metrics;
mod security;
mod webhook;

use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let cors = security::cors(state.config.cors_origins.as_deref());
    let app = Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(webhook::router())
        .merge(graphql::router(&state))
        .with_state(state);
    security::headers(app, cors)
}
