//! A minimal `graphql-transport-ws` subscriber.
use anyhow::{Context, bail};
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Subscriber {
    socket: Socket,
    /// `next` payloads that came before the pong (a resumed subscription replays at once).
    early: Vec<Value>,
}

impl Subscriber {
    /// Connects, is acknowledged, subscribes, and returns once the server has the
    /// subscription (a ping answered after the subscribe proves it was processed).
    pub async fn connect(url: &str, token: &str, query: &str) -> anyhow::Result<Self> {
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        // A small read buffer: tungstenite zero-fills it on every read (see api's http::graphql).
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
        send(
            &mut socket,
            json!({
                "type": "connection_init",
                "payload": { "authorization": format!("Bearer {token}") },
            }),
        )
        .await?;
        expect(&mut socket, "connection_ack").await?;
        send(
            &mut socket,
            json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
        )
        .await?;
        send(&mut socket, json!({"type": "ping"})).await?;
        let early = expect(&mut socket, "pong").await?;
        Ok(Self { socket, early })
    }

    /// The `data` of each `next` message.
    pub fn into_stream(self) -> BoxStream<'static, anyhow::Result<Value>> {
        let early = futures::stream::iter(self.early.into_iter().map(Ok));
        let rest = self.socket.filter_map(|frame| async move {
            let text = match frame {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(frame)) => {
                    return Some(Err(anyhow::anyhow!(
                        "the server closed the WebSocket: {frame:?}"
                    )));
                }
                Ok(_) => return None,
                Err(err) => return Some(Err(err.into())),
            };
            let value: Value = match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(err) => return Some(Err(err.into())),
            };
            match value["type"].as_str() {
                Some("next") => Some(Ok(value["payload"]["data"].clone())),
                Some("error") => Some(Err(anyhow::anyhow!("subscription error: {value}"))),
                _ => None,
            }
        });
        early.chain(rest).boxed()
    }
}

async fn send(socket: &mut Socket, value: Value) -> anyhow::Result<()> {
    socket.send(Message::text(value.to_string())).await?;
    Ok(())
}

/// Reads until a message of `kind`; returns the `data` of the `next` messages before it.
async fn expect(socket: &mut Socket, kind: &str) -> anyhow::Result<Vec<Value>> {
    let mut early = Vec::new();
    while let Some(frame) = socket.next().await {
        let frame = frame?;
        if let Message::Close(close) = &frame {
            bail!("the socket closed while waiting for {kind}: {close:?}");
        }
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).context("a frame that is not JSON")?;
            if value["type"] == kind {
                return Ok(early);
            }
            if value["type"] == "next" {
                early.push(value["payload"]["data"].clone());
            }
            if value["type"] == "ping" {
                send(socket, json!({"type": "pong"})).await?;
            }
        }
    }
    bail!("the socket closed while waiting for {kind}")
}
