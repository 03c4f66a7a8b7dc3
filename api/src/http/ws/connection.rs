//! One WebSocket, from upgrade to close: `connection_init` within the deadline, then each
//! operation authorised and charged as on HTTP, keep-alive both ways, and the close code
//! that tells the client what to do.
use std::borrow::Cow;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::ErrorExtensions;
use futures::stream::{self, BoxStream, SplitStream};
use futures::{FutureExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_stream::StreamMap;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::budget::Budget;
use super::outgoing::{self, Outgoing, close_frame};
use super::protocol::{ClientMessage, Protocol};
use super::seats::Seats;
use super::session::{Session, ended};
use super::{
    CLOSE_BAD_MESSAGE, CLOSE_DUPLICATE_ID, CLOSE_FORBIDDEN, CLOSE_GOING_AWAY, CLOSE_IDLE,
    CLOSE_INIT_TIMEOUT, CLOSE_TOO_BIG, CLOSE_TOO_MANY, CLOSE_UNAUTHORIZED, KEEP_ALIVE_EVERY,
};
use crate::graphql::{AppSchema, ClientIp, publish_presence};
use crate::http::graphql::with_codes;
use crate::service::auth::{self, Credential};
use crate::state::AppState;

/// After a revocation, how long the connection's operations get to end by themselves
/// (with UNAUTHENTICATED) before it is closed (4403) anyway.
const REVOKED_GRACE: Duration = Duration::from_secs(1);

/// What a connection needs; [`Connection::serve`] runs it.
pub(super) struct Connection {
    pub state: AppState,
    pub schema: AppSchema,
    pub protocol: Protocol,
    /// The client's address (from a trusted proxy's `X-Forwarded-For`, if any).
    pub peer: IpAddr,
    pub seats: Arc<Seats>,
    pub budget: Arc<Budget>,
}

/// Each operation's results, then `None` when it is complete.
type Operations = StreamMap<String, BoxStream<'static, Option<async_graphql::Response>>>;

/// How handling one step went.
pub(super) enum Verdict {
    Continue,
    /// Close with this code and reason.
    Close(u16, Cow<'static, str>),
    /// The client left (or the socket broke): nothing more to say.
    End,
}

pub(super) fn close(code: u16, reason: &'static str) -> Verdict {
    Verdict::Close(code, Cow::Borrowed(reason))
}

enum Step {
    Verdict(Verdict),
    Revoked,
    Frame(Option<Result<Message, WsError>>),
    Result(String, Option<async_graphql::Response>),
    KeepAlive,
}

impl Connection {
    /// Serves the socket until it closes; returns it, for the lingering close.
    pub(super) async fn serve<S>(self, socket: WebSocketStream<S>) -> Option<WebSocketStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (sink, mut incoming) = socket.split();
        let (out, queue) =
            outgoing::queue(self.state.config.ws_send_queue, self.state.metrics.clone());
        self.state.metrics.ws_connections.inc();
        let mut session = None;
        let reader = async {
            let verdict = self.run(&mut incoming, &out, &mut session).await;
            if let Verdict::Close(code, reason) = verdict {
                self.state
                    .metrics
                    .ws_closed
                    .with_label_values(&[&code.to_string()])
                    .inc();
                if code == CLOSE_GOING_AWAY {
                    out.abort(close_frame(code, &reason));
                } else {
                    out.close(close_frame(code, &reason));
                }
            }
            // Whatever ended the reading side, the writer finishes what is queued and stops.
            drop(out);
        };
        let (sink, ()) = tokio::join!(outgoing::write_socket(sink, queue), reader);
        self.state.metrics.ws_connections.dec();
        if let Some(agent_id) = session.and_then(|s: Session| s.online)
            && let Some(status) = self.state.presence.disconnected(agent_id)
        {
            publish_presence(&self.state, agent_id, status).await;
        }
        sink.reunite(incoming).ok()
    }

    /// Reads the socket and every operation's results until the connection must end, and
    /// says how.
    async fn run<S>(
        &self,
        incoming: &mut SplitStream<WebSocketStream<S>>,
        out: &Outgoing,
        session: &mut Option<Session>,
    ) -> Verdict
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let config = &self.state.config;
        let idle_limit = Duration::from_secs(config.ws_idle_timeout_secs.max(1));
        let init_deadline = tokio::time::sleep(Duration::from_secs(config.ws_init_timeout_secs));
        let idle = tokio::time::sleep(idle_limit);
        // Made once, not per message: the loop below turns once per event delivered.
        let shutdown = self.state.shutdown.cancelled();
        let exhausted = self.budget.exhausted();
        tokio::pin!(init_deadline, idle, shutdown, exhausted);
        let ping_every = keep_alive_interval(idle_limit);
        let mut keep_alive = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut operations = Operations::new();
        // Once the credential ended: when the connection closes (4403) even if some
        // operation has not ended by itself (with UNAUTHENTICATED) by then.
        let mut revoked: Option<Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            if revoked.is_some() && operations.is_empty() {
                return close(CLOSE_FORBIDDEN, "Forbidden");
            }
            let ready = session.is_some();
            let step = tokio::select! {
                () = &mut shutdown => Step::Verdict(close(
                    CLOSE_GOING_AWAY,
                    "server shutting down: reconnect and resume",
                )),
                () = &mut exhausted, if !ready => Step::Verdict(close(
                    CLOSE_TOO_BIG,
                    "too much sent before connection_init",
                )),
                () = &mut init_deadline, if !ready => Step::Verdict(close(
                    CLOSE_INIT_TIMEOUT,
                    "Connection initialisation timeout",
                )),
                () = &mut idle => Step::Verdict(close(CLOSE_IDLE, "timeout")),
                () = ended(session), if ready && revoked.is_none() => Step::Revoked,
                () = grace_over(&mut revoked) => Step::Verdict(close(CLOSE_FORBIDDEN, "Forbidden")),
                Some((id, result)) = operations.next(), if !operations.is_empty() => {
                    Step::Result(id, result)
                }
                frame = incoming.next() => Step::Frame(frame),
                _ = keep_alive.tick() => Step::KeepAlive,
            };
            let verdict = match step {
                Step::Verdict(verdict) => verdict,
                Step::Revoked => {
                    // Its subscriptions see the revocation too: they end with
                    // UNAUTHENTICATED, then the connection closes.
                    revoked = Some(Box::pin(tokio::time::sleep(REVOKED_GRACE)));
                    Verdict::Continue
                }
                Step::Result(id, result) => self.deliver(out, &id, result).await,
                Step::KeepAlive => {
                    if ready && last_heard.elapsed() >= ping_every {
                        self.keep_alive(out).await
                    } else {
                        Verdict::Continue
                    }
                }
                Step::Frame(frame) => {
                    last_heard = Instant::now();
                    idle.as_mut().reset(last_heard + idle_limit);
                    let ended = revoked.is_some();
                    self.on_frame(frame, out, session, &mut operations, ended)
                        .await
                }
            };
            if !matches!(verdict, Verdict::Continue) {
                return verdict;
            }
        }
    }

    /// What the client sent: a message to act on, a sign of life, or the end.
    async fn on_frame(
        &self,
        frame: Option<Result<Message, WsError>>,
        out: &Outgoing,
        session: &mut Option<Session>,
        operations: &mut Operations,
        revoked: bool,
    ) -> Verdict {
        match frame {
            Some(Err(WsError::Capacity(_))) => close(CLOSE_TOO_BIG, "message too big"),
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Verdict::End,
            Some(Ok(Message::Text(text))) => {
                self.on_message(text.as_bytes(), out, session, operations, revoked)
                    .await
            }
            Some(Ok(Message::Binary(bytes))) => {
                self.on_message(&bytes, out, session, operations, revoked)
                    .await
            }
            // Pings, pongs: signs of life, answered by tungstenite.
            Some(Ok(_)) => Verdict::Continue,
        }
    }

    async fn on_message(
        &self,
        bytes: &[u8],
        out: &Outgoing,
        session: &mut Option<Session>,
        operations: &mut Operations,
        revoked: bool,
    ) -> Verdict {
        let Ok(message) = serde_json::from_slice::<ClientMessage>(bytes) else {
            return close(CLOSE_BAD_MESSAGE, "Invalid message received");
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if session.is_some() {
                    return close(CLOSE_TOO_MANY, "Too many initialisation requests");
                }
                match Session::start(self, payload).await {
                    Ok(started) => {
                        *session = Some(started);
                        let mut sent = out.send(&json!({ "type": "connection_ack" })).await;
                        if self.protocol == Protocol::Legacy {
                            sent = sent && out.send(&self.protocol.keep_alive()).await;
                        }
                        if sent {
                            Verdict::Continue
                        } else {
                            Verdict::End
                        }
                    }
                    Err(refusal) => {
                        if self.protocol == Protocol::Legacy
                            && let Verdict::Close(_, reason) = &refusal
                        {
                            let error = json!({
                                "type": "connection_error",
                                "payload": { "message": reason },
                            });
                            out.send(&error).await;
                        }
                        refusal
                    }
                }
            }
            ClientMessage::Subscribe { id, payload } => match session {
                None => close(CLOSE_UNAUTHORIZED, "Unauthorized"),
                Some(_) if revoked => close(CLOSE_FORBIDDEN, "Forbidden"),
                Some(session) => self.subscribe(out, session, operations, id, *payload).await,
            },
            ClientMessage::Complete { id } => {
                if operations.remove(&id).is_some() && self.protocol == Protocol::Legacy {
                    return self.send_or_end(out, &self.protocol.complete(&id)).await;
                }
                Verdict::Continue
            }
            ClientMessage::ConnectionTerminate => Verdict::End,
            ClientMessage::Ping { payload } => {
                let pong = match payload {
                    Some(payload) => json!({ "type": "pong", "payload": payload }),
                    None => json!({ "type": "pong" }),
                };
                self.send_or_end(out, &pong).await
            }
            ClientMessage::Pong { .. } => Verdict::Continue,
        }
    }

    /// Starts operation `id` as the credential is now: closes (4403) when it no longer
    /// is valid, refuses it (an `error` message) over a cap or the rate limit.
    async fn subscribe(
        &self,
        out: &Outgoing,
        session: &mut Session,
        operations: &mut Operations,
        id: String,
        request: async_graphql::Request,
    ) -> Verdict {
        if operations.contains_key(&id) {
            return Verdict::Close(
                CLOSE_DUPLICATE_ID,
                format!("Subscriber for {id} already exists").into(),
            );
        }
        let max = self.state.config.ws_max_subscriptions;
        if operations.len() >= max {
            let refusal = json!([{
                "message": format!("at most {max} operations at once on one connection"),
                "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" },
            }]);
            return self.refuse(out, &id, refusal).await;
        }
        let principal = match auth::authenticate(&self.state.db, session.token.expose()).await {
            Ok(Some(principal)) => principal,
            Ok(None) => return close(CLOSE_FORBIDDEN, "Forbidden"),
            Err(err) => return self.refuse(out, &id, json!([err.extend()])).await,
        };
        if let Credential::ApiToken { id: token } = principal.credential
            && let Err(err) = self.state.limits.api_call(token)
        {
            return self.refuse(out, &id, json!([err.extend()])).await;
        }
        session.principal = principal.clone();
        let request = request.data(principal).data(ClientIp(self.peer));
        let mut results = self
            .schema
            .execute_stream(request)
            .map(|response| Some(with_codes(response)))
            .chain(stream::once(async { None }))
            .boxed();
        // Polled once now, so that a subscription is listening before the next message
        // is read (a client's `ping` after `subscribe` then proves it is live).
        match results.next().now_or_never() {
            Some(Some(result)) => {
                let verdict = self.deliver(out, &id, result).await;
                if !matches!(verdict, Verdict::Continue) {
                    return verdict;
                }
                operations.insert(id, results);
            }
            Some(None) => {}
            None => {
                operations.insert(id, results);
            }
        }
        Verdict::Continue
    }

    /// One result of operation `id`, or its end.
    async fn deliver(
        &self,
        out: &Outgoing,
        id: &str,
        result: Option<async_graphql::Response>,
    ) -> Verdict {
        let message = match result {
            Some(response) => self.protocol.next(id, &response),
            None => self.protocol.complete(id),
        };
        self.send_or_end(out, &message).await
    }

    async fn refuse(&self, out: &Outgoing, id: &str, errors: Value) -> Verdict {
        self.send_or_end(out, &self.protocol.error(id, errors))
            .await
    }

    async fn keep_alive(&self, out: &Outgoing) -> Verdict {
        if self.protocol == Protocol::Legacy
            && !out.send_frame(Message::Ping(Default::default())).await
        {
            return Verdict::End;
        }
        self.send_or_end(out, &self.protocol.keep_alive()).await
    }

    async fn send_or_end(&self, out: &Outgoing, message: &Value) -> Verdict {
        if out.send(message).await {
            Verdict::Continue
        } else {
            Verdict::End
        }
    }
}

/// Resolves when the grace after a revocation is over; never before one.
async fn grace_over(revoked: &mut Option<Pin<Box<tokio::time::Sleep>>>) {
    match revoked {
        Some(sleep) => sleep.await,
        None => futures::future::pending().await,
    }
}

/// How often a quiet connection is pinged: well inside the idle timeout, so a live
/// client's answer always comes in time.
fn keep_alive_interval(idle: Duration) -> Duration {
    (idle / 3).clamp(Duration::from_millis(500), KEEP_ALIVE_EVERY)
}
