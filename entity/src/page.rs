//! A Facebook Page. Created the first time a webhook names it; it has no access token
//! until an administrator connects it.
use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "pages")]
pub struct Model {
    /// Facebook's Page id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: Option<String>,
    pub created_at: i64,
    /// The Page access token; never readable through the API, never logged.
    #[serde(skip_serializing)]
    pub access_token: Option<String>,
    /// Facebook refused the token (expired or revoked): an administrator must reconnect.
    pub needs_reconnect: bool,
    pub connected_at: Option<i64>,
    /// Why it needs reconnecting: [`RECONNECT_TOKEN_REFUSED`] or
    /// [`RECONNECT_PERMISSION_MISSING`]; null when it does not (or was flagged before the
    /// reason was stored: a refused token).
    pub reconnect_reason: Option<String>,
}

/// Facebook refused the Page's token (code 190).
pub const RECONNECT_TOKEN_REFUSED: &str = "TOKEN_REFUSED";
/// The token lacks a permission (codes 200-299, such as 230 `pages_messaging`).
pub const RECONNECT_PERMISSION_MISSING: &str = "PERMISSION_MISSING";

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::conversation::Entity")]
    Conversation,
}

impl Related<super::conversation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Hand-written so that the access token never reaches a log.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("id", &self.id)
            .field("name", &self.name)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[redacted]"),
            )
            .field("needs_reconnect", &self.needs_reconnect)
            .field("reconnect_reason", &self.reconnect_reason)
            .finish()
    }
}
