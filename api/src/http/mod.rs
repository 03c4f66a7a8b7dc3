//! Small routers, one per concern, merged here.
mod graphql;
mod health;
mod webhook;

use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(webhook::router())
        .merge(graphql::router(&state))
        .with_state(state)
}
