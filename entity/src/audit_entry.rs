//! One line of the audit log: who did what, when, on which object. Append-only (the
//! table refuses UPDATE); only the retention pruner deletes, oldest first.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub created_at: i64,
    pub action: Action,
    /// The agent who acted (for an API token, its creator); `None` when nobody signed in
    /// did it (a failed sign-in).
    pub actor_id: Option<i64>,
    /// The API token the agent acted through; `None` for a session.
    pub actor_token_id: Option<i64>,
    /// The actor's email at the time; for a failed sign-in, the email tried.
    pub actor_email: Option<String>,
    pub object_kind: Option<ObjectKind>,
    pub object_id: Option<String>,
    /// The object's name at the time: an agent's email, a token's, Page's or label's name.
    pub object_name: Option<String>,
    pub page_id: Option<String>,
    /// What changed, before and after (a role, a status, an agent id), as text.
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What was done. Stored as its name.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    #[sea_orm(string_value = "SIGN_IN")]
    SignIn,
    /// A wrong email or password (or a deactivated agent's); the email tried is kept,
    /// never the password.
    #[sea_orm(string_value = "SIGN_IN_FAILED")]
    SignInFailed,
    #[sea_orm(string_value = "SIGN_OUT")]
    SignOut,
    #[sea_orm(string_value = "API_TOKEN_CREATED")]
    ApiTokenCreated,
    #[sea_orm(string_value = "API_TOKEN_REVOKED")]
    ApiTokenRevoked,
    #[sea_orm(string_value = "AGENT_CREATED")]
    AgentCreated,
    #[sea_orm(string_value = "AGENT_ROLE_CHANGED")]
    AgentRoleChanged,
    #[sea_orm(string_value = "AGENT_DEACTIVATED")]
    AgentDeactivated,
    #[sea_orm(string_value = "AGENT_PASSWORD_RESET")]
    AgentPasswordReset,
    #[sea_orm(string_value = "PAGE_MEMBER_ADDED")]
    PageMemberAdded,
    #[sea_orm(string_value = "PAGE_MEMBER_REMOVED")]
    PageMemberRemoved,
    #[sea_orm(string_value = "PAGE_CONNECTED")]
    PageConnected,
    #[sea_orm(string_value = "CONVERSATION_STATUS_CHANGED")]
    ConversationStatusChanged,
    #[sea_orm(string_value = "CONVERSATION_ASSIGNED")]
    ConversationAssigned,
    #[sea_orm(string_value = "CONVERSATION_SNOOZED")]
    ConversationSnoozed,
    #[sea_orm(string_value = "LABEL_CREATED")]
    LabelCreated,
    #[sea_orm(string_value = "LABEL_UPDATED")]
    LabelUpdated,
    #[sea_orm(string_value = "LABEL_DELETED")]
    LabelDeleted,
    #[sea_orm(string_value = "CONVERSATION_LABELS_CHANGED")]
    ConversationLabelsChanged,
    #[sea_orm(string_value = "SAVED_REPLY_CREATED")]
    SavedReplyCreated,
    #[sea_orm(string_value = "SAVED_REPLY_UPDATED")]
    SavedReplyUpdated,
    #[sea_orm(string_value = "SAVED_REPLY_DELETED")]
    SavedReplyDeleted,
}

/// What kind of object an entry is about.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ObjectKind {
    #[sea_orm(string_value = "AGENT")]
    Agent,
    #[sea_orm(string_value = "API_TOKEN")]
    ApiToken,
    #[sea_orm(string_value = "PAGE")]
    Page,
    #[sea_orm(string_value = "CONVERSATION")]
    Conversation,
    #[sea_orm(string_value = "LABEL")]
    Label,
    #[sea_orm(string_value = "SAVED_REPLY")]
    SavedReply,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
