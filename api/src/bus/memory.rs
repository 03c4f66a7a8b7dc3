//! The in-process bus: a broadcast channel. The embedded default for a single instance.
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::{BusError, BusEvent, EventBus};

/// How many events a subscriber may lag behind before it is cut off.
const CAPACITY: usize = 16_384;

pub struct MemoryBus {
    sender: broadcast::Sender<Arc<BusEvent>>,
}

impl MemoryBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self { sender }
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, events: Vec<BusEvent>) -> Result<(), BusError> {
        for event in events {
            // No receiver is not an error: nobody is watching.
            let _ = self.sender.send(Arc::new(event));
        }
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Arc<BusEvent>> {
        let lagged = Arc::new(BusEvent::Lagged);
        BroadcastStream::new(self.sender.subscribe())
            .scan(false, move |ended, item| {
                let next = match item {
                    _ if *ended => None,
                    Ok(event) => Some(event),
                    Err(_) => {
                        tracing::warn!("a subscriber fell too far behind and was cut off");
                        *ended = true;
                        Some(lagged.clone())
                    }
                };
                futures::future::ready(next)
            })
            .boxed()
    }

    async fn health(&self) -> Result<(), BusError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_so_and_its_stream_ends() {
        // Arrange
        let bus = MemoryBus::new();
        let mut stream = bus.subscribe();

        // Act: more than the channel holds, while the subscriber reads nothing.
        let events = (0..CAPACITY + 10).map(|_| BusEvent::Resync).collect();
        bus.publish(events).await.expect("publishing");

        // Assert
        let first = stream.next().await.expect("an item");
        assert!(matches!(*first, BusEvent::Lagged), "got {first:?}");
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_subscriber_that_keeps_up_gets_every_event() {
        // Arrange
        let bus = MemoryBus::new();
        let mut stream = bus.subscribe();

        // Act
        bus.publish(vec![BusEvent::Resync, BusEvent::Resync])
            .await
            .expect("publishing");

        // Assert
        for _ in 0..2 {
            let event = stream.next().await.expect("an event");
            assert!(matches!(*event, BusEvent::Resync));
        }
    }
}
