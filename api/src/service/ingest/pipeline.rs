//! The writers: the queue of deliveries, the writer tasks, and the two locks that let
//! two of them form a pipeline.
//!
//! While holding the intake (the queue, taken with its group) a writer creates the
//! conversations its group needs and inserts its new messages, which only adds rows; then
//! it lets the next writer take a group, and waits for its turn to change existing rows:
//! echoes, conversations, watermarks and the event log. The turn is held until the group
//! is committed and published, so existing rows and the log's heads are locked by one
//! writer at a time (a writer holding the turn never waits for one that does not), and
//! each Page's positions are published in order.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::{Mutex, MutexGuard, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::conversations::{self, Created};
use super::plan::{self, Customer, Outcome};
use super::{IngestError, IngestReport, NewCustomers, changes, referrals, sql};
use crate::bus::Change;
use crate::facebook::events::Event;
use crate::metrics::Metrics;
use crate::service::outbox::Outbox;
use crate::service::profiles::NewCustomer;
use crate::tasks::Tasks;
use crate::time::now_ms;

/// Conversation ids remembered by a writer before its memo is cleared.
const MEMO_LIMIT: usize = 100_000;
/// Longest a group's transaction may take, from taking a connection to COMMIT. Beyond it
/// the database is taken to hang, and the group is refused (503) rather than left waiting.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a writer waits for the database to answer a ping after a failed group.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// One delivery, answered once its transaction committed (or could not).
pub struct Job {
    pub events: Vec<Event>,
    pub reply: oneshot::Sender<Result<IngestReport, IngestError>>,
}

/// The queue of deliveries, held by the writer taking a group until its messages are in.
type Intake<'a> = MutexGuard<'a, mpsc::Receiver<Job>>;

/// What every writer works with.
pub struct Writers {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    /// Most deliveries sharing a transaction.
    pub group_max: usize,
    /// How many writers (see `writer_count`).
    pub count: usize,
    pub new_customers: Option<NewCustomers>,
    pub metrics: Arc<Metrics>,
}

/// Starts the writers on `queue` in `tasks`. Each ends once every sender of the queue is
/// gone and the queue is empty, or when the group stops: then the queue closes (new
/// deliveries are refused) and the writers store what it holds before they end.
pub fn spawn_writers(queue: mpsc::Receiver<Job>, writers: Writers, tasks: &Tasks) {
    let queue = Arc::new(Mutex::new(queue));
    let turn = Arc::new(Mutex::new(()));
    for _ in 0..writers.count.max(1) {
        let writer = Writer {
            db: writers.db.clone(),
            outbox: writers.outbox.clone(),
            group_max: writers.group_max.max(1),
            known_pages: HashSet::new(),
            conversations: HashMap::new(),
            new_customers: writers.new_customers.clone(),
            metrics: writers.metrics.clone(),
            turn: turn.clone(),
        };
        tasks.spawn("ingest-writer", writer.run(queue.clone(), tasks.stopping()));
    }
}

/// Whether `err` comes from what was stored (a constraint, a panic) rather than from the
/// database being down or slow: retrying the same data fails the same way.
fn bad_data(err: &IngestError) -> bool {
    match err {
        IngestError::Panicked => true,
        IngestError::Database(db) => matches!(
            db.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                | Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
        ),
        IngestError::Stopped | IngestError::TimedOut(_) => false,
    }
}

/// Refuses every delivery of `group` with (a copy of) `err`.
fn fail(group: Vec<Job>, err: &IngestError) {
    for job in group {
        let copy = match err {
            IngestError::Database(db) => IngestError::Database(db.clone()),
            IngestError::Stopped => IngestError::Stopped,
            IngestError::TimedOut(after) => IngestError::TimedOut(*after),
            IngestError::Panicked => IngestError::Panicked,
        };
        let _ = job.reply.send(Err(copy));
    }
}

struct Writer {
    db: DatabaseConnection,
    outbox: Outbox,
    group_max: usize,
    /// Pages known to exist (committed), so most deliveries skip the page upsert.
    known_pages: HashSet<String>,
    /// Customer -> conversation id, for committed conversations only.
    conversations: HashMap<Customer, i64>,
    new_customers: Option<NewCustomers>,
    metrics: Arc<Metrics>,
    /// Shared by all writers: whose turn it is to update conversations, append to the
    /// log, commit and publish (see the module).
    turn: Arc<Mutex<()>>,
}

