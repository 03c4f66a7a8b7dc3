//! The event bus: what changed, published after the database commit, to every
//! subscriber of this instance (in-process) or of all instances (Redis). Page changes
//! reach it from the committed event log (see `service::outbox`).
pub mod memory;
pub mod redis;

use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use entity::{conversation, conversation_activity, label, message, note, referral, saved_reply};

/// What travels on the bus.
// Each event is allocated once and shared behind an `Arc`, so the variants' sizes differing
// costs nothing per subscriber.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum BusEvent {
    /// A committed change of a Page, at its position in the Page's event log.
    Page(PageEvent),
    /// Access was withdrawn: subscriptions that used it end at once.
    AccessRevoked(Revocation),
    /// A history sync advanced or ended.
    SyncProgress(entity::sync_job::Model),
    /// An agent's presence changed.
    PresenceChanged {
        agent_id: i64,
        status: crate::service::presence::Status,
    },
    /// An agent opened, is replying in, or left a conversation (`service::viewers`). On
    /// the bus: what the agent set; from `Viewers::subscribe`: what others now see.
    ConversationPresence(crate::service::viewers::ViewerChange),
    /// This instance may have missed Page events (its bus connection was lost and is
    /// back): every subscriber reads what it missed from the event log.
    Resync,
    /// Never sent: a subscriber's own stream says it fell too far behind and lost events.
    Lagged,
}

/// One entry of a Page's event log, as subscribers receive it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageEvent {
    pub page_id: String,
    /// 1, 2, 3, ... within the Page, in commit order.
    pub position: i64,
    pub change: Change,
}

/// What changed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Change {
    /// A new message was stored.
    MessageAdded(message::Model),
    /// A stored message changed (status: delivered, read, sent, failed).
    MessageUpdated(message::Model),
    /// A conversation changed (new message, unread count, status, watermarks).
    ConversationUpdated(conversation::Model),
    /// A message row was merged into another that is the same Facebook message (an echo
    /// completed our reply while a sync had already imported it): drop message `id`.
    MessageRemoved { page_id: String, id: i64 },
    /// A conversation's status, assignee or snooze changed: who did it, from what, to what.
    ActivityAdded(conversation_activity::Model),
    /// A label of the Page was created or changed (name, colour).
    LabelChanged(label::Model),
    /// A label was deleted (and taken off every conversation): drop label `id`.
    LabelDeleted { page_id: String, id: i64 },
    /// An agent added a private note to a conversation (`service::notes`).
    NoteAdded(note::Model),
    /// A saved reply of the Page was created or changed (shortcut, text).
    SavedReplyChanged(saved_reply::Model),
    /// A saved reply was deleted: drop saved reply `id`.
    SavedReplyDeleted { page_id: String, id: i64 },
    /// Facebook said how a customer came to a conversation (an ad, an m.me link, the chat
    /// plugin).
    ReferralAdded(referral::Model),
}

impl Change {
    /// The Page the change belongs to.
    pub fn page_id(&self) -> &str {
        match self {
            Self::MessageAdded(m) | Self::MessageUpdated(m) => &m.page_id,
            Self::ConversationUpdated(c) => &c.page_id,
            Self::MessageRemoved { page_id, .. }
            | Self::LabelDeleted { page_id, .. }
            | Self::SavedReplyDeleted { page_id, .. } => page_id,
            Self::ActivityAdded(a) => &a.page_id,
            Self::LabelChanged(l) => &l.page_id,
            Self::NoteAdded(n) => &n.page_id,
            Self::SavedReplyChanged(r) => &r.page_id,
            Self::ReferralAdded(r) => &r.page_id,
        }
    }
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
            Self::Page(event) => Some(&event.page_id),
            Self::SyncProgress(job) => Some(&job.page_id),
            Self::ConversationPresence(change) => Some(&change.page_id),
            Self::AccessRevoked(_) | Self::PresenceChanged { .. } | Self::Resync | Self::Lagged => {
                None
            }
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

    /// Every event published from now on. Should this subscriber fall so far behind that
    /// events were lost, the stream says so with `Lagged` and ends.
    fn subscribe(&self) -> BoxStream<'static, Arc<BusEvent>>;

    /// Whether the bus can deliver (`/health`).
    async fn health(&self) -> Result<(), BusError>;
}
