//! The typed GraphQL operations, derived from `/schema.graphql` and
//! `graphql/operations.graphql` at compile time.
//!
//! Each operation gets its own generated module with its own structs; the `From`
//! impls at the bottom turn them into the shared [`crate::model`] types the UI keeps.
//! The enums are shared (`extern_enums`), so they are written once, here.
#![allow(clippy::enum_variant_names)]

use graphql_client::GraphQLQuery;

use crate::model;

pub use model::{
    ActivityKind, AgentRole, AttachmentType, ConversationPresenceState, ConversationStatus,
    MessageDirection, MessageStatus, PresenceStatus, SyncStatus,
};

/// The `Upload` scalar: a file part of a multipart request, never a JSON value, so always
/// left out here (`None`); `api::call_with_file` puts the file in its place.
pub type Upload = serde_json::Value;

macro_rules! operation {
    ($name:ident $(, $attr:meta)?) => {
        #[derive(GraphQLQuery)]
        #[graphql(
            schema_path = "../schema.graphql",
            query_path = "graphql/operations.graphql",
            response_derives = "Debug, Clone",
            variables_derives = "Debug, Clone",
            skip_serializing_none,
            extern_enums(
                "ActivityKind",
                "ConversationPresenceState",
                "AgentRole",
                "AttachmentType",
                "ConversationStatus",
                "MessageDirection",
                "MessageStatus",
                "PresenceStatus",
                "SyncStatus"
            )
        )]
        $(#[$attr])?
        pub struct $name;
    };
}

operation!(Login);
operation!(Logout);
operation!(Session);
operation!(Pages);
operation!(PageAgents);
operation!(Conversations);
operation!(ConversationById);
operation!(Messages);
operation!(SyncJobById);
operation!(SetPresence);
operation!(SendMessage);
operation!(AddNote);
operation!(SendTypingIndicator);
operation!(UpdateConversation);
operation!(UnassignConversation);
operation!(ConnectPage);
operation!(SyncFullHistory);
operation!(PageEvents);
operation!(AgentPresenceChanged);
operation!(SyncProgress);
operation!(SetConversationPresence);
operation!(ConversationPresence);
operation!(Search);
// Settings' teammates and tokens send their generated modules' documents (`QUERY`)
// through `api::body`, one encoder for all: their types are never built.
operation!(Team, allow(dead_code));
operation!(CreateAgent, allow(dead_code));
operation!(SetAgentRole, allow(dead_code));
operation!(DeactivateAgent, allow(dead_code));
operation!(ResetAgentPassword, allow(dead_code));
operation!(AddPageMember, allow(dead_code));
operation!(RemovePageMember, allow(dead_code));
operation!(CreateApiToken, allow(dead_code));
operation!(RevokeApiToken, allow(dead_code));
// The label picker's change goes the same way (`actions::set_labels`).
operation!(SetConversationLabels, allow(dead_code));
// The customer panel's too (`components::story`), read by hand from JSON.
operation!(CustomerStory, allow(dead_code));

/// One `From` per generated copy of a fragment: the fields are checked by the
/// compiler, so a renamed or retyped field fails here.
macro_rules! agent_from {
    ($($m:ident),*) => {$(
        impl From<$m::AgentFields> for model::Agent {
            fn from(a: $m::AgentFields) -> Self {
                Self { id: a.id, email: a.email, name: a.name, role: a.role }
            }
        }
    )*};
}
agent_from!(session);

macro_rules! page_from {
    ($($m:ident),*) => {$(
        impl From<$m::PageFields> for model::Page {
            fn from(p: $m::PageFields) -> Self {
                Self {
                    id: p.id,
                    name: p.name,
                    connected: p.connected,
                    needs_reconnect: p.needs_reconnect,
                    permission_missing: matches!(
                        p.reconnect_reason,
                        Some($m::ReconnectReason::PERMISSION_MISSING)
                    ),
                    event_position: p.event_position,
                    unread_total: p.unread_total,
                }
            }
        }
    )*};
}
page_from!(session);

