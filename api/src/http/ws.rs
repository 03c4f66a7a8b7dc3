//! `/graphql/ws`: GraphQL over WebSocket, `graphql-transport-ws` (the `graphql-ws`
//! library's protocol) and the legacy `graphql-ws` (subscriptions-transport-ws).
//!
//! The server is on the internet (the webhook must be public), so a connection is held to
//! what it has earned:
//! - before `connection_init` is accepted it may send [`PRE_INIT_BYTES`] in all (frames,
//!   fragments and pings alike), must send `connection_init` within
//!   `MF_WS_INIT_TIMEOUT_SECS`, and nothing but it (and pings) is accepted;
//! - after, messages up to [`MAX_MESSAGE`] (like an HTTP body), at most
//!   `MF_WS_MAX_SUBSCRIPTIONS` operations at once, and each operation is authorised with
//!   the credential as it is now and charged the API-token rate limit, as on HTTP;
//! - connections are capped in all (`MF_WS_MAX_CONNECTIONS`, unauthenticated ones
//!   included: they are the cheap attack) and per credential.
//!
//! The upgrade is done here rather than by axum's `WebSocketUpgrade`, because that fixes
//! tungstenite's message limit for the life of the connection. Here tungstenite gets the
//! post-init limit from the start and reads through [`budget::Budgeted`], which caps the
//! raw bytes until `connection_init` is accepted: one counter below the protocol bounds
//! what an unauthenticated client can make the server hold, whatever it sends. (A
//! WebSocket crate with a limit settable at run time, fastwebsockets, would have meant
//! rewriting the send queue and the split reader and writer for a second WebSocket stack
//! beside the one axum already brings.)
//!
//! The protocol itself is implemented here too (async-graphql's `GraphQLWebSocket` fixes
//! the caller at `connection_init`): see [`connection`].
mod budget;
mod connection;
mod outgoing;
mod protocol;
mod seats;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Extension, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::graphql::{AppSchema, build_schema};
use crate::state::AppState;
use budget::{Budget, Budgeted};
use connection::Connection;
use protocol::Protocol;
use seats::Seats;

/// What a client may send before its `connection_init` is accepted, in all. A real
/// `connection_init` with a token is about 200 bytes.
pub const PRE_INIT_BYTES: usize = 8 * 1024;
/// Largest message (and frame) after `connection_init`, as for an HTTP request body.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// Bytes read from a WebSocket at a time. Small on purpose: tungstenite zero-fills this
/// much on every poll of the read side, and a subscription connection is polled once per
/// event pushed. At the default (128 KiB) that memset was a third of the server's CPU
/// with 100 subscribers at 200 events/s.
const WS_READ_BUFFER: usize = 4 * 1024;
/// How often a quiet connection is pinged, at most (a third of the idle timeout when
/// that is shorter).
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);
/// After its close frame, how long a connection's remaining input is read and dropped,
/// so that the client gets the close frame rather than a reset.
const LINGER: Duration = Duration::from_secs(2);

/// Close codes; README's table says what a client should do for each.
/// The server shuts down: reconnect and resume.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// A message over the limit ([`PRE_INIT_BYTES`] before init, [`MAX_MESSAGE`] after).
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Nothing received for `MF_WS_IDLE_TIMEOUT_SECS`.
pub const CLOSE_IDLE: u16 = 3008;
/// A subscriber that stopped reading: reconnect, and resubscribe with `after` set to the
/// last position received.
pub const CLOSE_TOO_SLOW: u16 = 4100;
/// A message that is not one of the protocol's.
pub const CLOSE_BAD_MESSAGE: u16 = 4400;
/// `subscribe` before `connection_ack`.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// A missing, invalid, revoked or expired token.
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// No `connection_init` within `MF_WS_INIT_TIMEOUT_SECS`.
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// Two operations with one id.
pub const CLOSE_DUPLICATE_ID: u16 = 4409;
/// A second `connection_init`, or one connection too many for the credential.
pub const CLOSE_TOO_MANY: u16 = 4429;

/// What every connection of this router shares.
struct Hub {
    schema: AppSchema,
    seats: Arc<Seats>,
}

pub fn router(state: &AppState) -> Router<AppState> {
    let hub = Arc::new(Hub {
        schema: build_schema(state.clone()),
        seats: Seats::new(
            state.config.ws_max_connections,
            state.config.ws_max_connections_per_credential,
        ),
    });
    Router::new()
        .route("/graphql/ws", get(upgrade))
        .layer(Extension(hub))
}

/// The WebSocket handshake (RFC 6455, HTTP/1.1), then the connection in a task of its
/// own, tracked so that shutdown waits for its close frame.
async fn upgrade(
    State(state): State<AppState>,
    Extension(hub): Extension<Arc<Hub>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    let headers = &parts.headers;
    if !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        return refuse(StatusCode::BAD_REQUEST, "expected a WebSocket upgrade");
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v != "13")
    {
        return refuse(StatusCode::BAD_REQUEST, "WebSocket version 13 only");
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return refuse(StatusCode::BAD_REQUEST, "no Sec-WebSocket-Key");
    };
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let Some(protocol) = Protocol::negotiate(offered) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must offer graphql-transport-ws or graphql-ws",
        );
    };
    let accept = derive_accept_key(key.as_bytes());
    let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "this connection cannot be upgraded",
        );
    };
    let Some(slot) = hub.seats.slot() else {
        state.metrics.ws_closed.with_label_values(&["503"]).inc();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "too many WebSocket connections; retry later",
        )
            .into_response();
    };
    let connection = Connection {
        state: state.clone(),
        schema: hub.schema.clone(),
        protocol,
        peer: super::client_ip(peer, &parts.headers, &state.config),
        seats: hub.seats.clone(),
        budget: Budget::new(PRE_INIT_BYTES),
    };
    tokio::spawn(state.connections.track_future(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let budget = connection.budget.clone();
        let io = Budgeted::new(TokioIo::new(upgraded), budget.clone());
        let config = WebSocketConfig::default()
            .read_buffer_size(WS_READ_BUFFER)
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        if let Some(socket) = connection.serve(socket).await {
            budget.lift();
            linger(socket.into_inner()).await;
        }
        drop(slot);
    }));
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .header(header::SEC_WEBSOCKET_PROTOCOL, protocol.name())
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Whether a comma-separated header lists `token` (in any case).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn refuse(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

/// Ends our side, then reads and drops what the client still sends (for at most
/// [`LINGER`]): closing a socket with unread input resets it, and the client would lose
/// the close frame that says why.
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
    let _ = tokio::time::timeout(LINGER, async {
        let _ = io.shutdown().await;
        let mut sink = [0u8; 4096];
        while let Ok(read) = io.read(&mut sink).await {
            if read == 0 {
                break;
            }
        }
    })
    .await;
}
