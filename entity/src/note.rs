//! A private note: what an agent wrote in a conversation for the team, never sent to
//! Facebook.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "notes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub page_id: String,
    pub conversation_id: i64,
    /// The agent who wrote it (for an API token, its creator).
    pub author_id: i64,
    pub text: String,
    /// The mentioned agents' ids, comma-separated, in the order they were mentioned
    /// ("" for none); `note_mentions` holds the same for each agent's list.
    pub mention_ids: String,
    pub created_at: i64,
}

impl Model {
    /// The mentioned agents' ids, in the order they were mentioned.
    pub fn mentions(&self) -> Vec<i64> {
        self.mention_ids
            .split(',')
            .filter_map(|id| id.parse().ok())
            .collect()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
