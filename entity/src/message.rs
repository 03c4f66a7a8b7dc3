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
    /// INBOUND or OUTBOUND.
    pub direction: String,
    pub text: Option<String>,
    /// JSON array of `{type, url}` objects, as text (portable across engines).
    pub attachments: Option<String>,
    pub quick_reply_payload: Option<String>,
    pub reply_to_mid: Option<String>,
    /// For echoes: the app that sent it (Page Inbox, our app, another tool).
    pub app_id: Option<String>,
    /// Facebook's time of the message, ms.
    pub timestamp: i64,
    /// PENDING, SENT, DELIVERED, READ or FAILED.
    pub status: String,
    pub error_code: Option<String>,
    pub created_at: i64,
    /// The sender's idempotency key, for messages sent from MessengerFlow.
    pub client_mutation_id: Option<String>,
    /// The agent who sent it from MessengerFlow.
    pub agent_id: Option<i64>,
    /// The message tag it was sent with: `HUMAN_AGENT` for a reply after the 24-hour
    /// window; null otherwise.
    pub tag: Option<String>,
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
