//! The audit log as GraphQL: `auditLog(first, after)`, newest first (administrators).
use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use crate::graphql::auth::Agent;
use crate::graphql::loaders::{self, AgentId, Loaders};
use crate::service::audit::{self, AuditEntry as Model};
use crate::service::inbox::{Cursor, Slice};
use crate::time::rfc3339;

use super::PageInfo;

/// What was done.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "audit::Action")]
pub enum AuditAction {
    /// A sign-in (`login`).
    SignIn,
    /// A refused sign-in: `actorEmail` is the email tried (the password is never kept);
    /// `object` the agent, when the email is one's.
    SignInFailed,
    SignOut,
    /// `toValue`: the token's Pages, comma-separated.
    ApiTokenCreated,
    ApiTokenRevoked,
    /// `toValue`: its role.
    AgentCreated,
    /// `fromValue` and `toValue`: the roles.
    AgentRoleChanged,
    AgentDeactivated,
    /// `toValue`: CHOSEN (the administrator gave it) or GENERATED.
    AgentPasswordReset,
    PageMemberAdded,
    PageMemberRemoved,
    PageConnected,
    /// `fromValue` and `toValue`: the statuses.
    ConversationStatusChanged,
    /// `fromValue` and `toValue`: the assignees' agent ids (null: unassigned).
    ConversationAssigned,
    /// `toValue`: the wake time, ms since the epoch.
    ConversationSnoozed,
    LabelCreated,
    LabelUpdated,
    LabelDeleted,
    ConversationLabelsChanged,
    SavedReplyCreated,
    SavedReplyUpdated,
    SavedReplyDeleted,
}

/// What kind of object an entry is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "audit::ObjectKind")]
pub enum AuditObjectKind {
    Agent,
    ApiToken,
    Page,
    Conversation,
    Label,
    SavedReply,
}

/// One line of the audit log: who, when, what, on which object.
pub struct AuditEntry(pub Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn created_at(&self) -> String {
        rfc3339(self.0.created_at)
    }

    async fn action(&self) -> AuditAction {
        self.0.action.into()
    }

    /// The agent who acted (for an API token, its creator); null when nobody signed in
    /// did it (a failed sign-in, the first administrator made from configuration).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agent>> {
        let Some(id) = self.0.actor_id else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .load_one(AgentId(id))
            .await
            .map_err(loaders::internal)?
            .map(Agent))
    }

    /// The API token the agent acted through; null for a signed-in session.
    async fn actor_api_token_id(&self) -> Option<ID> {
        self.0.actor_token_id.map(|id| ID(id.to_string()))
    }

    /// The actor's email at the time; for a failed sign-in, the email tried.
    async fn actor_email(&self) -> Option<&str> {
        self.0.actor_email.as_deref()
    }

    async fn object_kind(&self) -> Option<AuditObjectKind> {
        self.0.object_kind.map(Into::into)
    }

    async fn object_id(&self) -> Option<ID> {
        self.0.object_id.clone().map(ID)
    }

    /// The object's name at the time: an agent's email, a token's, Page's or label's name,
    /// a customer's name.
    async fn object_name(&self) -> Option<&str> {
        self.0.object_name.as_deref()
    }

    /// The Page it happened on, when it is about one.
    async fn page_id(&self) -> Option<ID> {
        self.0.page_id.clone().map(ID)
    }

    /// What changed, before (see `action` for what each carries).
    async fn from_value(&self) -> Option<&str> {
        self.0.from_value.as_deref()
    }

    /// What changed, after.
    async fn to_value(&self) -> Option<&str> {
        self.0.to_value.as_deref()
    }

    /// The client's address (see `MF_TRUSTED_PROXIES`).
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }

    /// The HTTP request's `User-Agent` (up to 256 characters); null over the WebSocket.
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
}

#[derive(SimpleObject)]
pub struct AuditEntryEdge {
    pub cursor: String,
    pub node: AuditEntry,
}

/// The audit log, newest first.
#[derive(SimpleObject)]
pub struct AuditEntryConnection {
    pub edges: Vec<AuditEntryEdge>,
    pub page_info: PageInfo,
}

impl AuditEntryConnection {
    pub fn new(slice: Slice<Model>, after_given: bool) -> Self {
        let edges: Vec<AuditEntryEdge> = slice
            .items
            .into_iter()
            .map(|entry| AuditEntryEdge {
                cursor: Cursor {
                    time: entry.created_at,
                    id: entry.id,
                }
                .encode_kind(audit::CURSOR_KIND),
                node: AuditEntry(entry),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: slice.more,
            has_previous_page: after_given,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info }
    }
}
