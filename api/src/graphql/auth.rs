//! Agents, sign-in and tokens as GraphQL types.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use entity::{agent, api_token};

use super::loaders::{self, AgentId, Loaders, Memberships};
use crate::service::access;
use crate::service::auth::Role;
use crate::service::presence::Status;
use crate::time::rfc3339;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AgentRole {
    /// Sees and administers every Page.
    Admin,
    /// Sees the Pages it is a member of.
    Agent,
}

impl From<Role> for AgentRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::Agent => Self::Agent,
        }
    }
}

impl From<AgentRole> for Role {
    fn from(role: AgentRole) -> Self {
        match role {
            AgentRole::Admin => Self::Admin,
            AgentRole::Agent => Self::Agent,
        }
    }
}

/// A person working in the inbox.
pub struct Agent(pub agent::Model);

#[Object]
impl Agent {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn role(&self) -> AgentRole {
        Role::parse(&self.0.role).into()
    }

    /// False once an administrator deactivated the agent (`deactivateAgent`): it cannot
    /// sign in, and its sessions and API tokens no longer work.
    async fn active(&self) -> bool {
        self.0.deactivated_at.is_none()
    }

    /// The Pages it is a member of, among those the caller may see (an ADMIN works on
    /// every Page, member or not). Empty in `login`'s answer, asked before signing in.
    async fn page_ids(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ID>> {
        let Some(me) = ctx.data_opt::<crate::service::auth::Principal>() else {
            return Ok(Vec::new());
        };
        let loaders = ctx.data::<Loaders>()?;
        let pages = loaders
            .load_one(Memberships(self.0.id))
            .await
            .map_err(loaders::internal)?
            .unwrap_or_default();
        let mut visible = Vec::new();
        for page in pages {
            if access::page(me, &page)?.is_some() {
                visible.push(ID(page));
            }
        }
        Ok(visible)
    }
}

/// A new session: send `token` as `Authorization: Bearer <token>`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Shown once; only its hash is stored.
    pub token: String,
    pub agent: Agent,
    pub expires_at: String,
}

/// An integration's token (without the secret itself).
pub struct ApiToken {
    pub model: api_token::Model,
    pub page_ids: Vec<String>,
}

#[Object]
impl ApiToken {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.model.name
    }

    async fn page_ids(&self) -> Vec<ID> {
        self.page_ids.iter().cloned().map(ID).collect()
    }

    async fn created_at(&self) -> String {
        rfc3339(self.model.created_at)
    }

    async fn revoked(&self) -> bool {
        self.model.revoked_at.is_some()
    }

    async fn revoked_at(&self) -> Option<String> {
        self.model.revoked_at.map(rfc3339)
    }

    /// The agent it acts for: its creator.
    async fn agent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .load_one(AgentId(self.model.agent_id))
            .await
            .map_err(loaders::internal)?
            .map(Agent))
    }
}

/// A new API token: `token` is shown once.
#[derive(SimpleObject)]
pub struct ApiTokenPayload {
    pub token: String,
    pub api_token: ApiToken,
}

/// A reset password: `password` is the generated one, shown once (null when the
/// administrator chose it).
#[derive(SimpleObject)]
pub struct ResetPasswordPayload {
    pub agent: Agent,
    pub password: Option<String>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PresenceStatus {
    /// Holding a live connection to the inbox.
    Online,
    /// Connected, but chose to appear away.
    Away,
    /// Not connected, or chose to appear offline.
    Offline,
}

impl From<Status> for PresenceStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Online => Self::Online,
            Status::Away => Self::Away,
            Status::Offline => Self::Offline,
        }
    }
}

impl From<PresenceStatus> for Status {
    fn from(status: PresenceStatus) -> Self {
        match status {
            PresenceStatus::Online => Self::Online,
            PresenceStatus::Away => Self::Away,
            PresenceStatus::Offline => Self::Offline,
        }
    }
}

/// An agent and whether it is at its desk.
#[derive(SimpleObject)]
pub struct AgentPresence {
    pub agent: Agent,
    pub status: PresenceStatus,
}
