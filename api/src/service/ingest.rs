//! Storing webhook events: exactly once, durably, with group commit.
//!
//! Every delivery is handed to one writer task and answered only after the transaction
//! holding it has committed. While one transaction commits, the deliveries that arrive
//! queue up and the next transaction takes them all: concurrent deliveries share one
//! fsync (group commit) instead of weakening durability. `(page_id, mid)` is unique, so a
//! repeated or concurrent duplicate changes nothing. Each group's changes are appended to
//! the event log in its transaction and published after commit (see `outbox`).
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Statement, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use entity::message::Status;
use entity::{conversation, message, page};

use crate::bus::{Change, PageEvent};
use crate::facebook::events::{Attachment, Direction, Event, IncomingMessage};
use crate::service::{activity, event_log, outbox::Outbox};
use crate::time::now_ms;

/// Deliveries waiting for the writer; senders wait (back-pressure) when it is full.
const QUEUE: usize = 4096;
/// Conversation ids remembered by the writer before the memo is cleared.
const MEMO_LIMIT: usize = 100_000;
/// Longest a group's transaction may take, from taking a connection to COMMIT. Beyond it
/// the database is taken to hang, and the group is refused (503) rather than left waiting.
const COMMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long the writer waits for the database to answer a ping after a failed group.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// What one delivery changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Messages stored for the first time.
    pub stored: usize,
    /// Messages already stored (Facebook retries and duplicates).
    pub duplicates: usize,
    /// Delivery and read watermarks applied.
    pub watermarks: usize,
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

/// The queue of deliveries, held by the writer taking a group until its messages are in.
type Intake<'a> = tokio::sync::MutexGuard<'a, mpsc::Receiver<Job>>;

struct Job {
    events: Vec<Event>,
    reply: oneshot::Sender<Result<IngestReport, IngestError>>,
}

