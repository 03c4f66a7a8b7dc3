//! A Page's label: a name and a colour that agents put on conversations.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "labels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub page_id: String,
    /// As the agent wrote it, trimmed.
    pub name: String,
    /// The name case-folded: unique per Page.
    pub name_key: String,
    /// `#rrggbb`, lower case.
    pub color: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
