//! A history sync job, and what a sync imported.
use async_graphql::{ID, Object, SimpleObject};

use entity::sync_job;

use super::SyncStatus;
use crate::time::rfc3339;

/// A history sync job.
pub struct SyncJob(pub sync_job::Model);

#[Object]
impl SyncJob {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn page_id(&self) -> ID {
        ID(self.0.page_id.clone())
    }

    async fn status(&self) -> SyncStatus {
        self.0.status.into()
    }

    /// Conversations imported so far.
    async fn conversations(&self) -> i32 {
        self.0.conversations
    }

    /// Messages imported so far (new or already stored).
    async fn messages(&self) -> i32 {
        self.0.messages
    }

    /// Conversations the job has to import: null while it counts them, then never lower
    /// while it runs (threads created meanwhile raise it); once DONE, equal to
    /// `conversations`. Progress is `conversations` out of `total`.
    async fn total(&self) -> Option<i32> {
        self.0.total
    }

    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    async fn started_at(&self) -> String {
        rfc3339(self.0.started_at)
    }

    async fn finished_at(&self) -> Option<String> {
        self.0.finished_at.map(rfc3339)
    }
}

/// What `syncConversations` imported.
#[derive(SimpleObject)]
pub struct SyncResult {
    pub conversations: i32,
    /// Messages seen (new or already stored).
    pub messages: i32,
    /// Messages stored for the first time.
    pub new_messages: i32,
}
