//! The Redis bus: events cross instances through one Redis pub/sub channel. Every
//! instance, the publisher included, delivers what it reads back from the channel, so
//! all instances see the same order. Reconnects by itself when Redis goes away.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::memory::MemoryBus;
use super::{BusError, BusEvent, EventBus};
use crate::tasks::Tasks;

/// What goes over the channel: whose, which of its publishes, and the events.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    origin: u64,
    seq: u64,
    events: Vec<BusEvent>,
}

/// How long a publish waits to read its own message back.
const ECHO_TIMEOUT: Duration = Duration::from_secs(2);

pub struct RedisBus {
    /// The channel all instances of one deployment share.
    channel: String,
    publisher: ConnectionManager,
    /// This instance, to recognise its own messages coming back.
    origin: u64,
    next_seq: std::sync::atomic::AtomicU64,
    /// The highest of this instance's publishes read back from the channel.
    echoed: tokio::sync::watch::Receiver<u64>,
    /// This instance's subscribers, fed by the channel reader.
    local: Arc<MemoryBus>,
    /// Whether the channel reader is subscribed right now.
    listening: Arc<AtomicBool>,
}

impl RedisBus {
    /// Connects (failing if Redis cannot be reached now) and starts the channel reader in
    /// `tasks` (it reads until the group stops).
    pub async fn connect(url: &str, channel: &str, tasks: &Tasks) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let publisher = client
            .get_connection_manager()
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        let local = Arc::new(MemoryBus::new());
        let listening = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let mut origin = [0u8; 8];
        getrandom::fill(&mut origin).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let origin = u64::from_le_bytes(origin);
        let (echo_tx, echoed) = tokio::sync::watch::channel(0);
        let reader = read_channel(
            client,
            channel.to_owned(),
            Reader {
                local: local.clone(),
                listening: listening.clone(),
                origin,
                echoed: echo_tx,
            },
            Some(ready_tx),
        );
        let stop = tasks.stopping();
        tasks.spawn("redis-reader", async move {
            tokio::select! {
                () = reader => {}
                () = stop.cancelled() => {}
            }
        });
        // Subscribed before the first publish, so this instance misses nothing of its own.
        let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
        Ok(Self {
            channel: channel.to_owned(),
            publisher,
            origin,
            next_seq: std::sync::atomic::AtomicU64::new(1),
            echoed,
            local,
            listening,
        })
    }
}

/// What the channel reader feeds.
struct Reader {
    local: Arc<MemoryBus>,
    listening: Arc<AtomicBool>,
    origin: u64,
    echoed: tokio::sync::watch::Sender<u64>,
}

/// Reads the channel until its task stops, resubscribing after any failure with a capped backoff.
async fn read_channel(
    client: redis::Client,
    channel: String,
    reader: Reader,
    mut ready: Option<tokio::sync::oneshot::Sender<()>>,
) {
    let Reader {
        local,
        listening,
        origin,
        echoed,
    } = reader;
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    listening.store(true, Ordering::SeqCst);
                    backoff = Duration::from_millis(100);
                    match ready.take() {
                        Some(ready) => {
                            let _ = ready.send(());
                        }
                        // Whatever was published while this reader was away never
                        // reaches it: subscribers catch up from the event log.
                        None => {
                            let _ = local.publish(vec![BusEvent::Resync]).await;
                        }
                    }
                    tracing::info!("event bus: subscribed to Redis");
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        match serde_json::from_slice::<Envelope>(message.get_payload_bytes()) {
                            Ok(envelope) => {
                                let _ = local.publish(envelope.events).await;
                                if envelope.origin == origin {
                                    echoed.send_if_modified(|seen| {
                                        let newer = envelope.seq > *seen;
                                        if newer {
                                            *seen = envelope.seq;
                                        }
                                        newer
                                    });
                                }
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "event bus: unreadable message")
                            }
                        }
                    }
                    listening.store(false, Ordering::SeqCst);
                    tracing::warn!("event bus: lost the Redis subscription; reconnecting");
                }
                Err(err) => tracing::warn!(error = %err, "event bus: subscribing failed"),
            },
            Err(err) => tracing::warn!(error = %err, "event bus: Redis unreachable"),
        }
        listening.store(false, Ordering::SeqCst);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, events: Vec<BusEvent>) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let envelope = Envelope {
            origin: self.origin,
            seq,
            events,
        };
        let payload =
            serde_json::to_vec(&envelope).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let mut connection = self.publisher.clone();
        connection
            .publish::<_, _, ()>(&self.channel, payload)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        // Returns once this instance's own subscribers have the events, as the in-process
        // bus does: what a caller published before subscribing never arrives after.
        let mut echoed = self.echoed.clone();
        let wait = echoed.wait_for(|seen| *seen >= seq);
        if tokio::time::timeout(ECHO_TIMEOUT, wait).await.is_err() {
            tracing::warn!("event bus: a publish was not read back from Redis in time");
        }
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Arc<BusEvent>> {
        self.local.subscribe()
    }

    async fn health(&self) -> Result<(), BusError> {
        if !self.listening.load(Ordering::SeqCst) {
            return Err(BusError::Unavailable("not subscribed to Redis".to_owned()));
        }
        let mut connection = self.publisher.clone();
        let pong: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(BusError::Unavailable(format!(
                "unexpected PING answer {pong}"
            )))
        }
    }
}
