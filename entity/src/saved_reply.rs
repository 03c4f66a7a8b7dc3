//! A Page's saved reply: a text agents insert by typing its shortcut after `/`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "saved_replies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub page_id: String,
    /// As the agent wrote it, without the `/`.
    pub shortcut: String,
    /// The shortcut case-folded: unique per Page.
    pub shortcut_key: String,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
