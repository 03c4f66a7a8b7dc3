//! Who said and did what in a conversation: a message's sender and source, the
//! conversation's activity (status changes, assignments, snoozes), and who has it open
//! or is replying in it now.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use entity::{conversation, conversation_activity, message};
use sea_orm::ActiveEnum;

use super::auth::Agent;
use super::loaders::{self, AgentId, Loaders};
use super::types::{ConversationStatus, PageInfo};
use crate::service::inbox::{Cursor, Slice};
use crate::service::{activity, viewers};
use crate::time::rfc3339;

/// Meta's Page Inbox (Business Suite and the Pages app) as the `app_id` of its echoes:
/// the id the Messenger Platform documentation gives for it.
pub const PAGE_INBOX_APP_ID: &str = "263902037430900";

/// An agent by id, through the request's DataLoader (null for one that is gone).
pub async fn agent(ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<Agent>> {
    let Some(id) = id else { return Ok(None) };
    let loaders = ctx.data::<Loaders>()?;
    Ok(loaders
        .load_one(AgentId(id))
        .await
        .map_err(loaders::internal)?
        .map(Agent))
}

/// Which tool sent an outbound message.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum EchoSourceKind {
    /// Sent from MessengerFlow (by an agent here, or by our app elsewhere).
    Messengerflow,
    /// Meta's Page Inbox: Business Suite, the Pages app, facebook.com.
    PageInbox,
    /// Another app connected to the Page.
    OtherApp,
}

/// Where an outbound message came from, with a label to show.
#[derive(SimpleObject)]
pub struct EchoSource {
    pub kind: EchoSourceKind,
    /// The sending app's Facebook id, when Facebook gave one.
    pub app_id: Option<String>,
    /// "MessengerFlow", "Facebook Page Inbox / Business Suite", "another app (id N)".
    pub label: String,
}

/// The source of an outbound message: ours when an agent sent it here or its echo
/// carries our app id, the Page Inbox for its app id or none at all (Facebook's own
/// tools; also what a history sync imports, which Facebook gives without an app id),
/// another app otherwise.
pub fn echo_source(message: &message::Model, own_app_id: Option<&str>) -> Option<EchoSource> {
    if message.direction != message::Direction::Outbound {
        return None;
    }
    let app_id = message.app_id.clone();
    let ours =
        message.agent_id.is_some() || own_app_id.is_some_and(|own| app_id.as_deref() == Some(own));
    let (kind, label) = match app_id.as_deref() {
        _ if ours => (EchoSourceKind::Messengerflow, "MessengerFlow".to_owned()),
        None | Some(PAGE_INBOX_APP_ID) => (
            EchoSourceKind::PageInbox,
            "Facebook Page Inbox / Business Suite".to_owned(),
        ),
        Some(other) => (
            EchoSourceKind::OtherApp,
            format!("another app (id {other})"),
        ),
    };
    Some(EchoSource {
        kind,
        app_id,
        label,
    })
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    /// The status changed (`fromStatus`, `toStatus`).
    Status,
    /// The assignee changed (`fromAssignee`, `toAssignee`; null: unassigned).
    Assignee,
    /// The snooze changed (`fromSnoozedUntil`, `toSnoozedUntil`; null: not snoozed).
    Snooze,
}

/// One change of a conversation: who made it (null: MessengerFlow itself, e.g. a snooze
/// waking or the customer writing to a resolved thread), when, from what, to what.
pub struct ConversationActivity {
    pub model: conversation_activity::Model,
    /// The event-log position that delivered it (subscriptions only).
    pub position: Option<i64>,
}

impl ConversationActivity {
    /// A stored status (an unknown one, which the server never writes, shows as none).
    fn status(value: Option<&str>) -> Option<ConversationStatus> {
        let stored = conversation::Status::try_from_value(&value?.to_owned()).ok()?;
        Some(stored.into())
    }

    fn agent_id(value: Option<&str>) -> Option<i64> {
        value.and_then(|v| v.parse().ok())
    }

    fn time(value: Option<&str>) -> Option<String> {
        value.and_then(|v| v.parse().ok()).map(rfc3339)
    }

    fn is(&self, kind: &str) -> bool {
        self.model.kind == kind
    }
}

