//! Small routers, one per concern, merged here.
mod client_ip;
mod graphiql;
mod graphql;
mod graphql_upload;
mod health;
mod metrics;
mod security;
mod web;
mod webhook;
mod ws;

use axum::Router;

pub use client_ip::client_ip;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let cors = security::cors(state.config.cors_origins.as_deref());
    let graph_images = security::plain_http_origin(&state.config.fb_graph_url);
    let web = web::fallback(&state.config.web_dir);
    let app = Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(webhook::router())
        .merge(graphql::router(&state))
        .merge(ws::router(&state))
        .merge(graphiql::router(&state.config.graphiql_dir))
        .fallback(web)
        .with_state(state);
    security::headers(app, cors, graph_images)
}
