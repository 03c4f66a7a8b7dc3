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

/// An attachment as the customer (or the Page) sent it.
pub struct Attachment(StoredAttachment);

#[Object]
impl Attachment {
    /// Facebook's attachment type: `image`, `video`, `audio`, `file`, `sticker`,
    /// `location`, `fallback` (a shared link), or another Facebook names (`template`,
    /// `reel`, ...).
    #[graphql(name = "type")]
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The media, the sticker's image, the shared link, or Facebook's map of a location.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }

    /// A shared link's or a location's title (a file's name when Facebook gives one).
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }

    /// A file's name: its title, else the last part of its URL's path.
    async fn name(&self) -> Option<String> {
        (self.0.kind == "file")
            .then(|| self.0.file_name())
            .flatten()
    }

    /// Stickers: Facebook's sticker id.
    async fn sticker_id(&self) -> Option<&str> {
        self.0.sticker_id.as_deref()
    }

    /// Locations: the latitude, in degrees.
    async fn latitude(&self) -> Option<f64> {
        self.0.coordinates.map(|c| c.lat)
    }

    /// Locations: the longitude, in degrees.
    async fn longitude(&self) -> Option<f64> {
        self.0.coordinates.map(|c| c.long)
    }

    /// Locations: the place on OpenStreetMap.
    async fn map_url(&self) -> Option<String> {
        self.0.map_url()
    }
}

/// A customer's reaction to a message (one per person; a new one replaces it).
#[derive(SimpleObject)]
pub struct Reaction {
    /// The emoji, as the customer chose it.
    pub emoji: String,
    /// Facebook's name for it: smile, angry, sad, wow, love, like, dislike or other.
    pub reaction: Option<String>,
    /// Who reacted: the customer's PSID (Facebook sends the reactions of customers).
    pub reactor_id: String,
    /// When (RFC 3339, UTC), Facebook's time.
    pub reacted_at: String,
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
        stored.into_iter().map(Attachment).collect()
    }

    /// The reactions on it now, in the order first made; one per person.
    async fn reactions(&self) -> Vec<Reaction> {
        crate::service::ingest::reactions_of(&self.model)
            .into_iter()
            .filter_map(|r| {
                Some(Reaction {
                    emoji: r.emoji?,
                    reaction: r.reaction,
                    reactor_id: r.by,
                    reacted_at: rfc3339(r.at),
                })
            })
            .collect()
    }

    /// How many times the customer edited it (Facebook's `num_edit` of the latest edit
    /// applied); 0 when never. `text` is the latest text.
    async fn edit_count(&self) -> i32 {
        self.model.edit_count
    }

    /// When it was last edited (RFC 3339, UTC), Facebook's time; null when never.
    async fn edited_at(&self) -> Option<String> {
        self.model.edited_at.map(rfc3339)
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
