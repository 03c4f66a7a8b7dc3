//! A minimal `graphql-transport-ws` client (the `graphql-ws` library's protocol):
//! `connection_init` / `connection_ack`, `subscribe`, `next` / `error` / `complete`,
//! `ping` / `pong`. One subscription per connection keeps it simple.
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The subprotocol the server speaks.
pub const PROTOCOL: &str = "graphql-transport-ws";
const SUBSCRIPTION_ID: &str = "1";
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A started subscription: read its events with [`Subscription::next`].
pub struct Subscription {
    socket: Socket,
    /// Events that arrived while the subscription was being confirmed (an event published
    /// just before it started can overtake the confirmation): handed out first.
    early: std::collections::VecDeque<Value>,
}

/// Opens a WebSocket to `url` with the `graphql-transport-ws` subprotocol and waits for
/// the server's `connection_ack`.
pub async fn connect_ws(url: &str, token: Option<&str>) -> anyhow::Result<Socket> {
    connect_ws_with(url, token, None).await
}

async fn connect_ws_with(
    url: &str,
    token: Option<&str>,
    recv_buffer: Option<u32>,
) -> anyhow::Result<Socket> {
    let mut socket = open_with(url, recv_buffer).await?;
    send(&mut socket, connection_init(init_payload(token))).await?;
    let ack = tokio::time::timeout(HANDSHAKE_TIMEOUT, receive(&mut socket))
        .await
        .context("no connection_ack in time")??;
    if ack["type"] != "connection_ack" {
        bail!("expected connection_ack, got {ack}");
    }
    Ok(socket)
}

/// The `connection_init` payload that carries `token`, as the inbox sends it.
pub fn init_payload(token: Option<&str>) -> Value {
    token.map_or(
        json!({}),
        |t| json!({ "authorization": format!("Bearer {t}") }),
    )
}

fn connection_init(payload: Value) -> Value {
    json!({ "type": "connection_init", "payload": payload })
}

/// Opens a WebSocket to `url` with the `graphql-transport-ws` subprotocol.
async fn open(url: &str) -> anyhow::Result<Socket> {
    open_with(url, None).await
}

/// Like [`open`]; `recv_buffer` shrinks the socket's receive buffer (a client that stops
/// reading then holds back the server after a few kilobytes, not megabytes).
async fn open_with(url: &str, recv_buffer: Option<u32>) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request().context("building the request")?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(PROTOCOL));
    let host = request
        .uri()
        .host()
        .context("a host in the URL")?
        .to_owned();
    let port = request.uri().port_u16().context("a port in the URL")?;
    let addr = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .next()
        .context("resolving the host")?;
    let tcp = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    if let Some(bytes) = recv_buffer {
        tcp.set_recv_buffer_size(bytes)?;
    }
    let stream = tcp.connect(addr).await.context("connecting")?;
    let (socket, response) =
        tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .context("opening the WebSocket")?;
    let accepted = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|value| value.to_str().ok());
    if accepted != Some(PROTOCOL) {
        bail!("the server accepted subprotocol {accepted:?}, not {PROTOCOL}");
    }
    Ok(socket)
}

/// How the server answered a `connection_init`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitAnswer {
    /// `connection_ack`: the connection is open.
    Acknowledged,
    /// The server closed the WebSocket without acknowledging it; `code` is the close
    /// frame's code (`None` when it dropped the connection without one).
    Closed { code: Option<u16>, reason: String },
    /// Another protocol message instead of `connection_ack`.
    Message(Value),
}

/// Opens a WebSocket, sends `connection_init` with exactly `payload` and reports how the
/// server answered (within the handshake timeout).
pub async fn init_answer(url: &str, payload: Value) -> anyhow::Result<InitAnswer> {
    let mut socket = open(url).await?;
    send(&mut socket, connection_init(payload)).await?;
    tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        loop {
            let frame = match socket.next().await {
                None => {
                    return InitAnswer::Closed {
                        code: None,
                        reason: "the connection ended".to_owned(),
                    };
                }
                Some(Err(error)) => {
                    return InitAnswer::Closed {
                        code: None,
                        reason: error.to_string(),
                    };
                }
                Some(Ok(frame)) => frame,
            };
            match frame {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|_| Value::String(text.as_str().to_owned()));
                    match message["type"].as_str() {
                        Some("connection_ack") => return InitAnswer::Acknowledged,
                        Some("ping" | "pong") => {}
                        _ => return InitAnswer::Message(message),
                    }
                }
                Message::Close(close) => {
                    return InitAnswer::Closed {
                        code: close.as_ref().map(|frame| u16::from(frame.code)),
                        reason: close
                            .map(|frame| frame.reason.to_string())
                            .unwrap_or_default(),
                    };
                }
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| anyhow!("no answer to connection_init within {HANDSHAKE_TIMEOUT:?}"))
}

