//! The mutations' input objects.
use async_graphql::{Enum, ID, InputObject, MaybeUndefined, Upload};

use crate::graphql::auth::AgentRole;
use crate::graphql::types::ConversationStatus;

#[derive(InputObject)]
pub struct SendMessageInput {
    pub conversation_id: ID,
    /// 1 to 2000 characters; no control characters but newlines. Give a text or an
    /// attachment, not both.
    pub text: Option<String>,
    /// A file Facebook fetches by URL, or one the Page saved before.
    pub attachment: Option<AttachmentInput>,
    /// A file from the agent's computer, sent as a `multipart/form-data` request (the
    /// GraphQL multipart request spec). At most `MF_MAX_UPLOAD_BYTES` (25 MB); its type is
    /// read from its content: images, video and audio Messenger plays, documents, archives
    /// and text. Give one of `text`, `attachment` and `file`.
    pub file: Option<Upload>,
    /// Idempotency key: the same key returns the same message and sends nothing twice.
    pub client_mutation_id: Option<String>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AttachmentType {
    Image,
    Audio,
    Video,
    File,
}

#[derive(InputObject)]
pub struct AttachmentInput {
    #[graphql(name = "type")]
    pub kind: AttachmentType,
    /// http(s), at most 2000 characters.
    pub url: Option<String>,
    /// An asset the Page saved with Facebook's Attachment Upload API (`is_reusable`), instead
    /// of a `url`. Facebook refuses an id the Page cannot send: the message is then FAILED.
    pub attachment_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateConversationInput {
    pub status: Option<ConversationStatus>,
    /// An agent of the Page; null unassigns.
    pub assignee_id: MaybeUndefined<ID>,
    /// Resets `unreadCount` and sends `mark_seen` to Facebook.
    pub mark_read: Option<bool>,
    /// Snoozes until then (RFC 3339 with an offset, in the future, at most 366 days
    /// ahead): the conversation becomes SNOOZED and wakes (OPEN) by itself at that time,
    /// or earlier when the customer writes. Required with status SNOOZED; refused with any
    /// other status. Leaving SNOOZED clears it.
    pub snoozed_until: Option<String>,
}

#[derive(InputObject)]
pub struct CreateAgentInput {
    pub email: String,
    pub name: String,
    pub role: AgentRole,
    /// 10 to 200 characters.
    #[graphql(secret)]
    pub password: String,
}
