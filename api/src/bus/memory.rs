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
