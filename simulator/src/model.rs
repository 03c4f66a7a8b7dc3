//! The simulated world: Pages, the people who write to them, their threads and messages.

use serde::Serialize;
use serde_json::Value;

/// A Facebook Page the simulated app manages.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    /// Numeric Page id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The current Page access token.
    #[serde(rename = "access_token")]
    pub token: String,
    /// A revoked token answers code 190 until a new one is issued.
    pub revoked: bool,
    /// Webhook fields the app subscribed to through `subscribed_apps`.
    pub subscribed_fields: Vec<String>,
}

/// A person who talks to one Page; the PSID is scoped to that Page.
#[derive(Clone, Debug, Serialize)]
pub struct Customer {
    /// Page-scoped id.
    pub psid: String,
    /// The Page this PSID belongs to.
    pub page_id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Without a profile the User Profile API answers subcode 2018218.
    pub has_profile: bool,
    /// Picture URL returned by the User Profile API.
    pub profile_pic: String,
}

impl Customer {
    /// The full name Graph shows in `participants`, `from` and `to`.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// One thread between a Page and a customer.
#[derive(Clone, Debug)]
pub struct Conversation {
    /// `t_` and digits.
    pub id: String,
    /// Owning Page.
    pub page_id: String,
    /// The customer.
    pub psid: String,
    /// Time of the newest message, in ms.
    pub updated_ms: i64,
    /// Messages of this thread, in insertion order.
    pub mids: Vec<String>,
    /// Customer messages at or before this time count as read by the Page.
    pub page_read_ms: i64,
}

/// Who put a message into the world, which decides its echo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The customer wrote it.
    Customer,
    /// Sent by our app through the Send API.
    SendApi,
    /// Sent by a person in the Page Inbox (Meta Business Suite), not through our app.
    PageInbox,
    /// History created by a seed, never announced by webhook.
    Seed,
}

/// One message of a thread.
#[derive(Clone, Debug, Serialize)]
pub struct Message {
    /// `m_` and random characters.
    pub mid: String,
    /// Tie-breaker for messages with the same timestamp.
    #[serde(skip)]
    pub seq: u64,
    /// The thread.
    pub conversation_id: String,
    /// The Page side of the thread.
    pub page_id: String,
    /// The customer side of the thread.
    pub psid: String,
    /// True when the Page sent it.
    pub from_page: bool,
    /// Creation time, ms since the epoch.
    pub timestamp: i64,
    /// Text, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Attachments, possibly none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Payload of the quick reply the customer tapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_reply: Option<String>,
    /// The message this one replies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Send API `metadata`, returned in the echo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// Send API `messaging_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messaging_type: Option<String>,
    /// Send API `tag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Where it came from.
    pub origin: Origin,
}

/// An attachment as webhooks carry it: `{type, payload}`.
#[derive(Clone, Debug, Serialize)]
pub struct Attachment {
    /// image, audio, video, file, location, template, fallback, sticker...
    #[serde(rename = "type")]
    pub kind: String,
    /// `{url}` for media, `{coordinates}` for locations, the template for templates.
    pub payload: Value,
    /// Optional title (shares, locations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Attachment {
    /// The media URL, if the payload has one.
    pub fn url(&self) -> Option<&str> {
        self.payload.get("url").and_then(Value::as_str)
    }
}

/// What a message says, shared by every way of creating one.
#[derive(Clone, Debug, Default)]
pub struct Content {
    /// Text.
    pub text: Option<String>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// Quick reply payload (customer messages).
    pub quick_reply: Option<String>,
    /// Replied-to mid (customer messages).
    pub reply_to: Option<String>,
    /// Send API metadata.
    pub metadata: Option<String>,
    /// Send API messaging type.
    pub messaging_type: Option<String>,
    /// Send API tag.
    pub tag: Option<String>,
}