impl Writer {
    /// Takes the deliveries waiting in the shared queue as one group, stores them, and
    /// repeats. The queue stays taken until the group's messages are inserted (see
    /// `apply`); then the next writer takes the deliveries that arrived meanwhile.
    async fn run(mut self, receiver: Arc<Mutex<mpsc::Receiver<Job>>>, stop: CancellationToken) {
        let mut jobs = Vec::with_capacity(self.group_max);
        loop {
            let mut intake = receiver.lock().await;
            let taken = tokio::select! {
                taken = intake.recv_many(&mut jobs, self.group_max) => taken,
                () = stop.cancelled() => {
                    // Stopping: refuse new deliveries, store those already queued.
                    intake.close();
                    intake.recv_many(&mut jobs, self.group_max).await
                }
            };
            if taken == 0 {
                break;
            }
            let group: Vec<Job> = std::mem::take(&mut jobs);
            let attempt = self.guarded_commit(&group, Some(intake)).await;
            if attempt.is_err() {
                self.metrics.group_failures.inc();
            }
            match attempt {
                Ok(outcome) => self.finish(group, outcome).await,
                Err(err) if group.len() == 1 => self.store_alone(group, err).await,
                Err(err) if !self.reachable().await => {
                    tracing::error!(error = %err, size = group.len(), "storing webhook deliveries failed");
                    fail(group, &err);
                }
                Err(err) => {
                    // One delivery must not fail its neighbours: retry each on its own.
                    tracing::warn!(error = %err, size = group.len(), "group commit failed; retrying one by one");
                    let mut rest = group.into_iter();
                    while let Some(job) = rest.next() {
                        let single = vec![job];
                        let retried = self.guarded_commit(&single, None).await;
                        match retried {
                            Ok(outcome) => self.finish(single, outcome).await,
                            Err(err) if bad_data(&err) => self.store_alone(single, err).await,
                            Err(err) => {
                                tracing::error!(error = %err, "storing a webhook delivery failed");
                                fail(single, &err);
                                if !self.reachable().await {
                                    fail(rest.by_ref().collect(), &err);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A delivery that failed on its own (`single` holds one job). When the failure comes
    /// from its data (a constraint, a panic), retrying the whole delivery would fail the
    /// same way for ever, and Facebook would end up disabling the webhook: its events are
    /// stored one by one instead, and an event that still fails alone is skipped, logged
    /// and counted (`events{outcome="failed"}`), while the others are stored and the
    /// delivery is answered 200. Any other failure (the database down or slow) refuses
    /// the delivery (503), so Facebook retries it.
    async fn store_alone(&mut self, single: Vec<Job>, err: IngestError) {
        if !bad_data(&err) || !self.reachable().await {
            tracing::error!(error = %err, "storing a webhook delivery failed");
            fail(single, &err);
            return;
        }
        let Some(job) = single.into_iter().next() else {
            return;
        };
        tracing::warn!(error = %err, events = job.events.len(), "a webhook delivery failed; storing its events one by one");
        let mut report = IngestReport::default();
        for event in &job.events {
            let (reply, _ignored) = oneshot::channel();
            let one = vec![Job {
                events: vec![event.clone()],
                reply,
            }];
            match self.guarded_commit(&one, None).await {
                Ok(outcome) => {
                    if let Some(part) = outcome.reports.first() {
                        report.stored += part.stored;
                        report.duplicates += part.duplicates;
                        report.watermarks += part.watermarks;
                        report.changes += part.changes;
                        report.referrals += part.referrals;
                    }
                    self.finish(one, outcome).await;
                }
                Err(err) if bad_data(&err) => {
                    tracing::error!(error = %err, event = %event.describe(), "a webhook event cannot be stored; skipping it");
                    self.metrics.events.with_label_values(&["failed"]).inc();
                }
                Err(err) => {
                    tracing::error!(error = %err, "storing a webhook delivery failed");
                    let _ = job.reply.send(Err(err));
                    return;
                }
            }
        }
        let _ = job.reply.send(Ok(report));
    }

    /// `commit`, bounded in time and shielded from panics: whatever happens to one group,
    /// the writer lives on and the next group gets a fresh attempt. A commit that timed out
    /// may or may not have landed, so its deliveries are refused (Facebook sends them again,
    /// and the unique `(page_id, mid)` keeps a second copy out).
    async fn guarded_commit(
        &self,
        group: &[Job],
        intake: Option<Intake<'_>>,
    ) -> Result<Committed, IngestError> {
        use futures::FutureExt;
        let attempt = std::panic::AssertUnwindSafe(self.commit(group, intake)).catch_unwind();
        match tokio::time::timeout(COMMIT_TIMEOUT, attempt).await {
            Ok(Ok(Ok(outcome))) => Ok(outcome),
            Ok(Ok(Err(err))) => Err(IngestError::Database(err)),
            Ok(Err(_panic)) => Err(IngestError::Panicked),
            Err(_elapsed) => Err(IngestError::TimedOut(COMMIT_TIMEOUT)),
        }
    }

    /// Whether the database answers now: after a failed group, retrying its deliveries one
    /// by one only helps when the database is up and one delivery was the problem.
    async fn reachable(&self) -> bool {
        matches!(
            tokio::time::timeout(PING_TIMEOUT, self.db.ping()).await,
            Ok(Ok(()))
        )
    }

    /// Answers the deliveries, remembers what is now committed, and publishes.
    async fn finish(&mut self, group: Vec<Job>, outcome: Committed) {
        for (job, report) in group.into_iter().zip(outcome.reports) {
            let _ = job.reply.send(Ok(report));
        }
        self.known_pages.extend(outcome.created.pages);
        if let Some(announce) = &self.new_customers
            && !outcome.created.conversations.is_empty()
        {
            let customers = outcome
                .created
                .conversations
                .iter()
                .map(|((page_id, psid), id)| NewCustomer {
                    conversation_id: *id,
                    page_id: page_id.clone(),
                    psid: psid.clone(),
                })
                .collect();
            let _ = announce.send(customers);
        }
        if self.conversations.len() + outcome.created.conversations.len() > MEMO_LIMIT {
            self.conversations.clear();
        }
        self.conversations.extend(outcome.created.conversations);
    }

    /// One transaction for the whole group, published once committed.
    async fn commit(&self, group: &[Job], intake: Option<Intake<'_>>) -> Result<Committed, DbErr> {
        let started = Instant::now();
        let txn = crate::db::begin_write(&self.db).await?;
        let mut created = Created::default();
        let (reports, changes, turn) = self.apply(&txn, group, intake, &mut created).await?;
        // Still in this writer's turn: the next group's positions are published after these.
        self.outbox.commit(txn, changes).await?;
        drop(turn);
        self.metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.group_size.observe(group.len() as f64);
        let events = &self.metrics.events;
        for report in &reports {
            events
                .with_label_values(&["stored"])
                .inc_by(report.stored as u64);
            events
                .with_label_values(&["duplicate"])
                .inc_by(report.duplicates as u64);
            events
                .with_label_values(&["watermark"])
                .inc_by(report.watermarks as u64);
            events
                .with_label_values(&["change"])
                .inc_by(report.changes as u64);
            events
                .with_label_values(&["referral"])
                .inc_by(report.referrals as u64);
        }
        Ok(Committed { reports, created })
    }

    /// Plans the group and executes the plan in `db` (see the module for the two locks):
    /// each delivery's report, and the changes to append to the log.
    async fn apply<'a>(
        &'a self,
        db: &impl ConnectionTrait,
        group: &[Job],
        intake: Option<Intake<'a>>,
        created: &mut Created,
    ) -> Result<(Vec<IngestReport>, Vec<Change>, MutexGuard<'a, ()>), DbErr> {
        let now = now_ms();
        let conversation_of = self.conversations(db, group, now, created).await?;
        let mut plan = plan::plan(
            group.iter().map(|job| job.events.as_slice()),
            &conversation_of,
        )
        .map_err(|missing| DbErr::RecordNotFound(missing.to_string()))?;
        let mut outcome = Outcome {
            added: sql::insert_rows(db, &plan.rows, now).await?,
            ..Outcome::default()
        };
        // The next writer may take its group and store its messages while this one
        // finishes. From here on, only the writer whose turn it is changes existing rows.
        drop(intake);
        let turn = self.turn.lock().await;
        sql::adopt_echoes(db, &mut plan, now, &mut outcome).await?;
        plan.account(&outcome.added);
        let touched = plan.touched_in_order();
        sql::update_touched(db, &touched, now, &mut outcome).await?;
        changes::apply(db, &plan.reactions, &plan.edits, &mut outcome).await?;
        outcome.referrals = referrals::insert(db, &plan.referrals, now).await?;
        Ok((plan.reports, plan::announcements(outcome), turn))
    }

    /// The conversation of every customer the group names: from the memo, or found and
    /// created (with their Pages) in `db`, which `created` then holds.
    async fn conversations(
        &self,
        db: &impl ConnectionTrait,
        group: &[Job],
        now: i64,
        created: &mut Created,
    ) -> Result<HashMap<Customer, i64>, DbErr> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for customer in plan::customers(group.iter().flat_map(|job| &job.events)) {
            match self.conversations.get(&customer) {
                Some(id) => {
                    found.insert(customer, *id);
                }
                None => missing.push(customer),
            }
        }
        if !missing.is_empty() {
            *created = conversations::create(db, missing, &self.known_pages, now).await?;
            found.extend(created.conversations.iter().cloned());
        }
        Ok(found)
    }
}

/// What a committed group changed, for its deliveries and the writer's memo.
struct Committed {
    reports: Vec<IngestReport>,
    created: Created,
}
