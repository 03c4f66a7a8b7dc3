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
}

/// Opens a WebSocket to `url` with the `graphql-transport-ws` subprotocol and waits for
/// the server's `connection_ack`.
pub async fn connect_ws(url: &str, token: Option<&str>) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request().context("building the request")?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(PROTOCOL));
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .context("opening the WebSocket")?;
    let accepted = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|value| value.to_str().ok());
    if accepted != Some(PROTOCOL) {
        bail!("the server accepted subprotocol {accepted:?}, not {PROTOCOL}");
    }
    send(
        &mut socket,
        json!({
            "type": "connection_init",
            "payload": token.map_or(json!({}), |t| json!({ "authorization": format!("Bearer {t}") })),
        }),
    )
    .await?;
    let ack = tokio::time::timeout(HANDSHAKE_TIMEOUT, receive(&mut socket))
        .await
        .context("no connection_ack in time")??;
    if ack["type"] != "connection_ack" {
        bail!("expected connection_ack, got {ack}");
    }
    Ok(socket)
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
        let mut socket = connect_ws(url, token).await?;
        send(
            &mut socket,
            json!({
                "id": SUBSCRIPTION_ID,
                "type": "subscribe",
                "payload": { "query": query, "variables": variables },
            }),
        )
        .await?;
        let mut subscription = Self { socket };
        for _ in 0..2 {
            subscription.round_trip().await?;
        }
        Ok(subscription)
    }

    async fn round_trip(&mut self) -> anyhow::Result<()> {
        send(&mut self.socket, json!({ "type": "ping" })).await?;
        tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
            loop {
                let message = receive(&mut self.socket).await?;
                match message["type"].as_str() {
                    Some("pong") => return Ok(()),
                    Some("ping") => self.pong().await?,
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
