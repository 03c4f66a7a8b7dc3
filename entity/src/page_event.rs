//! One entry of a Page's event log: a change subscribers saw, at its position.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "page_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub page_id: String,
    /// 1, 2, 3, ... within the Page, in commit order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i64,
    /// MESSAGE_ADDED, MESSAGE_UPDATED or CONVERSATION_UPDATED.
    pub kind: String,
    /// The message or conversation the change is about.
    pub entity_id: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
