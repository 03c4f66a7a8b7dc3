//! Tools for attacking the running server as a hostile client would, and for checking
//! that it held: a WebSocket driven message by message ([`Wire`]), the api process's
//! memory ([`Memory`]), and a well-behaved client beside the attack ([`Bystander`]).
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::webhook::{batch, message};
use crate::ws::{PROTOCOL, Subscription, init_payload};
use crate::{CUSTOMER, PAGE, T0, TIMEOUT, TestApp};

/// The legacy subprotocol (subscriptions-transport-ws).
pub const LEGACY_PROTOCOL: &str = "graphql-ws";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a WebSocket upgrade was answered.
pub enum Upgrade {
    Opened(Box<Wire>),
    /// Refused with this HTTP status.
    Refused(u16),
}

/// A WebSocket to the server that sends exactly what the test says, and reads every
/// message, so a test sees the protocol as the server speaks it.
pub struct Wire {
    socket: Socket,
    /// The close code, once a read met the close frame.
    closed: Option<Option<u16>>,
}

impl Wire {
    /// Opens a WebSocket offering `protocol`; a refused upgrade is an `Err`.
    pub async fn open(url: &str, protocol: &str) -> anyhow::Result<Self> {
        match Self::upgrade(url, protocol).await? {
            Upgrade::Opened(wire) => Ok(*wire),
            Upgrade::Refused(status) => bail!("the upgrade was refused with {status}"),
        }
    }

    /// Opens a WebSocket offering `protocol`, reporting a refusal's HTTP status.
    pub async fn upgrade(url: &str, protocol: &str) -> anyhow::Result<Upgrade> {
        let mut request = url.into_client_request().context("building the request")?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocol).context("a header value")?,
        );
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Upgrade::Opened(Box::new(Self {
                socket,
                closed: None,
            }))),
            Err(WsError::Http(response)) => Ok(Upgrade::Refused(response.status().as_u16())),
            Err(error) => Err(error).context("opening the WebSocket"),
        }
    }

    /// Opens a `graphql-transport-ws` WebSocket and has `connection_init` acknowledged.
    pub async fn initialised(url: &str, token: &str) -> anyhow::Result<Self> {
        let mut wire = Self::open(url, PROTOCOL).await?;
        wire.init(Some(token)).await?;
        Ok(wire)
    }

    /// Sends `connection_init` with `token` and waits for `connection_ack`.
    pub async fn init(&mut self, token: Option<&str>) -> anyhow::Result<()> {
        self.send(json!({ "type": "connection_init", "payload": init_payload(token) }))
            .await?;
        let ack = self.next(TIMEOUT).await?;
        if ack["type"] != "connection_ack" {
            bail!("expected connection_ack, got {ack}");
        }
        Ok(())
    }

    pub async fn send(&mut self, message: Value) -> anyhow::Result<()> {
        self.send_frame(Message::text(message.to_string())).await
    }

    pub async fn send_frame(&mut self, message: Message) -> anyhow::Result<()> {
        self.socket
            .send(message)
            .await
            .context("sending on the WebSocket")
    }

    /// Sends `subscribe` (or the legacy `start`) of operation `id`.
    pub async fn subscribe(
        &mut self,
        id: &str,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<()> {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await
    }

    /// The next protocol message. Protocol pings are answered, pongs and `ka` skipped; a
    /// close or nothing within `timeout` is an `Err`.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        self.next_including_keep_alive(timeout, false).await
    }

    /// Like [`Wire::next`], but a server `ping` or `ka` is returned too.
    pub async fn next_including_keep_alive(
        &mut self,
        timeout: Duration,
        keep_alive: bool,
    ) -> anyhow::Result<Value> {
        tokio::time::timeout(timeout, async {
            loop {
                let frame = self
                    .socket
                    .next()
                    .await
                    .ok_or_else(|| anyhow!("the server closed the WebSocket"))?
                    .context("reading from the WebSocket")?;
                let text = match frame {
                    Message::Text(text) => text,
                    Message::Close(close) => {
                        self.closed = Some(close.as_ref().map(|f| u16::from(f.code)));
                        bail!("the server closed the WebSocket: {close:?}")
                    }
                    _ => continue,
                };
                let message: Value = serde_json::from_str(text.as_str())
                    .with_context(|| format!("a message that is not JSON: {text}"))?;
                match message["type"].as_str() {
                    Some("ping" | "ka") if keep_alive => return Ok(message),
                    Some("ping") => self.send(json!({ "type": "pong" })).await?,
                    Some("pong" | "ka") => {}
                    _ => return Ok(message),
                }
            }
        })
        .await
        .map_err(|_| anyhow!("no message within {timeout:?}"))?
    }

    /// Sends a ping and waits for its pong: the connection is open and served.
    pub async fn round_trip(&mut self) -> anyhow::Result<()> {
        self.send(json!({ "type": "ping" })).await?;
        tokio::time::timeout(TIMEOUT, async {
            loop {
                let frame = self.socket.next().await.context("the connection ended")??;
                if let Message::Text(text) = frame {
                    let message: Value = serde_json::from_str(text.as_str())?;
                    if message["type"] == "pong" {
                        return Ok(());
                    }
                }
            }
        })
        .await
        .context("no pong in time")?
    }

    /// Reads (and drops) everything until the server closes; its close code (`None` when
    /// the connection ended without a close frame).
    pub async fn close_code(&mut self, timeout: Duration) -> anyhow::Result<Option<u16>> {
        if let Some(code) = self.closed {
            return Ok(code);
        }
        read_close_code(&mut self.socket, timeout).await
    }

    /// Sends one text message of about `size` bytes in fragments of `fragment` bytes: a
    /// `ping` whose payload is a list of zeros. Meanwhile it reads, and returns the close
    /// code as soon as the server closes (the rest is not sent then); `None` when the
    /// connection ended without one. An `Err` when all was sent and nothing closed it.
    pub async fn fragmented_ping(
        self,
        size: usize,
        fragment: usize,
        timeout: Duration,
    ) -> anyhow::Result<Option<u16>> {
        let (mut sink, mut stream) = self.socket.split();
        let sending = async move {
            let zeros = ",0".repeat(fragment / 2);
            let first = Frame::message(
                r#"{"type":"ping","payload":[0"#,
                OpCode::Data(Data::Text),
                false,
            );
            sink.send(Message::Frame(first)).await?;
            let mut sent = 0;
            while sent < size {
                let frame = Frame::message(zeros.clone(), OpCode::Data(Data::Continue), false);
                sink.send(Message::Frame(frame)).await?;
                sent += zeros.len();
            }
            let last = Frame::message("]}", OpCode::Data(Data::Continue), true);
            sink.send(Message::Frame(last)).await?;
            // All sent and not closed: wait for the reader's verdict.
            futures::future::pending::<()>().await;
            Ok::<(), WsError>(())
        };
        let closing = async move {
            loop {
                match stream.next().await {
                    None | Some(Err(_)) => return None,
                    Some(Ok(Message::Close(frame))) => {
                        return Some(frame.map_or(1005, |f| u16::from(f.code)));
                    }
                    Some(Ok(_)) => {}
                }
            }
        };
        tokio::time::timeout(timeout, async {
            tokio::select! {
                code = closing => Ok(code),
                sent = sending => match sent {
                    // The server stopped the connection while we were still sending.
                    Err(_) => Ok(None),
                    Ok(()) => Err(anyhow!("unreachable: the sender waits")),
                },
            }
        })
        .await
        .map_err(|_| anyhow!("the server neither closed nor refused within {timeout:?}"))?
    }
}

