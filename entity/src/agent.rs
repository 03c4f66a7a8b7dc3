//! A person (or integration owner) who works in the inbox.
use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    /// ADMIN sees every Page; AGENT sees the Pages it is a member of.
    pub role: String,
    /// argon2id PHC string; never leaves the server.
    pub password_hash: Option<String>,
    pub created_at: i64,
    /// When an administrator deactivated the agent: it cannot sign in, and its sessions
    /// and API tokens no longer work. `None` while active.
    pub deactivated_at: Option<i64>,
}

/// Hand-written so that the password hash never reaches a log.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("deactivated_at", &self.deactivated_at)
            .finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
