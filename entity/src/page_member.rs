//! Which agents work on which Pages.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "page_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub page_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