/// How a subscription ended (see [`Subscription::ending`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Ending {
    /// An `error` message, or a `next` carrying errors, shaped `{"errors": [...]}`.
    Errors(Value),
    /// The WebSocket closed, with this close code (`None`: without a close frame).
    Closed(Option<u16>),
}

/// An acknowledged connection with no subscription: what an open inbox tab holds, and
/// what makes its agent ONLINE.
pub struct Connection {
    socket: Socket,
}

impl Connection {
    /// Connects to `url` and waits for `connection_ack`.
    pub async fn open(url: &str, token: Option<&str>) -> anyhow::Result<Self> {
        Ok(Self {
            socket: connect_ws(url, token).await?,
        })
    }

    /// Closes the WebSocket (close code 1000) and waits until the server has closed its
    /// side too.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.socket
            .close(None)
            .await
            .context("closing the WebSocket")?;
        tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await
        .map_err(|_| anyhow!("the server did not close the WebSocket in time"))
    }
}

impl Subscription {
    /// Connects, subscribes and returns once the server is listening for events.
    ///
    /// The protocol has no acknowledgement for `subscribe`, so this makes two `ping`
    /// round trips: the server handles a connection's messages in order, and it polls a
    /// new subscription (which is when it starts listening) before it reads the next
    /// message, so once the second `pong` is back the subscription is live and an event
    /// committed from now on reaches it.
    pub async fn start(
        url: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Self> {
        Self::start_with(url, token, query, variables, None).await
    }

    /// Like [`Subscription::start`], with the socket's receive buffer set to
    /// `recv_buffer` bytes (see `open_with`).
    pub async fn start_with(
        url: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
        recv_buffer: Option<u32>,
    ) -> anyhow::Result<Self> {
        let mut subscription =
            Self::send_subscribe(url, token, query, variables, recv_buffer).await?;
        for _ in 0..2 {
            subscription.round_trip().await?;
        }
        Ok(subscription)
    }

    /// Connects and sends `subscribe`, without waiting for anything.
    async fn send_subscribe(
        url: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
        recv_buffer: Option<u32>,
    ) -> anyhow::Result<Self> {
        let mut socket = connect_ws_with(url, token, recv_buffer).await?;
        send(
            &mut socket,
            json!({
                "id": SUBSCRIPTION_ID,
                "type": "subscribe",
                "payload": { "query": query, "variables": variables },
            }),
        )
        .await?;
        Ok(Self {
            socket,
            early: Default::default(),
        })
    }

    /// Connects, subscribes and returns the errors the server refused the subscription
    /// with, shaped like a response (`{"errors": [...]}`): from an `error` message, or
    /// from a `next` carrying errors (how async-graphql reports a resolver's refusal).
    /// A subscription that starts instead is an `Err`.
    pub async fn refusal(
        url: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut subscription = Self::send_subscribe(url, token, query, variables, None).await?;
        subscription
            .next_errors(HANDSHAKE_TIMEOUT)
            .await
            .context("the subscription was not refused")
    }

    /// The next protocol message (`next`, `error` or `complete`), whole. Pings are
    /// answered and pongs skipped; a closed socket or nothing within `timeout` is an `Err`.
    pub async fn next_message(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        tokio::time::timeout(timeout, async {
            loop {
                let message = receive(&mut self.socket).await?;
                match message["type"].as_str() {
                    Some("ping") => self.pong().await?,
                    Some("pong") => {}
                    _ => return Ok(message),
                }
            }
        })
        .await
        .map_err(|_| anyhow!("no message within {timeout:?}"))?
    }

    /// The errors the subscription answers next, shaped like a response
    /// (`{"errors": [...]}`): an `error` message, or a `next` carrying errors. Data,
    /// `complete`, a closed socket or nothing within `timeout` is an `Err`.
    pub async fn next_errors(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        let message = self.next_message(timeout).await?;
        match message["type"].as_str() {
            Some("error") => Ok(json!({ "errors": message["payload"] })),
            Some("next")
                if message["payload"]["errors"]
                    .as_array()
                    .is_some_and(|errors| !errors.is_empty()) =>
            {
                Ok(message["payload"].clone())
            }
            _ => bail!("expected errors, got {message}"),
        }
    }

    async fn round_trip(&mut self) -> anyhow::Result<()> {
        send(&mut self.socket, json!({ "type": "ping" })).await?;
        tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
            loop {
                let message = receive(&mut self.socket).await?;
                let has_errors = message["payload"]
                    .get("errors")
                    .is_some_and(|errors| !errors.is_null());
                match message["type"].as_str() {
                    Some("pong") => return Ok(()),
                    Some("ping") => self.pong().await?,
                    Some("next") if !has_errors => self.early.push_back(message),
                    // Anything else this early means the subscription was refused or ended.
                    _ => bail!("the subscription did not start: {message}"),
                }
            }
        })
        .await
        .context("no pong in time")?
    }

    /// The `payload.data` of the next `next` message. An `error` or `complete` message,
    /// a `next` carrying errors, a closed socket or no event within `timeout` is an `Err`.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        tokio::time::timeout(timeout, self.next_event())
            .await
            .map_err(|_| anyhow!("no event within {timeout:?}"))?
    }

    /// Waits `duration` and fails the test if any event arrives meanwhile. Only for proving
    /// an absence: to wait for something, use [`Subscription::next`].
    pub async fn expect_nothing(&mut self, duration: Duration) {
        if let Ok(event) = tokio::time::timeout(duration, self.next_event()).await {
            panic!("expected no event, got {event:?}");
        }
    }

    async fn next_event(&mut self) -> anyhow::Result<Value> {
        if let Some(early) = self.early.pop_front() {
            return Ok(early["payload"]["data"].clone());
        }
        loop {
            let message = receive(&mut self.socket).await?;
            match message["type"].as_str() {
                Some("next") => {
                    let payload = &message["payload"];
                    if payload
                        .get("errors")
                        .is_some_and(|errors| !errors.is_null())
                    {
                        bail!("the subscription answered errors: {payload}");
                    }
                    return Ok(payload["data"].clone());
                }
                Some("ping") => self.pong().await?,
                Some("pong") => {}
                Some("error") => bail!("the subscription failed: {}", message["payload"]),
                Some("complete") => bail!("the server completed the subscription"),
                _ => bail!("unexpected message: {message}"),
            }
        }
    }

    /// How the subscription ends within `timeout`: the errors it ends with, or the
    /// WebSocket closed under it. An event instead, or nothing in time, is an `Err`.
    pub async fn ending(&mut self, timeout: Duration) -> anyhow::Result<Ending> {
        tokio::time::timeout(timeout, async {
            loop {
                let frame = match self.socket.next().await {
                    None | Some(Err(_)) => return Ok(Ending::Closed(None)),
                    Some(Ok(frame)) => frame,
                };
                let text = match frame {
                    Message::Close(frame) => {
                        return Ok(Ending::Closed(Some(
                            frame.map_or(1005, |f| u16::from(f.code)),
                        )));
                    }
                    Message::Text(text) => text,
                    _ => continue,
                };
                let message: Value = serde_json::from_str(text.as_str())
                    .with_context(|| format!("a message that is not JSON: {text}"))?;
                match message["type"].as_str() {
                    Some("ping") => self.pong().await?,
                    Some("pong") => {}
                    Some("error") => {
                        return Ok(Ending::Errors(json!({ "errors": message["payload"] })));
                    }
                    Some("next")
                        if message["payload"]["errors"]
                            .as_array()
                            .is_some_and(|errors| !errors.is_empty()) =>
                    {
                        return Ok(Ending::Errors(message["payload"].clone()));
                    }
                    _ => bail!("expected the subscription to end, got {message}"),
                }
            }
        })
        .await
        .map_err(|_| anyhow!("the subscription did not end within {timeout:?}"))?
    }

    /// Reads (and drops) whatever is still coming until the server closes the WebSocket;
    /// the close frame's code, or `None` when the connection ended without one.
    pub async fn close_code(&mut self, timeout: Duration) -> anyhow::Result<Option<u16>> {
        tokio::time::timeout(timeout, async {
            loop {
                match self.socket.next().await {
                    None | Some(Err(_)) => return None,
                    Some(Ok(Message::Close(frame))) => {
                        return Some(frame.map_or(1005, |f| u16::from(f.code)));
                    }
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .map_err(|_| anyhow!("the WebSocket was not closed within {timeout:?}"))
    }

    async fn pong(&mut self) -> anyhow::Result<()> {
        send(&mut self.socket, json!({ "type": "pong" })).await
    }
}

async fn send(socket: &mut Socket, message: Value) -> anyhow::Result<()> {
    socket
        .send(Message::text(message.to_string()))
        .await
        .context("sending on the WebSocket")
}

/// The next protocol message, skipping WebSocket-level pings.
async fn receive(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let frame = socket
            .next()
            .await
            .ok_or_else(|| anyhow!("the server closed the WebSocket"))?
            .context("reading from the WebSocket")?;
        match frame {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str())
                    .with_context(|| format!("a message that is not JSON: {text}"));
            }
            Message::Close(close) => bail!("the server closed the WebSocket: {close:?}"),
            // tungstenite answers WebSocket pings by itself.
            _ => {}
        }
    }
}
