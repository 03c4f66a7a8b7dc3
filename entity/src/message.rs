//! A message of a conversation, inbound (from the customer) or outbound (from the Page).
//! `(page_id, mid)` is unique: Facebook's message id is the de-duplication key.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub page_id: String,
    pub conversation_id: i64,
    pub mid: String,
    pub direction: Direction,
    pub text: Option<String>,
    /// JSON array of `{type, url}` objects, as text (portable across engines).
    pub attachments: Option<String>,
    pub quick_reply_payload: Option<String>,
    pub reply_to_mid: Option<String>,
    /// For echoes: the app that sent it (Page Inbox, our app, another tool).
    pub app_id: Option<String>,
    /// Facebook's time of the message, ms.
    pub timestamp: i64,
    pub status: Status,
    pub error_code: Option<String>,
    pub created_at: i64,
    /// The sender's idempotency key, for messages sent from MessengerFlow.
    pub client_mutation_id: Option<String>,
    /// The agent who sent it from MessengerFlow.
    pub agent_id: Option<i64>,
    /// The message tag it was sent with: `HUMAN_AGENT` for a reply after the 24-hour
    /// window; null otherwise.
    pub tag: Option<String>,
    /// JSON array of the reactions on it, one per person (`[{by, emoji, reaction, at}]`;
    /// an unreact keeps its entry without `emoji`, so an older event cannot bring it back).
    #[serde(default)]
    pub reactions: Option<String>,
    /// Facebook's `num_edit` of the latest edit applied (0: never edited).
    #[serde(default)]
    pub edit_count: i32,
    /// When the latest edit applied was made (Facebook's time, ms).
    #[serde(default)]
    pub edited_at: Option<i64>,
}

/// A message's direction, seen from the Page.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// From the customer.
    #[sea_orm(string_value = "INBOUND")]
    Inbound,
    /// From the Page: our own sends, their echoes, Meta Business Suite or another app.
    #[sea_orm(string_value = "OUTBOUND")]
    Outbound,
}

/// Where a message is on its way to the customer. Inbound messages are `Sent`; an
/// outbound one moves forward only: `Pending` (or `Failed`) → `Sent` → `Delivered` → `Read`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Stored by `sendMessage`, not yet accepted by Facebook.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SENT")]
    Sent,
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    #[sea_orm(string_value = "READ")]
    Read,
    /// Facebook refused it (`error_code` says why).
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::conversation::Entity",
        from = "Column::ConversationId",
        to = "super::conversation::Column::Id"
    )]
    Conversation,
}

impl Related<super::conversation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
