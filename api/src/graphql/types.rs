//! The GraphQL object types, thin views over the stored models.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use entity::{conversation, message, page};

use super::auth::Agent;
use super::loaders::{self, AgentId, EventHead, Loaders, PageId};
use super::voices::{self, ActivityConnection, ConversationViewer, EchoSource};
use crate::facebook::events::Attachment as StoredAttachment;
use crate::service::inbox::{self, Cursor};
use crate::service::{activity, send};
use crate::state::AppState;
use crate::time::rfc3339;

/// A Facebook Page connected to (or seen by) MessengerFlow.
pub struct Page {
    id: String,
    loaded: Option<page::Model>,
}

impl Page {
    pub fn from_model(model: page::Model) -> Self {
        Self {
            id: model.id.clone(),
            loaded: Some(model),
        }
    }

    /// A Page known by id only; its other fields are read when asked for.
    pub fn by_id(id: String) -> Self {
        Self { id, loaded: None }
    }

    async fn model(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<page::Model>> {
        if let Some(model) = &self.loaded {
            return Ok(Some(model.clone()));
        }
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .load_one(PageId(self.id.clone()))
            .await
            .map_err(loaders::internal)?)
    }
}

#[Object]
impl Page {
    /// Facebook's Page id.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// Whether an access token is stored (replies and sync need one).
    async fn connected(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self
            .model(ctx)
            .await?
            .is_some_and(|p| p.access_token.is_some()))
    }

    /// Facebook refused the token (expired or revoked): an administrator must reconnect.
    async fn needs_reconnect(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.model(ctx).await?.is_some_and(|p| p.needs_reconnect))
    }

    /// The Page's latest event-log position ("0" before its first event). Subscribe with
    /// `after` set to it to receive every change from now on, even across reconnects.
    async fn event_position(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let loaders = ctx.data::<Loaders>()?;
        let head = loaders
            .load_one(EventHead(self.id.clone()))
            .await
            .map_err(loaders::internal)?;
        Ok(head.unwrap_or(0).to_string())
    }

    /// The Page's name, once known (from connecting it or a sync).
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if let Some(model) = &self.loaded {
            return Ok(model.name.clone());
        }
        Ok(self.model(ctx).await?.and_then(|p| p.name))
    }
}

/// The person writing to the Page.
#[derive(SimpleObject)]
pub struct Customer {
    /// The page-scoped id Facebook gives the customer.
    pub psid: ID,
    pub name: Option<String>,
    /// Profile picture URL (Facebook's URLs expire).
    pub picture_url: Option<String>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConversationStatus {
    Open,
    Pending,
    Resolved,
    Snoozed,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Pending => "PENDING",
            Self::Resolved => "RESOLVED",
            Self::Snoozed => "SNOOZED",
        }
    }

    pub(crate) fn parse(stored: &str) -> Self {
        match stored {
            "PENDING" => Self::Pending,
            "RESOLVED" => Self::Resolved,
            "SNOOZED" => Self::Snoozed,
            _ => Self::Open,
        }
    }
}

