//! A conversation, and the inbox's pages of them.
use async_graphql::{Context, ID, Object, SimpleObject};

use entity::conversation;

use super::{ConversationStatus, Customer, NoteConnection, Page, PageInfo};
use crate::graphql::auth::Agent;
use crate::graphql::labels::Label;
use crate::graphql::loaders::{self, AgentId, ConversationLabels, Loaders};
use crate::graphql::voices::{self, ActivityConnection, ConversationViewer};
use crate::service::inbox::{self, Cursor};
use crate::service::{activity, notes, send};
use crate::state::AppState;
use crate::time::rfc3339;

/// One customer's thread with a Page.
pub struct Conversation {
    pub model: conversation::Model,
    /// The event-log position of the change that delivered it (subscriptions only).
    pub position: Option<i64>,
}

impl From<conversation::Model> for Conversation {
    fn from(model: conversation::Model) -> Self {
        Self {
            model,
            position: None,
        }
    }
}

#[Object]
impl Conversation {
    /// The event-log position of the change that delivered this conversation, when it came
    /// through a subscription (null in queries). Pass it as `after` to resume.
    async fn position(&self) -> Option<String> {
        self.position.map(|p| p.to_string())
    }

    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn page(&self) -> Page {
        Page::by_id(self.model.page_id.clone())
    }

    async fn customer(&self) -> Customer {
        Customer {
            psid: ID(self.model.psid.clone()),
            name: self.model.customer_name.clone(),
            picture_url: self.model.customer_picture.clone(),
        }
    }

    /// The newest message's text (or `[type]` for an attachment).
    async fn last_message_text(&self) -> Option<&str> {
        self.model.last_message_text.as_deref()
    }

    /// When the newest message was sent (RFC 3339, UTC).
    async fn last_timestamp(&self) -> String {
        rfc3339(self.model.last_timestamp)
    }

    /// Inbound messages since an agent last read the conversation.
    async fn unread_count(&self) -> i32 {
        self.model.unread_count
    }

    async fn status(&self) -> ConversationStatus {
        self.model.status.into()
    }

    /// While SNOOZED: when it wakes by itself, back to OPEN (RFC 3339, UTC). Null otherwise.
    async fn snoozed_until(&self) -> Option<String> {
        self.model.snoozed_until.map(rfc3339)
    }

    /// The agent working on it.
    async fn assignee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        let Some(id) = self.model.assignee_id else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .load_one(AgentId(id))
            .await
            .map_err(loaders::internal)?
            .map(Agent))
    }

    /// Its labels, by name (`setConversationLabels` changes them).
    async fn labels(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Label>> {
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .load_one(ConversationLabels(self.model.id))
            .await
            .map_err(loaders::internal)?
            .unwrap_or_default()
            .into_iter()
            .map(Label)
            .collect())
    }

    /// Until when a standard reply is allowed (24 hours after the customer's last message).
    async fn window_expires_at(&self) -> Option<String> {
        self.model
            .last_inbound_timestamp
            .map(|t| rfc3339(t.saturating_add(send::STANDARD_WINDOW_MS)))
    }

    /// Until when a human agent may still reply (7 days, HUMAN_AGENT tag).
    async fn human_agent_window_expires_at(&self) -> Option<String> {
        self.model
            .last_inbound_timestamp
            .map(|t| rfc3339(t.saturating_add(send::HUMAN_AGENT_WINDOW_MS)))
    }

    /// Status changes, assignments and snoozes, newest first: `first` (1 to 100) after
    /// the cursor `after`. Live: `pageEvents` delivers each as ACTIVITY_ADDED.
    #[graphql(complexity = "crate::graphql::cost::connection(first, 20, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ActivityConnection> {
        let state = ctx.data::<AppState>()?;
        let after = after.as_deref().map(Cursor::decode).transpose()?;
        // This conversation reached the caller through `service::access`.
        let slice = activity::list(&state.db, self.model.id, first.unwrap_or(20), after).await?;
        Ok(ActivityConnection::new(slice, after.is_some()))
    }

    /// Private notes (never sent to the customer): the `last` (1 to 100) before the cursor
    /// `before`, oldest first within the page. Live: `pageEvents` delivers each new one as
    /// NOTE_ADDED.
    #[graphql(complexity = "crate::graphql::cost::connection(last, 50, child_complexity)")]
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<NoteConnection> {
        let state = ctx.data::<AppState>()?;
        let before = before.as_deref().map(Cursor::decode).transpose()?;
        // This conversation reached the caller through `service::access`.
        let slice = notes::list(&state.db, self.model.id, last.unwrap_or(50), before).await?;
        Ok(NoteConnection::new(slice, before.is_some(), true))
    }

    /// The agents who have it open or are replying in it now, on any instance (see
    /// `setConversationPresence`); live through `conversationPresence`.
    async fn viewers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ConversationViewer>> {
        let state = ctx.data::<AppState>()?;
        let mut found = Vec::new();
        for (agent_id, presence) in state.viewers.of_conversation(self.model.id) {
            if let Some(agent) = voices::agent(ctx, Some(agent_id)).await? {
                found.push(ConversationViewer {
                    conversation_id: ID(self.model.id.to_string()),
                    agent,
                    state: presence.into(),
                });
            }
        }
        Ok(found)
    }
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
