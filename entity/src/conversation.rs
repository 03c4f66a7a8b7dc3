//! One conversation per (Page, customer PSID).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub page_id: String,
    /// The customer's page-scoped id.
    pub psid: String,
    pub customer_name: Option<String>,
    pub last_message_text: Option<String>,
    /// Time of the newest message, ms; the inbox sorts by it.
    pub last_timestamp: i64,
    pub unread_count: i32,
    pub status: Status,
    /// The customer's newest inbound message, ms: the start of the messaging window.
    pub last_inbound_timestamp: Option<i64>,
    /// Outbound messages at or before this time are delivered (Facebook's watermark).
    pub delivered_watermark: i64,
    /// Outbound messages at or before this time are read.
    pub read_watermark: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub customer_picture: Option<String>,
    /// The agent working on it.
    pub assignee_id: Option<i64>,
    /// While SNOOZED: when it wakes (back to OPEN), ms. Null in every other status.
    #[serde(default)]
    pub snoozed_until: Option<i64>,
}

/// Where a conversation stands in the team's work.
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
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
    /// Put away until `snoozed_until`, then back to `Open` (or earlier, when the customer
    /// writes).
    #[sea_orm(string_value = "SNOOZED")]
    Snoozed,
}

impl Status {
    /// Resolved or snoozed: a customer who writes reopens it.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Resolved | Self::Snoozed)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::page::Entity",
        from = "Column::PageId",
        to = "super::page::Column::Id"
    )]
    Page,
    #[sea_orm(has_many = "super::message::Entity")]
    Message,
}

impl Related<super::page::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Page.def()
    }
}

impl Related<super::message::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Message.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