#[Object]
impl ConversationActivity {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The event-log position that delivered it, through a subscription (null in queries).
    async fn position(&self) -> Option<String> {
        self.position.map(|p| p.to_string())
    }

    async fn conversation_id(&self) -> ID {
        ID(self.model.conversation_id.to_string())
    }

    async fn kind(&self) -> ActivityKind {
        match self.model.kind.as_str() {
            activity::ASSIGNEE => ActivityKind::Assignee,
            activity::SNOOZE => ActivityKind::Snooze,
            _ => ActivityKind::Status,
        }
    }

    /// The agent who made the change (an API token's changes are its creator's); null
    /// when MessengerFlow made it by itself.
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        agent(ctx, self.model.actor_id).await
    }

    /// When (RFC 3339, UTC).
    async fn created_at(&self) -> String {
        rfc3339(self.model.created_at)
    }

    #[graphql(name = "fromStatus")]
    async fn status_before(&self) -> Option<ConversationStatus> {
        self.is(activity::STATUS)
            .then(|| Self::status(self.model.from_value.as_deref()))
            .flatten()
    }

    #[graphql(name = "toStatus")]
    async fn status_after(&self) -> Option<ConversationStatus> {
        self.is(activity::STATUS)
            .then(|| Self::status(self.model.to_value.as_deref()))
            .flatten()
    }

    #[graphql(name = "fromAssignee")]
    async fn assignee_before(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        let id = self
            .is(activity::ASSIGNEE)
            .then(|| Self::agent_id(self.model.from_value.as_deref()))
            .flatten();
        agent(ctx, id).await
    }

    #[graphql(name = "toAssignee")]
    async fn assignee_after(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        let id = self
            .is(activity::ASSIGNEE)
            .then(|| Self::agent_id(self.model.to_value.as_deref()))
            .flatten();
        agent(ctx, id).await
    }

    /// SNOOZE: the until-time before (RFC 3339; null: it was not snoozed).
    #[graphql(name = "fromSnoozedUntil")]
    async fn snoozed_until_before(&self) -> Option<String> {
        self.is(activity::SNOOZE)
            .then(|| Self::time(self.model.from_value.as_deref()))
            .flatten()
    }

    /// SNOOZE: the until-time after (RFC 3339; null: no longer snoozed).
    #[graphql(name = "toSnoozedUntil")]
    async fn snoozed_until_after(&self) -> Option<String> {
        self.is(activity::SNOOZE)
            .then(|| Self::time(self.model.to_value.as_deref()))
            .flatten()
    }
}

#[derive(SimpleObject)]
pub struct ActivityEdge {
    pub cursor: String,
    pub node: ConversationActivity,
}

/// A conversation's activity, newest first.
#[derive(SimpleObject)]
pub struct ActivityConnection {
    pub edges: Vec<ActivityEdge>,
    pub page_info: PageInfo,
}

impl ActivityConnection {
    pub fn new(slice: Slice<conversation_activity::Model>, after_given: bool) -> Self {
        let edges: Vec<ActivityEdge> = slice
            .items
            .into_iter()
            .map(|a| ActivityEdge {
                cursor: Cursor {
                    time: a.created_at,
                    id: a.id,
                }
                .encode(),
                node: ConversationActivity {
                    model: a,
                    position: None,
                },
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: slice.more,
            has_previous_page: after_given,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info }
    }
}

/// What an agent is doing in a conversation.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConversationPresenceState {
    /// Has it open.
    Viewing,
    /// Is writing a reply in it.
    Typing,
    /// Left it (or stopped refreshing, and it expired).
    None,
}

impl From<viewers::State> for ConversationPresenceState {
    fn from(state: viewers::State) -> Self {
        match state {
            viewers::State::Viewing => Self::Viewing,
            viewers::State::Typing => Self::Typing,
            viewers::State::None => Self::None,
        }
    }
}

impl From<ConversationPresenceState> for viewers::State {
    fn from(state: ConversationPresenceState) -> Self {
        match state {
            ConversationPresenceState::Viewing => Self::Viewing,
            ConversationPresenceState::Typing => Self::Typing,
            ConversationPresenceState::None => Self::None,
        }
    }
}

/// An agent in a conversation, as other agents see it.
#[derive(SimpleObject)]
pub struct ConversationViewer {
    pub conversation_id: ID,
    pub agent: Agent,
    pub state: ConversationPresenceState,
}