async fn read_close_code(socket: &mut Socket, timeout: Duration) -> anyhow::Result<Option<u16>> {
    tokio::time::timeout(timeout, async {
        loop {
            match socket.next().await {
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

/// The memory of a process, from `/proc/<pid>/status`.
pub struct Memory {
    pid: u32,
    before_kib: u64,
}

impl Memory {
    /// Starts watching `pid`: what it holds now is the baseline, and its peak is reset
    /// to it (`clear_refs`), so start-up does not count.
    pub fn watch(pid: u32) -> Self {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        Self {
            pid,
            before_kib: status_kib(pid, "VmRSS:"),
        }
    }

    /// How much the process's peak resident memory (VmHWM) rose above the baseline, MiB.
    pub fn peak_growth_mib(&self) -> u64 {
        status_kib(self.pid, "VmHWM:").saturating_sub(self.before_kib) / 1024
    }

    /// Asserts that the peak stayed within `mib` of the baseline.
    pub fn assert_peak_within(&self, mib: u64, during: &str) {
        let growth = self.peak_growth_mib();
        assert!(
            growth <= mib,
            "the api's peak memory rose {growth} MiB during {during} (at most {mib} MiB allowed)"
        );
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|error| panic!("reading /proc/{pid}/status: {error}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

const PAGE_EVENTS: &str =
    "subscription($p: ID!) { pageEvents(pageId: $p) { kind message { mid } } }";

/// A well-behaved client during an attack: the administrator's inbox, subscribed to
/// `PAGE`'s events on its own connection.
pub struct Bystander {
    subscription: Subscription,
    served: usize,
}

impl Bystander {
    pub async fn join(app: &TestApp) -> Self {
        Self {
            subscription: app.subscribe(PAGE_EVENTS, json!({ "p": PAGE })).await,
            served: 0,
        }
    }

    /// Its query answers, and a customer's new message reaches its subscription.
    pub async fn is_served(&mut self, app: &TestApp) {
        let me = app.gql_data("{ me { id } }", json!({})).await;
        assert!(me["me"]["id"].is_string(), "{me:#}");
        self.served += 1;
        let mid = format!("bystander-{}", self.served);
        app.ingest(&batch(
            PAGE,
            [message(
                PAGE,
                CUSTOMER,
                &mid,
                "still there?",
                T0 + self.served as i64,
            )],
        ))
        .await;
        loop {
            let event = self
                .subscription
                .next(TIMEOUT)
                .await
                .expect("the bystander's subscription receives the new message");
            if event["pageEvents"]["message"]["mid"] == mid.as_str() {
                return;
            }
        }
    }
}
