//! The event bus: what changed, published after the database commit, to every
//! subscriber of this instance (in-process) or of all instances (Redis, later).
pub mod memory;
pub mod redis;

use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use entity::{conversation, message};

/// One committed change that subscribers may want.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum BusEvent {
    /// A new message was stored.
    MessageAdded(message::Model),
    /// A stored message changed (status: delivered, read, sent, failed).
    MessageUpdated(message::Model),
    /// A conversation changed (new message, unread count, status, watermarks).
    ConversationUpdated(conversation::Model),
    /// Access was withdrawn: subscriptions that used it end at once.
    AccessRevoked(Revocation),
    /// A history sync advanced or ended.
    SyncProgress(entity::sync_job::Model),
    /// An agent's presence changed.
    PresenceChanged {
        agent_id: i64,
        status: crate::service::presence::Status,
    },
}

/// What a revocation covers; any field that is set matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Every credential of this agent (membership removed, agent disabled).
    pub agent_id: Option<i64>,
    pub session_id: Option<i64>,
    pub api_token_id: Option<i64>,
}

impl BusEvent {
    /// The Page the event belongs to: subscribers filter on it.
    pub fn page_id(&self) -> Option<&str> {
        match self {
            Self::MessageAdded(m) | Self::MessageUpdated(m) => Some(&m.page_id),
            Self::ConversationUpdated(c) => Some(&c.page_id),
            Self::SyncProgress(job) => Some(&job.page_id),
            Self::AccessRevoked(_) | Self::PresenceChanged { .. } => None,
        }
    }
}

/// Why the bus could not take or give an event.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
}

/// Owned by the app state, never global, so tests and instances each have their own.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    /// Hands committed events to every current subscriber.
    async fn publish(&self, events: Vec<BusEvent>) -> Result<(), BusError>;

    /// Every event published from now on. The stream ends if this subscriber falls so far
    /// behind that events would be lost; the subscriber then has to resubscribe.
    fn subscribe(&self) -> BoxStream<'static, Arc<BusEvent>>;

    /// Whether the bus can deliver (`/health`).
    async fn health(&self) -> Result<(), BusError>;
}
