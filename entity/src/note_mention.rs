//! One agent mentioned in one note: the rows behind each agent's `mentions` list.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "note_mentions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub note_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: i64,
    /// The note's Page.
    pub page_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
