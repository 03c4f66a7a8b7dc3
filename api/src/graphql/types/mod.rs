//! The GraphQL object types, thin views over the stored models: one module per kind of
//! object, and the enums of stored states with their mapping in `states`.
mod audit;
mod conversation;
mod message;
mod note;
mod page;
mod states;
mod sync;

use async_graphql::SimpleObject;

pub use audit::{AuditAction, AuditEntry, AuditEntryConnection};
pub use conversation::{Conversation, ConversationConnection, ConversationEdge};
pub use message::{Attachment, Message, MessageConnection, MessageEdge};
pub use note::{Note, NoteConnection, NoteEdge};
pub use page::{Customer, Page, unread_total};
pub use states::{AssigneeFilter, ConversationStatus, MessageDirection, MessageStatus, SyncStatus};
pub use sync::{SyncJob, SyncResult};

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}
