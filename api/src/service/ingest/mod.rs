//! Storing webhook events: exactly once, durably, with group commit.
//!
//! Every delivery is handed to one writer task and answered only after the transaction
//! holding it has committed. While one transaction commits, the deliveries that arrive
//! queue up and the next transaction takes them all: concurrent deliveries share one
//! fsync (group commit) instead of weakening durability. `(page_id, mid)` is unique, so a
//! repeated or concurrent duplicate changes nothing. Each group's changes are appended to
//! the event log in its transaction and published after commit (see `outbox`).
//!
//! The parts: `plan` decides what a group changes without the database; `sql` executes
//! the plan (`conversations` creates what it needs first, `echo` completes our sends);
//! `pipeline` owns the queue, the writer tasks and their locks.
mod changes;
mod conversations;
mod echo;
mod pipeline;
mod plan;
mod referrals;
mod sql;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbBackend, DbErr};
use tokio::sync::{mpsc, oneshot};

use crate::facebook::events::Event;
use crate::service::outbox::Outbox;

pub use changes::{StoredReaction, reactions_of};
pub use echo::{MidHolder, OWN_METADATA_PREFIX, PENDING_MID_PREFIX, make_way_for_mid};
pub use pipeline::{Job, Writers, spawn_writers};

/// Deliveries waiting for the writers; senders wait (back-pressure) when it is full.
const QUEUE: usize = 4096;

/// What one delivery changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Messages stored for the first time.
    pub stored: usize,
    /// Messages already stored (Facebook retries and duplicates).
    pub duplicates: usize,
    /// Delivery and read watermarks applied.
    pub watermarks: usize,
    /// Reactions and edits received (applied to the message when it is stored and they are
    /// newer than what it shows; see `ingest::changes`).
    pub changes: usize,
    /// Referrals received (stored once each: see `ingest::referrals`).
    pub referrals: usize,
}

/// The delivery was not stored; the webhook answers 503 so Facebook sends it again.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the database did not store the delivery: {0}")]
    Database(#[from] DbErr),
    #[error("the ingest writer has stopped")]
    Stopped,
    /// The transaction did not finish in time: it may or may not have committed.
    #[error("the database did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    #[error("storing the delivery panicked")]
    Panicked,
}

/// Handle to the writers. Cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Job>,
}

/// Where the writer announces conversations it created (for their customers' profiles).
pub type NewCustomers = mpsc::UnboundedSender<Vec<crate::service::profiles::NewCustomer>>;

/// How many writers ingest runs on `backend` when `requested`: SQLite takes one writer at
/// a time, so a second would only wait for the first's lock.
pub fn writer_count(backend: DbBackend, requested: usize) -> usize {
    match backend {
        DbBackend::Sqlite => 1,
        _ => requested.max(1),
    }
}

impl Ingest {
    /// Starts the writers (see `writer_count`) in `tasks`, each with a connection of `db`
    /// (sized for them); `group_max` bounds how many deliveries share a transaction.
    pub fn start(
        db: DatabaseConnection,
        outbox: Outbox,
        group_max: usize,
        writers: usize,
        new_customers: Option<NewCustomers>,
        metrics: Arc<crate::metrics::Metrics>,
        tasks: &crate::tasks::Tasks,
    ) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let writers = Writers {
            count: writer_count(db.get_database_backend(), writers),
            db,
            outbox,
            group_max,
            new_customers,
            metrics,
        };
        spawn_writers(receiver, writers, tasks);
        Self { queue }
    }

    /// Stores `events` and returns once they are committed (or could not be).
    pub async fn submit(&self, events: Vec<Event>) -> Result<IngestReport, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { events, reply })
            .await
            .map_err(|_| IngestError::Stopped)?;
        answer.await.map_err(|_| IngestError::Stopped)?
    }
}
