//! Stopping cleanly. On SIGTERM the server stops accepting connections and lets in-flight
//! requests finish with their real answer; long-lived connections (WebSockets) watch
//! [`Shutdown::requested`] to close themselves properly. Whatever still runs when the grace
//! period (`MF_SHUTDOWN_GRACE_SECS`) ends is abandoned, so the process always exits.
use std::sync::Arc;

use tokio::sync::watch;

/// Shared by everything that reacts to shutdown. Cheap to clone.
#[derive(Clone)]
pub struct Shutdown {
    requested: Arc<watch::Sender<bool>>,
    /// How many [`Hold`]s are alive: work the server waits for (within the grace period).
    holds: Arc<watch::Sender<usize>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            requested: Arc::new(watch::Sender::new(false)),
            holds: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Shutdown {
    /// Starts the shutdown (done by `Server::run_until` when its shutdown future completes).
    pub fn trigger(&self) {
        self.requested.send_replace(true);
    }

    /// Whether the shutdown has started.
    pub fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Completes once the shutdown has started (at once if it already has).
    pub async fn requested(&self) {
        let mut started = self.requested.subscribe();
        // The sender lives in `self`, so this only ends when the flag is set.
        let _ = started.wait_for(|started| *started).await;
    }

    /// Makes the server wait, within the grace period, until the returned value is dropped:
    /// for work outside any HTTP request, such as a WebSocket sending its close frame.
    pub fn hold(&self) -> Hold {
        self.holds.send_modify(|n| *n += 1);
        Hold(self.holds.clone())
    }

    /// Completes when no [`Hold`] is alive.
    pub async fn released(&self) {
        let mut holds = self.holds.subscribe();
        let _ = holds.wait_for(|n| *n == 0).await;
    }
}

/// See [`Shutdown::hold`].
pub struct Hold(Arc<watch::Sender<usize>>);

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::Shutdown;

    #[tokio::test]
    async fn released_waits_for_every_hold() {
        let shutdown = Shutdown::default();
        let first = shutdown.hold();
        let second = shutdown.hold();
        drop(first);
        let waiting = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.released().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(second);
        waiting.await.unwrap();
    }

    #[tokio::test]
    async fn requested_completes_once_triggered() {
        let shutdown = Shutdown::default();
        assert!(!shutdown.is_requested());
        let waiting = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.requested().await }
        });
        shutdown.trigger();
        waiting.await.unwrap();
        assert!(shutdown.is_requested());
    }
}
