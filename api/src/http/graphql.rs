//! `/graphql` over HTTP (GraphQL-over-HTTP), GraphiQL for browsers, and `/graphql/ws`
//! for subscriptions (`graphql-transport-ws`, and the legacy `graphql-ws`).
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Extension, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::graphql::{AppSchema, build_schema};
use crate::state::AppState;

/// Bytes read from a WebSocket at a time. Small on purpose: tungstenite zero-fills this
/// much on every poll of the read side, and a subscription connection is polled once per
/// event pushed. At the default (128 KiB) that memset was a third of the server's CPU
/// with 100 subscribers at 200 events/s.
const WS_READ_BUFFER: usize = 4 * 1024;

/// Largest GraphQL request body.
const MAX_BODY: usize = 256 * 1024;
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub fn router(state: &AppState) -> Router<AppState> {
    let schema = build_schema(state.clone());
    Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route("/graphql/ws", get(websocket))
        .layer(Extension(schema))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// `graphql-transport-ws` (and legacy `graphql-ws`) subscriptions.
async fn websocket(
    Extension(schema): Extension<AppSchema>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .read_buffer_size(WS_READ_BUFFER)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| GraphQLWebSocket::new(socket, schema, protocol).serve())
}

async fn post_graphql(
    Extension(schema): Extension<AppSchema>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => return bad_request(&headers, &format!("invalid GraphQL request: {err}")),
    };
    respond(&headers, schema.execute_batch(request).await)
}

/// GraphiQL for a browser; otherwise a query in the URL (never a mutation).
async fn get_graphql(
    Extension(schema): Extension<AppSchema>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = accepts(&headers, "text/html");
    if wants_html && query.is_none() {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .finish(),
        )
        .into_response();
    }
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(err) => return bad_request(&headers, &format!("invalid GraphQL request: {err}")),
    };
    if is_mutation(&request) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            "mutations must be sent with POST",
        )
            .into_response();
    }
    respond(&headers, schema.execute(request).await.into())
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    document.operations.iter().any(|(name, op)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            _ => true,
        };
        selected && op.node.ty == OperationType::Mutation
    })
}

fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(media_type))
}

fn content_type(headers: &HeaderMap) -> &'static str {
    if accepts(headers, GRAPHQL_RESPONSE_JSON) {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    }
}

fn respond(headers: &HeaderMap, response: async_graphql::BatchResponse) -> Response {
    match serde_json::to_vec(&response) {
        Ok(body) => ([(header::CONTENT_TYPE, content_type(headers))], body).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "serialising a GraphQL response failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn bad_request(headers: &HeaderMap, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }]
    });
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, content_type(headers))],
        body.to_string(),
    )
        .into_response()
}
