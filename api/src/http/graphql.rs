//! `/graphql` over HTTP (GraphQL-over-HTTP), GraphiQL for browsers, and `/graphql/ws`
//! for subscriptions (`graphql-transport-ws`, and the legacy `graphql-ws`).
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::OperationType;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use async_graphql::{BatchRequest, Data, ErrorExtensions};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::graphql::{AppSchema, ClientIp, build_schema, publish_presence};
use crate::service::auth::{self, Credential, Principal};
use crate::state::AppState;

/// Why a `connection_init` was refused (closed with 4403).
const AUTH_REFUSED: &str = "missing, invalid or expired token";

/// Bytes read from a WebSocket at a time. Small on purpose: tungstenite zero-fills this
/// much on every poll of the read side, and a subscription connection is polled once per
/// event pushed. At the default (128 KiB) that memset was a third of the server's CPU
/// with 100 subscribers at 200 events/s.
const WS_READ_BUFFER: usize = 4 * 1024;

/// Largest GraphQL request body.
const MAX_BODY: usize = 256 * 1024;
/// Operations one batched POST may hold; each is costed and rate limited on its own.
pub const MAX_BATCH: usize = 10;
/// Operations of one batch that run at once: a batch cannot take the whole pool.
const BATCH_CONCURRENCY: usize = 2;
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub fn router(state: &AppState) -> Router<AppState> {
    let schema = build_schema(state.clone());
    Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route("/graphql/ws", get(websocket))
        .layer(Extension(schema))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// `graphql-transport-ws` (and legacy `graphql-ws`) subscriptions. The token comes in
/// the `connection_init` payload: `{"authorization": "Bearer <token>"}`; without a valid
/// one the connection is refused (close code 4403).
async fn websocket(
    State(state): State<AppState>,
    Extension(schema): Extension<AppSchema>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let peer = super::client_ip(peer, &headers, &state.config);
    let connections = state.connections.clone();
    upgrade
        .read_buffer_size(WS_READ_BUFFER)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            connections.track_future(serve_socket(state, schema, protocol, peer, socket))
        })
}

/// Close code for a subscriber that stopped reading: reconnect, and resubscribe with
/// `after` set to the last position received.
pub const CLOSE_TOO_SLOW: u16 = 4100;
/// How long a connection's send queue may stay full (the client not reading) before the
/// client is disconnected with `CLOSE_TOO_SLOW`. Meanwhile only its own subscriptions wait.
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// Close code when the server shuts down ("going away"): reconnect and resume.
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// One subscription connection. What the server sends goes through a bounded queue
/// drained by its own writer: a client that stops reading fills only its own queue, and
/// when that stays full for `STALL_LIMIT` it is disconnected (4100) rather than slowing
/// anyone down.
async fn serve_socket(
    state: AppState,
    schema: AppSchema,
    protocol: GraphQLProtocol,
    peer: IpAddr,
    socket: WebSocket,
) {
    // The agent whose session opened this connection, once it is initialised.
    let online: Arc<Mutex<Option<i64>>> = Arc::default();
    let (sink, stream) = socket.split();
    let (queue, outgoing) = mpsc::channel::<WsMessage>(state.config.ws_send_queue.max(1));
    // Cancelled to stop the writer at once, with `close` as its last word.
    let stop = CancellationToken::new();
    let close: Arc<Mutex<Option<CloseFrame>>> = Arc::default();
    let closing = |frame: CloseFrame| {
        if let Ok(mut slot) = close.lock() {
            slot.get_or_insert(frame);
        }
        stop.cancel();
    };
    let enqueue = {
        let close = close.clone();
        let stop = stop.clone();
        let metrics = state.metrics.clone();
        futures::sink::unfold(queue, move |queue, message: WsMessage| {
            let close = close.clone();
            let stop = stop.clone();
            let metrics = metrics.clone();
            async move {
                let message = remap_refusal(message);
                let sent = match queue.try_send(message) {
                    Ok(()) => Ok(()),
                    // Full: wait for the client to catch up, but not for ever.
                    Err(mpsc::error::TrySendError::Full(message)) => {
                        match tokio::time::timeout(STALL_LIMIT, queue.send(message)).await {
                            Ok(sent) => sent.map_err(|_| "connection closed"),
                            Err(_) => Err("too slow"),
                        }
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => Err("connection closed"),
                };
                match sent {
                    Ok(()) => Ok(queue),
                    Err("too slow") => {
                        tracing::warn!("a subscriber stopped reading; disconnecting it (4100)");
                        metrics.ws_slow_disconnects.inc();
                        if let Ok(mut slot) = close.lock() {
                            slot.get_or_insert(CloseFrame {
                                code: CLOSE_TOO_SLOW,
                                reason: "too far behind: reconnect and resume with `after`".into(),
                            });
                        }
                        stop.cancel();
                        Err(axum::Error::new(std::io::Error::other(
                            "subscriber too slow",
                        )))
                    }
                    Err(why) => Err(axum::Error::new(std::io::Error::other(why))),
                }
            }
        })
    };
    let writer = write_socket(sink, outgoing, stop.clone(), close.clone());

    let init_state = state.clone();
    let init_online = online.clone();
    state.metrics.ws_connections.inc();
    let serve = GraphQLWebSocket::new_with_pair(enqueue, stream, schema, protocol)
        .on_connection_init(move |payload| connection_init(init_state, peer, payload, init_online))
        // A connection silent this long (no message, no `ping`) is closed: a vanished
        // browser turns OFFLINE within a minute by default.
        .keepalive_timeout(Duration::from_secs(
            state.config.ws_idle_timeout_secs.max(1),
        ))
        .serve();
    let reader = async {
        tokio::select! {
            () = serve => {}
            () = state.shutdown.cancelled() => closing(CloseFrame {
                code: CLOSE_GOING_AWAY,
                reason: "server shutting down: reconnect and resume".into(),
            }),
            () = stop.cancelled() => {}
        }
        // Whatever ended the reading side, the writer finishes what is queued and stops.
    };
    tokio::join!(reader, writer);
    state.metrics.ws_connections.dec();
    let agent = online.lock().ok().and_then(|mut slot| slot.take());
    if let Some(agent_id) = agent
        && let Some(status) = state.presence.disconnected(agent_id)
    {
        publish_presence(&state, agent_id, status).await;
    }
}

/// async-graphql closes a refused `connection_init` with 1002; the protocol's code for
/// "unauthorized" is 4403.
fn remap_refusal(message: WsMessage) -> WsMessage {
    match message {
        WsMessage::Close(Some(frame))
            if frame.code == 1002 && frame.reason.as_str() == AUTH_REFUSED =>
        {
            WsMessage::Close(Some(CloseFrame {
                code: 4403,
                reason: "Forbidden".into(),
            }))
        }
        other => other,
    }
}

/// How long a close frame may wait for a client that is not reading (a paused laptop that
/// reads again within this still learns why it was closed).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends what is queued until the queue ends or `stop`; then the close frame, if any.
async fn write_socket(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut outgoing: mpsc::Receiver<WsMessage>,
    stop: CancellationToken,
    close: Arc<Mutex<Option<CloseFrame>>>,
) {
    loop {
        let message = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            message = outgoing.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        let last = matches!(message, WsMessage::Close(_));
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            sent = sink.send(message) => if sent.is_err() { return },
        }
        if last {
            return;
        }
    }
    let frame = close.lock().ok().and_then(|mut slot| slot.take());
    if let Some(frame) = frame {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(WsMessage::Close(Some(frame)))).await;
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.close()).await;
}