/// Whose conversations `conversations` lists.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned to the caller (for an API token: the agent who created it).
    Me,
    /// Assigned to nobody.
    Unassigned,
    /// Assigned to any agent.
    Assigned,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MessageDirection {
    /// From the customer to the Page.
    Inbound,
    /// From the Page to the customer (our sends and echoes of other tools').
    Outbound,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MessageStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl MessageStatus {
    fn parse(stored: &str) -> Self {
        match stored {
            "PENDING" => Self::Pending,
            "DELIVERED" => Self::Delivered,
            "READ" => Self::Read,
            "FAILED" => Self::Failed,
            _ => Self::Sent,
        }
    }
}

/// One customer's thread with a Page.
/// `.1`: the event-log position of the change that delivered it (subscriptions only).
pub struct Conversation(pub conversation::Model, pub Option<i64>);

impl From<conversation::Model> for Conversation {
    fn from(model: conversation::Model) -> Self {
        Self(model, None)
    }
}

#[Object]
impl Conversation {
    /// The event-log position of the change that delivered this conversation, when it came
    /// through a subscription (null in queries). Pass it as `after` to resume.
    async fn position(&self) -> Option<String> {
        self.1.map(|p| p.to_string())
    }

    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn page(&self) -> Page {
        Page::by_id(self.0.page_id.clone())
    }

    async fn customer(&self) -> Customer {
        Customer {
            psid: ID(self.0.psid.clone()),
            name: self.0.customer_name.clone(),
            picture_url: self.0.customer_picture.clone(),
        }
    }

    /// The newest message's text (or `[type]` for an attachment).
    async fn last_message_text(&self) -> Option<&str> {
        self.0.last_message_text.as_deref()
    }

    /// When the newest message was sent (RFC 3339, UTC).
    async fn last_timestamp(&self) -> String {
        rfc3339(self.0.last_timestamp)
    }

    /// Inbound messages since an agent last read the conversation.
    async fn unread_count(&self) -> i32 {
        self.0.unread_count
    }

    async fn status(&self) -> ConversationStatus {
        ConversationStatus::parse(&self.0.status)
    }

    /// While SNOOZED: when it wakes by itself, back to OPEN (RFC 3339, UTC). Null otherwise.
    async fn snoozed_until(&self) -> Option<String> {
        self.0.snoozed_until.map(rfc3339)
    }

    /// The agent working on it.
    async fn assignee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        let Some(id) = self.0.assignee_id else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .load_one(AgentId(id))
            .await
            .map_err(loaders::internal)?
            .map(Agent))
    }

    /// Until when a standard reply is allowed (24 hours after the customer's last message).
    async fn window_expires_at(&self) -> Option<String> {
        self.0
            .last_inbound_timestamp
            .map(|t| rfc3339(t.saturating_add(send::STANDARD_WINDOW_MS)))
    }

    /// Until when a human agent may still reply (7 days, HUMAN_AGENT tag).
    async fn human_agent_window_expires_at(&self) -> Option<String> {
        self.0
            .last_inbound_timestamp
            .map(|t| rfc3339(t.saturating_add(send::HUMAN_AGENT_WINDOW_MS)))
    }

    /// Status changes, assignments and snoozes, newest first: `first` (1 to 100) after
    /// the cursor `after`. Live: `pageEvents` delivers each as ACTIVITY_ADDED.
    #[graphql(complexity = "super::cost::connection(first, 20, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ActivityConnection> {
        let state = ctx.data::<AppState>()?;
        let after = after.as_deref().map(Cursor::decode).transpose()?;
        // This conversation reached the caller through `service::access`.
        let slice = activity::list(&state.db, self.0.id, first.unwrap_or(20), after).await?;
        Ok(ActivityConnection::new(slice, after.is_some()))
    }

    /// The agents who have it open or are replying in it now, on any instance (see
    /// `setConversationPresence`); live through `conversationPresence`.
    async fn viewers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ConversationViewer>> {
        let state = ctx.data::<AppState>()?;
        let mut found = Vec::new();
        for (agent_id, presence) in state.viewers.of_conversation(self.0.id) {
            if let Some(agent) = voices::agent(ctx, Some(agent_id)).await? {
                found.push(ConversationViewer {
                    conversation_id: ID(self.0.id.to_string()),
                    agent,
                    state: presence.into(),
                });
            }
        }
        Ok(found)
    }
}

/// An attachment: images, audio, video, files, stickers, locations...
#[derive(SimpleObject)]
pub struct Attachment {
    /// Facebook's attachment type, e.g. `image`, `file`, `location`.
    #[graphql(name = "type")]
    pub kind: String,
    pub url: Option<String>,
    pub title: Option<String>,
}

/// One message of a conversation.
/// `.1`: the event-log position of the change that delivered it (subscriptions only).
pub struct Message(pub message::Model, pub Option<i64>);

impl From<message::Model> for Message {
    fn from(model: message::Model) -> Self {
        Self(model, None)
    }
}

#[Object]
impl Message {
    /// The event-log position of the change that delivered this message, when it came
    /// through a subscription (null in queries). Pass it as `after` to resume.
    async fn position(&self) -> Option<String> {
        self.1.map(|p| p.to_string())
    }

    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Facebook's message id.
    async fn mid(&self) -> &str {
        &self.0.mid
    }

    async fn conversation_id(&self) -> ID {
        ID(self.0.conversation_id.to_string())
    }

