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

pub struct RedisBus {
    /// The channel all instances of one deployment share.
    channel: String,
    publisher: ConnectionManager,
    /// This instance's subscribers, fed by the channel reader.
    local: Arc<MemoryBus>,
    /// Whether the channel reader is subscribed right now.
    listening: Arc<AtomicBool>,
    _reader: tokio::task::JoinHandle<()>,
}

impl RedisBus {
    /// Connects (failing if Redis cannot be reached now) and starts the channel reader.
    pub async fn connect(url: &str, channel: &str) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let publisher = client
            .get_connection_manager()
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        let local = Arc::new(MemoryBus::new());
        let listening = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let reader = tokio::spawn(read_channel(
            client,
            channel.to_owned(),
            local.clone(),
            listening.clone(),
            Some(ready_tx),
        ));
        // Subscribed before the first publish, so this instance misses nothing of its own.
        let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
        Ok(Self {
            channel: channel.to_owned(),
            publisher,
            local,
            listening,
            _reader: reader,
        })
    }
}

/// Reads the channel forever, resubscribing after any failure with a capped backoff.
async fn read_channel(
    client: redis::Client,
    channel: String,
    local: Arc<MemoryBus>,
    listening: Arc<AtomicBool>,
    mut ready: Option<tokio::sync::oneshot::Sender<()>>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    listening.store(true, Ordering::SeqCst);
                    backoff = Duration::from_millis(100);
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                    tracing::info!("event bus: subscribed to Redis");
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        match serde_json::from_slice::<Vec<BusEvent>>(message.get_payload_bytes()) {
                            Ok(events) => {
                                let _ = local.publish(events).await;
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
        let payload =
            serde_json::to_vec(&events).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let mut connection = self.publisher.clone();
        connection
            .publish::<_, _, ()>(&self.channel, payload)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))
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
