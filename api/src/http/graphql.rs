//! `/graphql` over HTTP (GraphQL-over-HTTP) and GraphiQL for browsers; the WebSocket
//! (`/graphql/ws`) is `http::ws`'s.
use async_graphql::parser::types::OperationType;
use axum::Router;
use axum::body::Body;
use futures::StreamExt;
use std::net::{IpAddr, SocketAddr};

use async_graphql::{BatchRequest, ErrorExtensions};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::graphql::{AppSchema, ClientIp, UserAgent, build_schema};
use crate::service::auth::{self, Credential, Principal};
use crate::state::AppState;

/// Largest GraphQL request body (a `multipart/form-data` one with a file: see `graphql_upload`).
pub(super) const MAX_BODY: usize = 256 * 1024;
/// Operations one batched POST may hold; each is costed and rate limited on its own.
pub const MAX_BATCH: usize = 10;
/// Operations of one batch that run at once: a batch cannot take the whole pool.
const BATCH_CONCURRENCY: usize = 2;
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub fn router(state: &AppState) -> Router<AppState> {
    let schema = build_schema(state.clone());
    Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .layer(Extension(schema))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// `Bearer <token>` -> the token.
pub(super) fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The caller of an HTTP request, or an error response (a rate-limited API token, which
/// pays one call per operation: `operations` of a batch).
pub(super) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    operations: usize,
) -> Result<Option<Principal>, Response> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
    else {
        return Ok(None);
    };
    let principal = match auth::authenticate(&state.db, token).await {
        Ok(principal) => principal,
        Err(err) => return Err(error_response(headers, err)),
    };
    if let Some(Principal {
        credential: Credential::ApiToken { id },
        ..
    }) = &principal
        && let Err(err) = state
            .limits
            .api_calls(*id, u32::try_from(operations).unwrap_or(u32::MAX))
    {
        return Err(error_response(headers, err));
    }
    Ok(principal)
}

pub(super) fn with_caller(
    request: async_graphql::Request,
    principal: &Option<Principal>,
    ip: IpAddr,
    headers: &HeaderMap,
) -> async_graphql::Request {
    let mut request = request.data(ClientIp(ip));
    // For the audit log.
    if let Some(agent) = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        request = request.data(UserAgent(agent.to_owned()));
    }
    match principal {
        Some(principal) => request.data(principal.clone()),
        None => request,
    }
}

async fn post_graphql(
    State(state): State<AppState>,
    Extension(schema): Extension<AppSchema>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if super::graphql_upload::is_multipart(&headers) {
        return super::graphql_upload::post(&state, &schema, peer, &headers, body).await;
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a GraphQL request body holds at most {MAX_BODY} bytes"),
        )
            .into_response();
    };
    let request: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => return bad_request(&headers, &format!("invalid GraphQL request: {err}")),
    };
    let operations = match &request {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(many) => many.len(),
    };
    if operations > MAX_BATCH {
        return bad_request(
            &headers,
            &format!(
                "a batch holds at most {MAX_BATCH} operations; this one has {operations}: \
                 send them in several requests"
            ),
        );
    }
    let principal = match caller(&state, &headers, operations).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    let ip = super::client_ip(peer, &headers, &state.config);
    let response = match request {
        BatchRequest::Single(one) => async_graphql::BatchResponse::Single(
            schema
                .execute(with_caller(one, &principal, ip, &headers))
                .await,
        ),
        // In order, a few at a time, each with its own cost and deadline.
        BatchRequest::Batch(many) => async_graphql::BatchResponse::Batch(
            futures::stream::iter(many)
                .map(|one| schema.execute(with_caller(one, &principal, ip, &headers)))
                .buffered(BATCH_CONCURRENCY)
                .collect()
                .await,
        ),
    };
    respond(&headers, response)
}

/// GraphiQL for a browser; otherwise a query in the URL (never a mutation).
async fn get_graphql(
    State(state): State<AppState>,
    Extension(schema): Extension<AppSchema>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = accepts(&headers, "text/html");
    if wants_html && query.is_none() {
        return super::graphiql::page(&state.config.graphiql_dir).await;
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
    let principal = match caller(&state, &headers, 1).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    let ip = super::client_ip(peer, &headers, &state.config);
    let request = with_caller(request, &principal, ip, &headers);
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

/// Errors async-graphql raises itself (parse, validation, depth and complexity limits)
/// carry no code; they are the client's: BAD_USER_INPUT.
pub(super) fn with_codes(response: async_graphql::Response) -> async_graphql::Response {
    let mut response = response;
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_USER_INPUT");
        }
    }
    response
}

pub(super) fn respond(headers: &HeaderMap, response: async_graphql::BatchResponse) -> Response {
    let response = match response {
        async_graphql::BatchResponse::Single(one) => {
            async_graphql::BatchResponse::Single(with_codes(one))
        }
        async_graphql::BatchResponse::Batch(many) => {
            async_graphql::BatchResponse::Batch(many.into_iter().map(with_codes).collect())
        }
    };
    match serde_json::to_vec(&response) {
        Ok(body) => ([(header::CONTENT_TYPE, content_type(headers))], body).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "serialising a GraphQL response failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// An error before execution, in GraphQL's shape, with `Retry-After` when rate limited.
pub(super) fn error_response(headers: &HeaderMap, err: ApiError) -> Response {
    let status = match err {
        ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let retry_after = match err {
        ApiError::RateLimited(seconds) => Some(seconds.to_string()),
        _ => None,
    };
    let body = serde_json::json!({ "errors": [err.extend()] });
    let mut response = (
        status,
        [(header::CONTENT_TYPE, content_type(headers))],
        body.to_string(),
    )
        .into_response();
    if let Some(value) = retry_after.and_then(|v| v.parse().ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

pub(super) fn bad_request(headers: &HeaderMap, message: &str) -> Response {
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