/// Handle to the writer task. Cheap to clone.
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
    /// Starts the writers (see `writer_count`), each with a connection of `db` (sized for
    /// them); `group_max` bounds how many deliveries share a transaction.
    pub fn start(
        db: DatabaseConnection,
        outbox: Outbox,
        group_max: usize,
        writers: usize,
        new_customers: Option<NewCustomers>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let turn = Arc::new(tokio::sync::Mutex::new(()));
        for _ in 0..writer_count(db.get_database_backend(), writers) {
            let writer = Writer {
                db: db.clone(),
                outbox: outbox.clone(),
                group_max: group_max.max(1),
                known_pages: HashSet::new(),
                conversations: HashMap::new(),
                new_customers: new_customers.clone(),
                metrics: metrics.clone(),
                turn: turn.clone(),
            };
            tokio::spawn(writer.run(receiver.clone()));
        }
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

struct Writer {
    db: DatabaseConnection,
    outbox: Outbox,
    group_max: usize,
    /// Pages known to exist (committed), so most deliveries skip the page upsert.
    known_pages: HashSet<String>,
    /// (page, psid) -> conversation id, for committed conversations only.
    conversations: HashMap<(String, String), i64>,
    new_customers: Option<NewCustomers>,
    metrics: Arc<crate::metrics::Metrics>,
    /// Shared by all writers: whose turn it is to update conversations, append to the
    /// log, commit and publish (see `apply`).
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Writer {
    /// Takes the deliveries waiting in the shared queue as one group, stores them, and
    /// repeats. The queue stays taken until the group's messages are inserted (see
    /// `apply`); then the next writer takes the deliveries that arrived meanwhile.
    async fn run(mut self, receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
        let mut jobs = Vec::with_capacity(self.group_max);
        loop {
            let mut intake = receiver.lock().await;
            if intake.recv_many(&mut jobs, self.group_max).await == 0 {
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
    ) -> Result<Outcome, IngestError> {
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
    async fn finish(&mut self, group: Vec<Job>, outcome: Outcome) {
        for (job, report) in group.into_iter().zip(outcome.reports) {
            let _ = job.reply.send(Ok(report));
        }
        self.known_pages.extend(outcome.new_pages);
        if let Some(announce) = &self.new_customers
            && !outcome.new_conversations.is_empty()
        {
            let customers = outcome
                .new_conversations
                .iter()
                .map(
                    |((page_id, psid), id)| crate::service::profiles::NewCustomer {
                        conversation_id: *id,
                        page_id: page_id.clone(),
                        psid: psid.clone(),
                    },
                )
                .collect();
            let _ = announce.send(customers);
        }
        if self.conversations.len() + outcome.new_conversations.len() > MEMO_LIMIT {
            self.conversations.clear();
        }
        self.conversations.extend(outcome.new_conversations);
    }

    /// One transaction for the whole group, published once committed.
    async fn commit(&self, group: &[Job], intake: Option<Intake<'_>>) -> Result<Outcome, DbErr> {
        let started = std::time::Instant::now();
        let txn = self.db.begin().await?;
        let (mut outcome, turn) = self.apply(&txn, group, intake).await?;
        txn.commit().await?;
        // Still in this writer's turn: the next group's positions are published after these.
        self.outbox.publish(std::mem::take(&mut outcome.events));
        drop(turn);
        self.metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.group_size.observe(group.len() as f64);
        let events = &self.metrics.events;
        for report in &outcome.reports {
            events
                .with_label_values(&["stored"])
                .inc_by(report.stored as u64);
            events
                .with_label_values(&["duplicate"])
                .inc_by(report.duplicates as u64);
            events
                .with_label_values(&["watermark"])
                .inc_by(report.watermarks as u64);
        }
        Ok(outcome)
    }

    /// Stores a group with a handful of set-based statements, whatever its size: the
    /// conversations it needs, its new messages, then one update of every touched
    /// conversation, the watermarks and the event log.
    ///
    /// Two writers form a pipeline. While holding `intake` (the queue, taken with the
    /// group) a writer creates conversations and inserts the new messages, which only
    /// adds rows; then it lets the next writer take its group, and waits for its `turn`
    /// to change existing rows: echoes, conversations, watermarks and the event log. The
    /// turn is held until the group is committed and published, so existing rows and the
    /// log's heads are locked by one writer at a time (a writer holding the turn never
    /// waits for one that does not), and each Page's positions are published in order.
    async fn apply<'a>(
        &'a self,
        db: &impl ConnectionTrait,
        group: &[Job],
        intake: Option<Intake<'a>>,
    ) -> Result<(Outcome, tokio::sync::MutexGuard<'a, ()>), DbErr> {
        let now = now_ms();
        let mut outcome = Outcome {
            reports: vec![IngestReport::default(); group.len()],
            ..Outcome::default()
        };
        let conversations = self.conversations(db, group, now, &mut outcome).await?;
        let conversation_of = |page_id: &str, psid: &str| -> Result<i64, DbErr> {
            conversations
                .get(&(page_id.to_owned(), psid.to_owned()))
                .copied()
                .ok_or_else(|| DbErr::RecordNotFound(format!("conversation of {psid}")))
        };

        // Each (page, mid) once per group; the unique index takes care of earlier groups.
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        let mut rows: Vec<(usize, i64, &IncomingMessage)> = Vec::new();
        // Echoes of messages sent from MessengerFlow: they complete the stored message.
        let mut adopt: Vec<(usize, i64, i64, &IncomingMessage)> = Vec::new();
        let mut touched: HashMap<i64, Touched> = HashMap::new();
        for (index, job) in group.iter().enumerate() {
            for event in &job.events {
                match event {
                    Event::Message(m) => {
                        if !seen.insert((&m.page_id, &m.mid)) {
                            outcome.reports[index].duplicates += 1;
                        } else if let Some(own) = own_send(m) {
                            adopt.push((index, conversation_of(&m.page_id, &m.psid)?, own, m));
                        } else {
                            rows.push((index, conversation_of(&m.page_id, &m.psid)?, m));
                        }
                    }
                    Event::Delivery {
                        page_id,
                        psid,
                        watermark,
                    } => {
                        let entry = touched.entry(conversation_of(page_id, psid)?).or_default();
                        entry.delivered = std::cmp::max(entry.delivered, *watermark);
                        outcome.reports[index].watermarks += 1;
                    }
                    Event::Read {
                        page_id,
                        psid,
                        watermark,
                    } => {
                        let entry = touched.entry(conversation_of(page_id, psid)?).or_default();
                        entry.read = std::cmp::max(entry.read, *watermark);
                        outcome.reports[index].watermarks += 1;
                    }
                }
            }
        }

        let mut added = Vec::new();
        for chunk in rows.chunks(INSERT_CHUNK) {
            added.extend(insert_messages(db, chunk, now).await?);
        }
        // The next writer may take its group and store its messages while this one
        // finishes. From here on, only the writer whose turn it is changes existing rows.
        drop(intake);
        let turn = self.turn.lock().await;

        let mut adopted: Vec<message::Model> = Vec::new();
        let mut removed: Vec<Change> = Vec::new();
        let mut unmatched = Vec::new();
        for (index, conversation_id, own_id, m) in adopt {
            match adopt_echo(db, own_id, m).await? {
                Some((model, merged)) => {
                    outcome.reports[index].duplicates += 1;
                    touched.entry(conversation_id).or_default().new_outbound = true;
                    if let Some(id) = merged {
                        removed.push(Change::MessageRemoved {
                            page_id: model.page_id.clone(),
                            id,
                        });
                    }
                    adopted.push(model);
                }
                None => unmatched.push((index, conversation_id, m)),
            }
        }
        for chunk in unmatched.chunks(INSERT_CHUNK) {
            added.extend(insert_messages(db, chunk, now).await?);
        }
        rows.extend(unmatched);
        let job_of: HashMap<(&str, &str), usize> = rows
            .iter()
            .map(|(job, _, m)| ((m.page_id.as_str(), m.mid.as_str()), *job))
            .collect();
        for (job, _, _) in &rows {
            outcome.reports[*job].duplicates += 1;
        }
        let historical_keys: HashSet<(&str, &str)> = rows
            .iter()
            .filter(|(_, _, m)| m.historical)
            .map(|(_, _, m)| (m.page_id.as_str(), m.mid.as_str()))
            .collect();
        let historical: HashSet<i64> = added
            .iter()
            .filter(|m| historical_keys.contains(&(m.page_id.as_str(), m.mid.as_str())))
            .map(|m| m.id)
            .collect();
        for message in &added {
            if let Some(job) = job_of.get(&(message.page_id.as_str(), message.mid.as_str())) {
                outcome.reports[*job].stored += 1;
                outcome.reports[*job].duplicates -= 1;
            }
            let entry = touched.entry(message.conversation_id).or_default();
            if entry
                .newest
                .as_ref()
                .is_none_or(|(ts, _)| message.timestamp >= *ts)
            {
                entry.newest = Some((message.timestamp, preview(message)));
            }
            if message.direction == Direction::Inbound {
                if !historical.contains(&message.id) {
                    entry.new_inbound += 1;
                }
                entry.newest_inbound = std::cmp::max(entry.newest_inbound, Some(message.timestamp));
            } else {
                entry.new_outbound = true;
            }
        }

        let mut touched: Vec<(i64, Touched)> = touched.into_iter().collect();
        touched.sort_unstable_by_key(|(id, _)| *id);
        let reopening = closed_among(db, &touched).await?;
        let mut updated_conversations = Vec::with_capacity(touched.len());
        for chunk in touched.chunks(UPDATE_CHUNK) {
            updated_conversations.extend(update_conversations(db, chunk, now).await?);
        }
        let mut reopened = Vec::new();
        for conversation in &updated_conversations {
            if let Some(before) = reopening.get(&conversation.id)
                && conversation.status != *before
            {
                reopened.push(activity::record_reopened(db, conversation, *before, now).await?);
            }
        }
        let mut updated_messages: Vec<message::Model> = Vec::new();
        for (id, change) in &touched {
            let marks = change.delivered > 0 || change.read > 0 || change.new_outbound;
            if marks && let Some(conversation) = updated_conversations.iter().find(|c| c.id == *id)
            {
                updated_messages.extend(apply_watermarks(db, conversation).await?);
            }
        }

        // A message added and marked by a watermark in the same group is announced once,
        // as added, with its final status. Messages go first, so a client that sees a
        // conversation move can already fetch them.
        let mut changes = Vec::with_capacity(added.len() + touched.len());
        let mut changed: HashMap<i64, message::Model> = adopted
            .into_iter()
            .chain(updated_messages)
            .map(|m| (m.id, m))
            .collect();
        for message in added {
            let latest = changed.remove(&message.id).unwrap_or(message);
            changes.push(Change::MessageAdded(latest));
        }
        changes.extend(changed.into_values().map(Change::MessageUpdated));
        // After the survivor's update, so a client never shows neither.
        changes.extend(removed);
        changes.extend(
            updated_conversations
                .into_iter()
                .map(Change::ConversationUpdated),
        );
        changes.extend(reopened);
        // In this transaction: a committed change always has its place in the log.
        outcome.events = event_log::append(db, changes, now).await?;
        Ok((outcome, turn))
    }

    /// The conversation id of every (page, customer) in the group, creating Pages and
    /// conversations seen for the first time.
    async fn conversations(
        &self,
        db: &impl ConnectionTrait,
        group: &[Job],
        now: i64,
        outcome: &mut Outcome,
    ) -> Result<HashMap<(String, String), i64>, DbErr> {
        let mut found = HashMap::new();
        let mut missing: Vec<(String, String)> = Vec::new();
        let mut missing_set: HashSet<(String, String)> = HashSet::new();
        for event in group.iter().flat_map(|job| &job.events) {
            let key = match event {
                Event::Message(m) => (m.page_id.clone(), m.psid.clone()),
                Event::Delivery { page_id, psid, .. } | Event::Read { page_id, psid, .. } => {
                    (page_id.clone(), psid.clone())
                }
            };
            if found.contains_key(&key) || missing_set.contains(&key) {
                continue;
            }
            match self.conversations.get(&key) {
                Some(id) => {
                    found.insert(key, *id);
                }
                None => {
                    missing_set.insert(key.clone());
                    missing.push(key);
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        // In key order, so concurrent writers creating the same conversations take their
        // locks in the same order (one waits for the other; neither deadlocks).
        missing.sort_unstable();

        let mut new_pages: Vec<String> = missing
            .iter()
            .map(|(page, _)| page.clone())
            .filter(|page| !self.known_pages.contains(page))
            .collect();
        new_pages.sort_unstable();
        new_pages.dedup();
        if !new_pages.is_empty() {
            page::Entity::insert_many(new_pages.iter().map(|id| page::ActiveModel {
                id: Set(id.clone()),
                name: Set(None),
                created_at: Set(now),
                ..Default::default()
            }))
            .on_conflict_do_nothing_on([page::Column::Id])
            .exec_without_returning(db)
            .await?;
            outcome.new_pages = new_pages;
        }

        for chunk in missing.chunks(INSERT_CHUNK) {
            conversation::Entity::insert_many(chunk.iter().map(|(page_id, psid)| {
                conversation::ActiveModel {
                    id: NotSet,
                    page_id: Set(page_id.clone()),
                    psid: Set(psid.clone()),
                    customer_name: Set(None),
                    last_message_text: Set(None),
                    last_timestamp: Set(0),
                    unread_count: Set(0),
                    status: Set(conversation::Status::Open),
                    last_inbound_timestamp: Set(None),
                    delivered_watermark: Set(0),
                    read_watermark: Set(0),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
            }))
            .on_conflict_do_nothing_on([conversation::Column::PageId, conversation::Column::Psid])
            .exec_without_returning(db)
            .await?;
            let mut matches = Condition::any();
            for (page_id, psid) in chunk {
                matches = matches.add(
                    Condition::all()
                        .add(conversation::Column::PageId.eq(page_id.as_str()))
                        .add(conversation::Column::Psid.eq(psid.as_str())),
                );
            }
            let rows: Vec<(i64, String, String)> = conversation::Entity::find()
                .select_only()
                .column(conversation::Column::Id)
                .column(conversation::Column::PageId)
                .column(conversation::Column::Psid)
                .filter(matches)
                .into_tuple()
                .all(db)
                .await?;
            for (id, page_id, psid) in rows {
                outcome
                    .new_conversations
                    .push(((page_id.clone(), psid.clone()), id));
                found.insert((page_id, psid), id);
            }
        }
        Ok(found)
    }
}

/// Rows per multi-row INSERT: 14 columns each stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters.
const INSERT_CHUNK: usize = 500;
/// Conversations per batched UPDATE (8 parameters each).
const UPDATE_CHUNK: usize = 500;

/// What a committed group changed.
#[derive(Default)]
struct Outcome {
    reports: Vec<IngestReport>,
    events: Vec<PageEvent>,
    new_pages: Vec<String>,
    new_conversations: Vec<((String, String), i64)>,
}

/// The changes to one conversation within a group, applied in one UPDATE at the end.
#[derive(Default)]
struct Touched {
    new_inbound: i32,
    /// The newest message added: (time, preview text).
    newest: Option<(i64, String)>,
    newest_inbound: Option<i64>,
    delivered: i64,
    read: i64,
    new_outbound: bool,
}

/// The id of our own stored message that an echo reports on (`metadata: "mf:<id>"`).
fn own_send(message: &IncomingMessage) -> Option<i64> {
    if message.direction != Direction::Outbound {
        return None;
    }
    message
        .metadata
        .as_deref()?
        .strip_prefix(OWN_METADATA_PREFIX)?
        .parse()
        .ok()
}

/// Tags our sends so their echoes can be matched (`metadata` is echoed back).
pub const OWN_METADATA_PREFIX: &str = "mf:";
/// The `mid` of a message not yet accepted by Facebook.
pub const PENDING_MID_PREFIX: &str = "pending:";

/// Who else holds a mid that our unsent row is about to take.
pub enum MidHolder {
    /// Nobody: our row may take it.
    Nobody,
    /// An imported copy of our reply, now deleted (its id): our row may take the mid.
    MergedCopy(i64),
    /// A row that cannot be the same message (another conversation, inbound, one of our
    /// own sends), or our row is not unsent: left alone, and our row must not take it.
    Other,
}

/// Makes way for our unsent row `own_id` (PENDING or FAILED, no mid yet) to take `mid`.
/// A history sync may have imported our reply as a row of its own before the echo or
/// the Send API's answer gave us the mid. Ours survives, since it is the row
/// `sendMessage` answered with and carries the agent and `clientMutationId`: the copy
/// (outbound, in our row's conversation, no agent, no key) is deleted, so the unique
/// `(page_id, mid)` is never hit. Call in the transaction that then gives ours the mid.
///
/// The DELETE comes first: on SQLite a transaction that read before writing could not
/// take the write lock while another connection writes.
pub async fn make_way_for_mid(
    db: &impl ConnectionTrait,
    own_id: i64,
    page_id: &str,
    mid: &str,
) -> Result<MidHolder, DbErr> {
    use message::Column as M;
    let ours_conversation = sea_orm::sea_query::Query::select()
        .column(M::ConversationId)
        .from(message::Entity)
        .and_where(M::Id.eq(own_id))
        .and_where(M::PageId.eq(page_id))
        .and_where(M::Direction.eq(Direction::Outbound))
        .and_where(M::Mid.starts_with(PENDING_MID_PREFIX))
        .to_owned();
    let deleted = message::Entity::delete_many()
        .filter(M::PageId.eq(page_id))
        .filter(M::Mid.eq(mid))
        .filter(M::Id.ne(own_id))
        .filter(M::Direction.eq(Direction::Outbound))
        .filter(M::AgentId.is_null())
        .filter(M::ClientMutationId.is_null())
        .filter(M::ConversationId.in_subquery(ours_conversation))
        .exec_with_returning(db)
        .await?;
    if let Some(copy) = deleted.first() {
        return Ok(MidHolder::MergedCopy(copy.id));
    }
    let held = message::Entity::find()
        .filter(M::PageId.eq(page_id))
        .filter(M::Mid.eq(mid))
        .filter(M::Id.ne(own_id))
        .one(db)
        .await?;
    Ok(if held.is_some() {
        MidHolder::Other
    } else {
        MidHolder::Nobody
    })
}

/// An echo of our own send: gives the stored message Facebook's mid and SENT, whether the
/// Send API's answer or the echo arrived first. `None` when no such message is ours (the
/// echo is then stored, or counted as a duplicate, like any other).
///
/// When a history sync already imported the reply (`make_way_for_mid`), the copy is
/// merged into ours and its id comes back with ours, for a MESSAGE_REMOVED entry: the
/// delivery is stored rather than failing on the unique `(page_id, mid)` for ever.
async fn adopt_echo(
    db: &impl ConnectionTrait,
    own_id: i64,
    echo: &IncomingMessage,
) -> Result<Option<(message::Model, Option<i64>)>, DbErr> {
    use message::Column as M;
    let merged = match make_way_for_mid(db, own_id, &echo.page_id, &echo.mid).await? {
        MidHolder::Nobody => None,
        MidHolder::MergedCopy(copy) => Some(copy),
        MidHolder::Other => return Ok(None),
    };
    let was_unsent = ExprTrait::is_in(Expr::col(M::Status), [Status::Pending, Status::Failed]);
    let status = Expr::case(was_unsent, Expr::val(Status::Sent)).finally(Expr::col(M::Status));
    let updated = message::Entity::update_many()
        .col_expr(M::Mid, Expr::val(echo.mid.clone()))
        .col_expr(M::Status, status.into())
        .col_expr(M::ErrorCode, Expr::val(Option::<String>::None))
        .filter(M::Id.eq(own_id))
        .filter(M::PageId.eq(echo.page_id.as_str()))
        .filter(M::Direction.eq(Direction::Outbound))
        .filter(
            Condition::any()
                .add(M::Mid.eq(echo.mid.as_str()))
                .add(M::Mid.starts_with(PENDING_MID_PREFIX)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(updated.into_iter().next().map(|model| (model, merged)))
}

/// What the inbox shows as a conversation's last message.
fn preview(message: &message::Model) -> String {
    if let Some(text) = &message.text {
        return text.clone();
    }
    let first_kind = message
        .attachments
        .as_deref()
        .and_then(|json| serde_json::from_str::<Vec<Attachment>>(json).ok())
        .and_then(|list| list.into_iter().next())
        .map(|a| a.kind);
    first_kind
        .map(|kind| format!("[{kind}]"))
        .unwrap_or_default()
}

/// Inserts the messages whose `(page_id, mid)` is not stored yet, in one statement,
/// and returns those it stored (ON CONFLICT DO NOTHING RETURNING: none for duplicates).
async fn insert_messages(
    db: &impl ConnectionTrait,
    rows: &[(usize, i64, &IncomingMessage)],
    now: i64,
) -> Result<Vec<message::Model>, DbErr> {
    // Plain SQL with a row of placeholders per message: this statement carries most of
    // ingest's rows, and the query builder's per-value expressions and copies showed up
    // in the writer's profile (the writer's time here delays the next group).
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * MESSAGE_PARAMS);
    for (_, conversation_id, m) in rows {
        values.extend([
            m.page_id.clone().into(),
            (*conversation_id).into(),
            m.mid.clone().into(),
            m.direction.into(),
            m.text.clone().into(),
            attachments_json(m).into(),
            m.quick_reply_payload.clone().into(),
            m.reply_to_mid.clone().into(),
            m.app_id.clone().into(),
            m.timestamp.into(),
            now.into(),
            Status::Sent.into(),
        ]);
    }
    let sql = format!(
        "INSERT INTO messages (page_id, conversation_id, mid, direction, text, attachments, \
           quick_reply_payload, reply_to_mid, app_id, \"timestamp\", created_at, status) \
         VALUES {} ON CONFLICT (page_id, mid) DO NOTHING RETURNING id, page_id, mid",
        placeholder_rows(backend, 0, rows.len(), MESSAGE_PARAMS)
    );
    let statement = Statement::from_sql_and_values(backend, sql, values);
    let stored = db.query_all_raw(statement).await?;
    // Only the keys come back; the rest of each stored row is what was just inserted.
    let by_key: HashMap<(&str, &str), (i64, &IncomingMessage)> = rows
        .iter()
        .map(|(_, conversation_id, m)| {
            ((m.page_id.as_str(), m.mid.as_str()), (*conversation_id, *m))
        })
        .collect();
    let mut models = Vec::with_capacity(stored.len());
    for row in &stored {
        let id: i64 = row.try_get("", "id")?;
        let page_id: String = row.try_get("", "page_id")?;
        let mid: String = row.try_get("", "mid")?;
        let Some(&(conversation_id, m)) = by_key.get(&(page_id.as_str(), mid.as_str())) else {
            return Err(DbErr::RecordNotFound(format!("inserted message {mid}")));
        };
        models.push(message::Model {
            id,
            page_id,
            conversation_id,
            mid,
            direction: m.direction,
            text: m.text.clone(),
            attachments: attachments_json(m),
            quick_reply_payload: m.quick_reply_payload.clone(),
            reply_to_mid: m.reply_to_mid.clone(),
            app_id: m.app_id.clone(),
            timestamp: m.timestamp,
            status: Status::Sent,
            error_code: None,
            created_at: now,
            client_mutation_id: None,
            agent_id: None,
            tag: None,
        });
    }
    Ok(models)
}

fn attachments_json(message: &IncomingMessage) -> Option<String> {
    if message.attachments.is_empty() {
        None
    } else {
        serde_json::to_string(&message.attachments).ok()
    }
}

/// The RESOLVED or SNOOZED conversations among those a customer just wrote to, with their
/// status: `update_conversations` reopens them, and their activity says so (no actor).
/// Read by the writer whose turn it is, which alone changes existing rows in ingest.
async fn closed_among(
    db: &impl ConnectionTrait,
    touched: &[(i64, Touched)],
) -> Result<HashMap<i64, conversation::Status>, DbErr> {
    use conversation::Column as C;
    let written_to: Vec<i64> = touched
        .iter()
        .filter(|(_, change)| change.new_inbound > 0)
        .map(|(id, _)| *id)
        .collect();
    let mut closed = HashMap::new();
    for ids in written_to.chunks(UPDATE_CHUNK) {
        let rows: Vec<(i64, conversation::Status)> = conversation::Entity::find()
            .select_only()
            .column(C::Id)
            .column(C::Status)
            .filter(C::Id.is_in(ids.iter().copied()))
            .filter(C::Status.is_in([
                conversation::Status::Resolved,
                conversation::Status::Snoozed,
            ]))
            .into_tuple()
            .all(db)
            .await?;
        closed.extend(rows);
    }
    Ok(closed)
}

/// One UPDATE ... FROM (VALUES ...) for many conversations. Times only move forward:
/// a late, older message does not become the conversation's last one. A customer who
/// writes (a new inbound message, not a history import, an echo or a watermark) reopens a
/// RESOLVED or SNOOZED conversation: it becomes OPEN, its snooze cleared, and the change
/// goes out with the conversation's update like any other. Absent values
/// are -1 (times are positive), which keeps every VALUES column typed on PostgreSQL.
async fn update_conversations(
    db: &impl ConnectionTrait,
    chunk: &[(i64, Touched)],
    now: i64,
) -> Result<Vec<conversation::Model>, DbErr> {
    use conversation::Status;
    let backend = db.get_database_backend();
    // The statuses come first: their placeholders precede the rows' in the statement.
    let mut values: Vec<sea_orm::Value> =
        Vec::with_capacity(STATUS_PARAMS + chunk.len() * CONVERSATION_PARAMS);
    values.extend([
        Status::Resolved.into(),
        Status::Snoozed.into(),
        Status::Open.into(),
    ]);
    for (id, change) in chunk {
        let (newest_ts, newest_text) = match &change.newest {
            Some((ts, text)) => (*ts, text.clone()),
            None => (-1, String::new()),
        };
        values.extend([
            (*id).into(),
            i64::from(change.new_inbound).into(),
            newest_ts.into(),
            newest_text.into(),
            change.newest_inbound.unwrap_or(-1).into(),
            change.delivered.into(),
            change.read.into(),
            now.into(),
        ]);
    }
    let sql = format!(
        "UPDATE conversations SET \
           unread_count = conversations.unread_count + v.column2, \
           last_message_text = CASE WHEN v.column3 >= 0 AND v.column3 >= conversations.last_timestamp \
             THEN v.column4 ELSE conversations.last_message_text END, \
           last_timestamp = CASE WHEN v.column3 > conversations.last_timestamp \
             THEN v.column3 ELSE conversations.last_timestamp END, \
           last_inbound_timestamp = CASE WHEN v.column5 >= 0 AND (conversations.last_inbound_timestamp IS NULL \
             OR v.column5 > conversations.last_inbound_timestamp) THEN v.column5 \
             ELSE conversations.last_inbound_timestamp END, \
           delivered_watermark = CASE WHEN v.column6 > conversations.delivered_watermark \
             THEN v.column6 ELSE conversations.delivered_watermark END, \
           read_watermark = CASE WHEN v.column7 > conversations.read_watermark \
             THEN v.column7 ELSE conversations.read_watermark END, \
           status = CASE WHEN v.column2 > 0 AND conversations.status IN ({}, {}) \
             THEN {} ELSE conversations.status END, \
           snoozed_until = CASE WHEN v.column2 > 0 THEN NULL ELSE conversations.snoozed_until END, \
           updated_at = v.column8 \
         FROM (VALUES {}) AS v \
         WHERE conversations.id = v.column1 \
         RETURNING {}",
        placeholder(backend, 1),
        placeholder(backend, 2),
        placeholder(backend, 3),
        placeholder_rows(backend, STATUS_PARAMS, chunk.len(), CONVERSATION_PARAMS),
        CONVERSATION_COLUMNS
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter()
        .map(|row| conversation::Model::from_query_result(row, ""))
        .collect()
}

const CONVERSATION_COLUMNS: &str = "id, page_id, psid, customer_name, last_message_text, \
    last_timestamp, unread_count, status, last_inbound_timestamp, delivered_watermark, \
    read_watermark, created_at, updated_at, customer_picture, assignee_id, snoozed_until";

/// Bound parameters per row of `insert_messages`.
const MESSAGE_PARAMS: usize = 12;
/// Bound parameters per conversation of `update_conversations`.
const CONVERSATION_PARAMS: usize = 8;

/// Bound parameters of `update_conversations` before its rows (the statuses it reads).
const STATUS_PARAMS: usize = 3;

/// The placeholder of the `n`th bound parameter (from 1), in the statement's order.
fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// `(p, …, p), (…)`: `rows` rows of `columns` parameters each, numbered on after the
/// statement's first `before` parameters.
fn placeholder_rows(backend: DbBackend, before: usize, rows: usize, columns: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(rows * (columns * 7 + 4));
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            let n = before + row * columns + column + 1;
            match backend {
                DbBackend::Postgres => {
                    let _ = write!(sql, "${n}");
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// Outbound messages at or before the conversation's watermarks become DELIVERED / READ.
/// Status only moves forward: READ is never turned back into DELIVERED.
async fn apply_watermarks(
    db: &impl ConnectionTrait,
    conversation: &conversation::Model,
) -> Result<Vec<message::Model>, DbErr> {
    use message::Column as M;
    let mut changed = Vec::new();
    let steps = [
        (
            conversation.read_watermark,
            Status::Read,
            &[Status::Sent, Status::Delivered][..],
        ),
        (
            conversation.delivered_watermark,
            Status::Delivered,
            &[Status::Sent][..],
        ),
    ];
    for (watermark, status, from) in steps {
        if watermark <= 0 {
            continue;
        }
        changed.extend(
            message::Entity::update_many()
                .col_expr(M::Status, Expr::val(status))
                .filter(M::ConversationId.eq(conversation.id))
                .filter(M::Direction.eq(Direction::Outbound))
                .filter(M::Timestamp.lte(watermark))
                .filter(M::Status.is_in(from.iter().copied()))
                .exec_with_returning(db)
                .await?,
        );
    }
    Ok(changed)
}