macro_rules! conversation_from {
    ($($m:ident),*) => {$(
        impl From<$m::ConversationFields> for model::Conversation {
            fn from(c: $m::ConversationFields) -> Self {
                Self {
                    id: c.id,
                    page_id: c.page.id,
                    customer_psid: c.customer.psid,
                    customer_name: c.customer.name,
                    customer_picture: c.customer.picture_url,
                    last_message_text: c.last_message_text,
                    last_timestamp: c.last_timestamp,
                    unread_count: c.unread_count,
                    status: c.status,
                    assignee: c.assignee.map(|a| model::AgentRef { id: a.id, name: a.name }),
                    window_expires_at: c.window_expires_at,
                    human_agent_window_expires_at: c.human_agent_window_expires_at,
                    snoozed_until: c.snoozed_until,
                    labels: c.labels.into_iter().map(Into::into).collect(),
                }
            }
        }
    )*};
}
conversation_from!(conversations);

impl From<conversations::LabelFields> for model::Label {
    fn from(l: conversations::LabelFields) -> Self {
        Self {
            id: l.id,
            name: l.name,
            color: l.color,
        }
    }
}

macro_rules! message_from {
    ($($m:ident),*) => {$(
        impl From<$m::MessageFields> for model::Message {
            fn from(m: $m::MessageFields) -> Self {
                Self {
                    id: m.id,
                    mid: m.mid,
                    conversation_id: m.conversation_id,
                    direction: m.direction,
                    text: m.text,
                    attachments: m
                        .attachments
                        .into_iter()
                        .map(|a| model::Attachment {
                            kind: a.type_,
                            url: a.url,
                            title: a.title,
                            name: a.name,
                            map_url: a.map_url,
                        })
                        .collect(),
                    reactions: m.reactions.into_iter().map(|r| r.emoji).collect(),
                    edit_count: m.edit_count,
                    timestamp: m.timestamp,
                    status: m.status,
                    error_code: m.error_code,
                    client_mutation_id: m.client_mutation_id,
                    app_id: m.app_id,
                    sender_name: m.sender.map(|a| a.name),
                    echo_label: m.echo_source.map(|e| e.label),
                    tag: m.tag,
                    local_error: None,
                }
            }
        }
    )*};
}
message_from!(messages);

macro_rules! sync_job_from {
    ($($m:ident),*) => {$(
        impl From<$m::SyncJobFields> for model::SyncJob {
            fn from(j: $m::SyncJobFields) -> Self {
                Self {
                    id: j.id,
                    page_id: j.page_id,
                    status: j.status,
                    conversations: j.conversations,
                    messages: j.messages,
                    error: j.error,
                    total: j.total,
                }
            }
        }
    )*};
}
sync_job_from!(sync_job_by_id);

macro_rules! activity_from {
    ($($m:ident),*) => {$(
        impl From<$m::ActivityFields> for model::Activity {
            fn from(a: $m::ActivityFields) -> Self {
                let change = match a.kind {
                    ActivityKind::ASSIGNEE => model::ActivityChange::Assignee {
                        to: a.to_assignee.map(|x| (x.id, x.name)),
                    },
                    ActivityKind::SNOOZE => model::ActivityChange::Snooze { until: a.to_snoozed_until },
                    _ => model::ActivityChange::Status { from: a.from_status, to: a.to_status },
                };
                Self {
                    id: a.id,
                    conversation_id: a.conversation_id,
                    created_at: a.created_at,
                    actor: a.actor.map(|x| (x.id, x.name)),
                    change,
                }
            }
        }
    )*};
}
activity_from!(messages);