    async fn direction(&self) -> MessageDirection {
        if self.0.direction == "OUTBOUND" {
            MessageDirection::Outbound
        } else {
            MessageDirection::Inbound
        }
    }

    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }

    async fn attachments(&self) -> Vec<Attachment> {
        let stored: Vec<StoredAttachment> = self
            .0
            .attachments
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        stored
            .into_iter()
            .map(|a| Attachment {
                kind: a.kind,
                url: a.url,
                title: a.title,
            })
            .collect()
    }

    /// When the message was sent (RFC 3339, UTC), Facebook's time.
    async fn timestamp(&self) -> String {
        rfc3339(self.0.timestamp)
    }

    async fn status(&self) -> MessageStatus {
        MessageStatus::parse(&self.0.status)
    }

    /// The payload of the quick reply the customer tapped.
    async fn quick_reply_payload(&self) -> Option<&str> {
        self.0.quick_reply_payload.as_deref()
    }

    /// The `mid` this message replies to.
    async fn reply_to_mid(&self) -> Option<&str> {
        self.0.reply_to_mid.as_deref()
    }

    /// Why it failed (FAILED only): OUTSIDE_MESSAGING_WINDOW, PAGE_NEEDS_RECONNECT,
    /// RATE_LIMITED or GRAPH_API_ERROR.
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }

    /// The sender's idempotency key, for messages sent from MessengerFlow.
    async fn client_mutation_id(&self) -> Option<&str> {
        self.0.client_mutation_id.as_deref()
    }

    /// For outbound messages: the app that sent it (Meta's Page Inbox is 263902037430900).
    async fn app_id(&self) -> Option<&str> {
        self.0.app_id.as_deref()
    }

    /// The agent who sent it from MessengerFlow (through an API token: the token's
    /// creator); null for inbound messages and for those sent from other tools.
    async fn sender(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        voices::agent(ctx, self.0.agent_id).await
    }

    /// For outbound messages: which tool sent it (MessengerFlow, the Page Inbox, another
    /// app), with a label to show; null for inbound messages.
    async fn echo_source(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<EchoSource>> {
        let state = ctx.data::<AppState>()?;
        Ok(voices::echo_source(
            &self.0,
            state.config.fb_app_id.as_deref(),
        ))
    }

    /// The message tag a reply from MessengerFlow was sent with: HUMAN_AGENT for one sent
    /// after the 24-hour window (within 7 days of the customer's last message); null for
    /// a standard reply, an inbound message or another tool's echo.
    async fn tag(&self) -> Option<&str> {
        self.0.tag.as_deref()
    }
}

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct ConversationEdge {
    pub cursor: String,
    pub node: Conversation,
}

/// A Page's conversations, newest first.
#[derive(SimpleObject)]
pub struct ConversationConnection {
    pub edges: Vec<ConversationEdge>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct MessageEdge {
    pub cursor: String,
    pub node: Message,
}

/// A conversation's messages, oldest first within the page.
#[derive(SimpleObject)]
pub struct MessageConnection {
    pub edges: Vec<MessageEdge>,
    pub page_info: PageInfo,
}

impl ConversationConnection {
    /// `by_window`: the "ending soon" order, whose cursors are of their own kind.
    pub fn new(
        slice: inbox::Slice<conversation::Model>,
        after_given: bool,
        by_window: bool,
    ) -> Self {
        let edges: Vec<ConversationEdge> = slice
            .items
            .into_iter()
            .map(|c| ConversationEdge {
                cursor: if by_window {
                    Cursor {
                        time: c.last_inbound_timestamp.unwrap_or(0),
                        id: c.id,
                    }
                    .encode_kind(inbox::WINDOW_CURSOR)
                } else {
                    Cursor {
                        time: c.last_timestamp,
                        id: c.id,
                    }
                    .encode()
                },
                node: Conversation::from(c),
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

impl MessageConnection {
    pub fn new(slice: inbox::Slice<message::Model>, before_given: bool) -> Self {
        let edges: Vec<MessageEdge> = slice
            .items
            .into_iter()
            .map(|m| MessageEdge {
                cursor: Cursor {
                    time: m.timestamp,
                    id: m.id,
                }
                .encode(),
                node: Message::from(m),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: before_given,
            has_previous_page: slice.more,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info }
    }
}

/// A history sync job.
pub struct SyncJob(pub entity::sync_job::Model);

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    Running,
    Done,
    Failed,
}

#[Object]
impl SyncJob {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn page_id(&self) -> ID {
        ID(self.0.page_id.clone())
    }

    async fn status(&self) -> SyncStatus {
        match self.0.status.as_str() {
            "DONE" => SyncStatus::Done,
            "FAILED" => SyncStatus::Failed,
            _ => SyncStatus::Running,
        }
    }

    /// Conversations imported so far.
    async fn conversations(&self) -> i32 {
        self.0.conversations
    }

    /// Messages imported so far (new or already stored).
    async fn messages(&self) -> i32 {
        self.0.messages
    }

    /// Conversations the job has to import: null while it counts them, then never lower
    /// while it runs (threads created meanwhile raise it); once DONE, equal to
    /// `conversations`. Progress is `conversations` out of `total`.
    async fn total(&self) -> Option<i32> {
        self.0.total
    }

    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    async fn started_at(&self) -> String {
        rfc3339(self.0.started_at)
    }

    async fn finished_at(&self) -> Option<String> {
        self.0.finished_at.map(rfc3339)
    }
}

/// What `syncConversations` imported.
#[derive(SimpleObject)]
pub struct SyncResult {
    pub conversations: i32,
    /// Messages seen (new or already stored).
    pub messages: i32,
    /// Messages stored for the first time.
    pub new_messages: i32,
}