async fn connection_init(
    state: AppState,
    peer: IpAddr,
    payload: serde_json::Value,
    online: Arc<Mutex<Option<i64>>>,
) -> async_graphql::Result<Data> {
    let header = payload
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        })
        .and_then(|(_, v)| v.as_str());
    let principal = match header.and_then(bearer) {
        Some(token) => auth::authenticate(&state.db, token).await?,
        None => None,
    };
    let Some(principal) = principal else {
        return Err(async_graphql::Error::new(
            "missing, invalid or expired token",
        ));
    };
    // An agent's own session counts towards presence; an integration's token does not.
    if matches!(principal.credential, Credential::Session { .. }) {
        let agent_id = principal.agent.id;
        if let Ok(mut slot) = online.lock() {
            *slot = Some(agent_id);
        }
        if let Some(status) = state.presence.connected(agent_id) {
            publish_presence(&state, agent_id, status).await;
        }
    }
    let mut data = Data::default();
    data.insert(principal);
    data.insert(ClientIp(peer));
    Ok(data)
}

/// `Bearer <token>` -> the token.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The caller of an HTTP request, or an error response (a rate-limited API token, which
/// pays one call per operation: `operations` of a batch).
async fn caller(
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

fn with_caller(
    request: async_graphql::Request,
    principal: &Option<Principal>,
    ip: IpAddr,
) -> async_graphql::Request {
    let request = request.data(ClientIp(ip));
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
    body: Bytes,
) -> Response {
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
            schema.execute(with_caller(one, &principal, ip)).await,
        ),
        // In order, a few at a time, each with its own cost and deadline.
        BatchRequest::Batch(many) => async_graphql::BatchResponse::Batch(
            futures::stream::iter(many)
                .map(|one| schema.execute(with_caller(one, &principal, ip)))
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
    let request = with_caller(request, &principal, ip);
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
fn with_codes(response: async_graphql::Response) -> async_graphql::Response {
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

fn respond(headers: &HeaderMap, response: async_graphql::BatchResponse) -> Response {
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
fn error_response(headers: &HeaderMap, err: ApiError) -> Response {
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
