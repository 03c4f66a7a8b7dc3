//! One change of a conversation's status, assignee or snooze: who, when, from, to.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "conversation_activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub page_id: String,
    pub conversation_id: i64,
    /// The agent who made the change; `None` when the server made it (a snooze woke, the
    /// customer wrote to a resolved thread).
    pub actor_id: Option<i64>,
    /// STATUS, ASSIGNEE or SNOOZE.
    pub kind: String,
    /// The value before: a status, an agent id, or an until-time (ms), as text.
    pub from_value: Option<String>,
    /// The value after, in the same form.
    pub to_value: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