impl From<messages::NoteFields> for model::Note {
    fn from(n: messages::NoteFields) -> Self {
        Self {
            id: n.id,
            conversation_id: n.conversation_id,
            text: n.text,
            created_at: n.created_at,
            author: (n.author.id, n.author.name),
            mentions: n.mentions.into_iter().map(|a| (a.id, a.name)).collect(),
        }
    }
}

// One decoding per fragment. Each operation's generated module has its own copy of every
// fragment it selects, with its own serde decoder in the wasm. The answers below decode
// with one copy of each fragment instead (the same fragment, so the same fields), and the
// other copies are never used, so their decoders are left out. The queries are still
// built (and checked against the schema) by each operation. An answer the client does
// not read decodes as [`Ignored`]: its errors still count.

/// An agent in any answer.
pub type AgentFields = session::AgentFields;
/// A Page in any answer.
pub type PageFields = session::PageFields;
/// A conversation in any answer.
pub type ConversationFields = conversations::ConversationFields;
/// A message in any answer.
pub type MessageFields = messages::MessageFields;
/// A status change, assignment or snooze in any answer.
pub type ActivityFields = messages::ActivityFields;
/// A private note in any answer.
pub type NoteFields = messages::NoteFields;
/// A history sync job in any answer.
pub type SyncJobFields = sync_job_by_id::SyncJobFields;
/// A label in any answer.
pub type LabelFields = conversations::LabelFields;

/// The data of an answer the client does not read (`Logout`, `SendTypingIndicator`,
/// `SetConversationPresence`, `ConnectPage`): whatever it is.
pub type Ignored = serde::de::IgnoredAny;

/// What `Login` answers.
#[derive(Debug, serde::Deserialize)]
pub struct LoginAnswer {
    pub login: LoginResult,
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginResult {
    pub token: String,
    pub agent: AgentFields,
}

/// What `Pages` answers.
#[derive(Debug, serde::Deserialize)]
pub struct PagesAnswer {
    pub pages: Vec<PageFields>,
}

/// An agent and its presence: in `PageAgents`, `SetPresence` and `AgentPresenceChanged`.
#[derive(Debug, serde::Deserialize)]
pub struct AgentPresence {
    pub agent: AgentFields,
    pub status: PresenceStatus,
}

/// What `PageAgents` answers.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageAgentsAnswer {
    pub page_agents: Vec<AgentPresence>,
    pub labels: Vec<LabelFields>,
}

/// What `SetPresence` answers.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPresenceAnswer {
    pub set_presence: AgentPresence,
}

/// What each `AgentPresenceChanged` event carries.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPresenceAnswer {
    pub agent_presence: AgentPresence,
}

/// What `SyncFullHistory` answers.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncFullHistoryAnswer {
    pub sync_full_history: SyncJobFields,
}

/// What each `SyncProgress` event carries.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgressAnswer {
    pub sync_progress: SyncJobFields,
}

/// What `ConversationById` answers.
#[derive(Debug, serde::Deserialize)]
pub struct ConversationByIdAnswer {
    pub conversation: Option<ConversationFields>,
}

/// What `UpdateConversation` and `UnassignConversation` answer.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConversationAnswer {
    pub update_conversation: ConversationFields,
}

/// What `SendMessage` answers.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageAnswer {
    pub send_message: MessageFields,
}

/// What each `PageEvents` event carries.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageEventsAnswer {
    pub page_events: PageEvent,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageEvent {
    pub position: String,
    pub conversation: Option<ConversationFields>,
    pub message: Option<MessageFields>,
    pub removed_message_id: Option<String>,
    pub activity: Option<ActivityFields>,
    /// Its kind, as the schema names it (LABEL_CHANGED and LABEL_DELETED are read).
    pub kind: String,
    pub note: Option<NoteFields>,
    /// REFERRAL_ADDED: an open customer panel reloads (not decoded: a decoder would cost
    /// the wasm more than the reload costs the server).
    pub referral: Option<Ignored>,
    /// The Page's unread total when the event was delivered.
    pub unread_total: i64,
}
