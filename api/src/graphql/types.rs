//! The GraphQL object types, thin views over the stored models.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use entity::{conversation, message, page};

use crate::facebook::events::Attachment as StoredAttachment;
use crate::service::inbox::{self, Cursor};
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
}

#[Object]
impl Page {
    /// Facebook's Page id.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// The Page's name, once known (from connecting it or a sync).
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if let Some(model) = &self.loaded {
            return Ok(model.name.clone());
        }
        let state = ctx.data::<AppState>()?;
        Ok(inbox::page(&state.db, &self.id).await?.and_then(|p| p.name))
    }
}

/// The person writing to the Page.
#[derive(SimpleObject)]
pub struct Customer {
    /// The page-scoped id Facebook gives the customer.
    pub psid: ID,
    pub name: Option<String>,
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

    fn parse(stored: &str) -> Self {
        match stored {
            "PENDING" => Self::Pending,
            "RESOLVED" => Self::Resolved,
            "SNOOZED" => Self::Snoozed,
            _ => Self::Open,
        }
    }
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
pub struct Conversation(pub conversation::Model);

#[Object]
impl Conversation {
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
pub struct Message(pub message::Model);

#[Object]
impl Message {
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

    /// For outbound messages: the app that sent it (Meta's Page Inbox is 263902037430900).
    async fn app_id(&self) -> Option<&str> {
        self.0.app_id.as_deref()
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
    pub fn new(slice: inbox::Slice<conversation::Model>, after_given: bool) -> Self {
        let edges: Vec<ConversationEdge> = slice
            .items
            .into_iter()
            .map(|c| ConversationEdge {
                cursor: Cursor {
                    time: c.last_timestamp,
                    id: c.id,
                }
                .encode(),
                node: Conversation(c),
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
                node: Message(m),
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
