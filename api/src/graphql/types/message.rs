//! A message, and a conversation's pages of them.
use async_graphql::{Context, ID, Object, SimpleObject};

use entity::message;

use super::{MessageDirection, MessageStatus, PageInfo};
use crate::facebook::events::Attachment as StoredAttachment;
use crate::graphql::auth::Agent;
use crate::graphql::voices::{self, EchoSource};
use crate::service::inbox::{self, Cursor};
use crate::state::AppState;
use crate::time::rfc3339;

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
pub struct Message {
    pub model: message::Model,
    /// The event-log position of the change that delivered it (subscriptions only).
    pub position: Option<i64>,
}

impl From<message::Model> for Message {
    fn from(model: message::Model) -> Self {
        Self {
            model,
            position: None,
        }
    }
}

#[Object]
impl Message {
    /// The event-log position of the change that delivered this message, when it came
    /// through a subscription (null in queries). Pass it as `after` to resume.
    async fn position(&self) -> Option<String> {
        self.position.map(|p| p.to_string())
    }

    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// Facebook's message id.
    async fn mid(&self) -> &str {
        &self.model.mid
    }

    async fn conversation_id(&self) -> ID {
        ID(self.model.conversation_id.to_string())
    }

    async fn direction(&self) -> MessageDirection {
        self.model.direction.into()
    }

    async fn text(&self) -> Option<&str> {
        self.model.text.as_deref()
    }

    async fn attachments(&self) -> Vec<Attachment> {
        let stored: Vec<StoredAttachment> = self
            .model
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
        rfc3339(self.model.timestamp)
    }

    async fn status(&self) -> MessageStatus {
        self.model.status.into()
    }

    /// The payload of the quick reply the customer tapped.
    async fn quick_reply_payload(&self) -> Option<&str> {
        self.model.quick_reply_payload.as_deref()
    }

    /// The `mid` this message replies to.
    async fn reply_to_mid(&self) -> Option<&str> {
        self.model.reply_to_mid.as_deref()
    }

    /// Why it failed (FAILED only): OUTSIDE_MESSAGING_WINDOW, PAGE_NEEDS_RECONNECT,
    /// RATE_LIMITED or GRAPH_API_ERROR.
    async fn error_code(&self) -> Option<&str> {
        self.model.error_code.as_deref()
    }

    /// The sender's idempotency key, for messages sent from MessengerFlow.
    async fn client_mutation_id(&self) -> Option<&str> {
        self.model.client_mutation_id.as_deref()
    }

    /// For outbound messages: the app that sent it (Meta's Page Inbox is 263902037430900).
    async fn app_id(&self) -> Option<&str> {
        self.model.app_id.as_deref()
    }

    /// The agent who sent it from MessengerFlow (through an API token: the token's
    /// creator); null for inbound messages and for those sent from other tools.
    async fn sender(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        voices::agent(ctx, self.model.agent_id).await
    }

    /// For outbound messages: which tool sent it (MessengerFlow, the Page Inbox, another
    /// app), with a label to show; null for inbound messages.
    async fn echo_source(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<EchoSource>> {
        let state = ctx.data::<AppState>()?;
        Ok(voices::echo_source(
            &self.model,
            state.config.fb_app_id.as_deref(),
        ))
    }

    /// The message tag a reply from MessengerFlow was sent with: HUMAN_AGENT for one sent
    /// after the 24-hour window (within 7 days of the customer's last message); null for
    /// a standard reply, an inbound message or another tool's echo.
    async fn tag(&self) -> Option<&str> {
        self.model.tag.as_deref()
    }
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
