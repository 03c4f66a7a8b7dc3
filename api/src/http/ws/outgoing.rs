//! What the server sends on one connection goes through a bounded queue drained by its
//! own writer: a client that stops reading fills only its own queue, and when that stays
//! full for `STALL_LIMIT` it is disconnected (4100) rather than slowing anyone down.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Sink, SinkExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;

use super::CLOSE_TOO_SLOW;
use crate::metrics::Metrics;

/// How long a connection's send queue may stay full (the client not reading) before the
/// client is disconnected with `CLOSE_TOO_SLOW`. Meanwhile only its own operations wait.
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// How long a close frame may wait for a client that is not reading (a paused laptop that
/// reads again within this still learns why it was closed).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection's side of the queue.
#[derive(Clone)]
pub(super) struct Outgoing {
    queue: mpsc::Sender<Message>,
    /// Cancelled to stop the writer at once, with `close` as its last word.
    stop: CancellationToken,
    close: Arc<Mutex<Option<CloseFrame>>>,
    metrics: Arc<Metrics>,
}

/// The writer's side: hand it to [`write_socket`].
pub(super) struct Queue {
    outgoing: mpsc::Receiver<Message>,
    stop: CancellationToken,
    close: Arc<Mutex<Option<CloseFrame>>>,
}

pub(super) fn queue(capacity: usize, metrics: Arc<Metrics>) -> (Outgoing, Queue) {
    let (queue, outgoing) = mpsc::channel(capacity.max(1));
    let stop = CancellationToken::new();
    let close: Arc<Mutex<Option<CloseFrame>>> = Arc::default();
    (
        Outgoing {
            queue,
            stop: stop.clone(),
            close: close.clone(),
            metrics,
        },
        Queue {
            outgoing,
            stop,
            close,
        },
    )
}

pub(super) fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    }
}

impl Outgoing {
    /// Queues a protocol message; false once the connection is closing (a stalled reader
    /// included: it has been told 4100).
    pub(super) async fn send(&self, message: &Value) -> bool {
        self.send_frame(Message::text(message.to_string())).await
    }

    pub(super) async fn send_frame(&self, message: Message) -> bool {
        if self.stop.is_cancelled() {
            return false;
        }
        let message = match self.queue.try_send(message) {
            Ok(()) => return true,
            Err(mpsc::error::TrySendError::Closed(_)) => return false,
            Err(mpsc::error::TrySendError::Full(message)) => message,
        };
        // Full: wait for the client to catch up, but not for ever.
        match tokio::time::timeout(STALL_LIMIT, self.queue.send(message)).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                tracing::warn!("a subscriber stopped reading; disconnecting it (4100)");
                self.metrics.ws_slow_disconnects.inc();
                self.metrics.ws_closed.with_label_values(&["4100"]).inc();
                self.abort(close_frame(
                    CLOSE_TOO_SLOW,
                    "too far behind: reconnect and resume with `after`",
                ));
                false
            }
        }
    }

    /// Closes after what is already queued; at once when the queue is full.
    pub(super) fn close(&self, frame: CloseFrame) {
        if let Err(mpsc::error::TrySendError::Full(Message::Close(frame))) =
            self.queue.try_send(Message::Close(Some(frame)))
        {
            self.abort(frame.unwrap_or_else(|| close_frame(1000, "")));
        }
    }

    /// Stops the writer at once; `frame` is its last word.
    pub(super) fn abort(&self, frame: CloseFrame) {
        if let Ok(mut slot) = self.close.lock() {
            slot.get_or_insert(frame);
        }
        self.stop.cancel();
    }
}

/// Sends what is queued until a close frame, the queue's end or `stop`; then the close
/// frame set by `abort`, if any, and closes the sink. Returns it, for the lingering close.
pub(super) async fn write_socket<S>(mut sink: S, queue: Queue) -> S
where
    S: Sink<Message> + Unpin,
{
    let Queue {
        mut outgoing,
        stop,
        close,
    } = queue;
    loop {
        let message = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            message = outgoing.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        let last = matches!(message, Message::Close(_));
        let sent = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            sent = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(message)) => {
                matches!(sent, Ok(Ok(())))
            }
        };
        if !sent || last {
            return sink;
        }
    }
    let frame = close.lock().ok().and_then(|mut slot| slot.take());
    if let Some(frame) = frame {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.close()).await;
    sink
}
