//! Storing webhook events: exactly once, durably, with group commit.
//!
//! Every delivery is handed to one writer task and answered only after the transaction
//! holding it has committed. While one transaction commits, the deliveries that arrive
//! queue up and the next transaction takes them all: concurrent deliveries share one
//! fsync (group commit) instead of weakening durability. `(page_id, mid)` is unique, so a
//! repeated or concurrent duplicate changes nothing. Events are published after commit.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, QueryTrait, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use entity::{conversation, message, page};

use crate::bus::{BusEvent, EventBus};
use crate::facebook::events::{Direction, Event, IncomingMessage};
use crate::time::now_ms;

/// Deliveries waiting for the writer; senders wait (back-pressure) when it is full.
const QUEUE: usize = 4096;
/// Conversation ids remembered by the writer before the memo is cleared.
const MEMO_LIMIT: usize = 100_000;

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
}

struct Job {
    events: Vec<Event>,
    reply: oneshot::Sender<Result<IngestReport, IngestError>>,
}

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Job>,
}

impl Ingest {
    /// Starts the writer; `group_max` bounds how many deliveries share a transaction.
    pub fn start(db: DatabaseConnection, bus: Arc<dyn EventBus>, group_max: usize) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let writer = Writer {
            db,
            bus,
            group_max: group_max.max(1),
            known_pages: HashSet::new(),
            conversations: HashMap::new(),
        };
        tokio::spawn(writer.run(receiver));
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
    bus: Arc<dyn EventBus>,
    group_max: usize,
    /// Pages known to exist (committed), so most deliveries skip the page upsert.
    known_pages: HashSet<String>,
    /// (page, psid) -> conversation id, for committed conversations only.
    conversations: HashMap<(String, String), i64>,
}

impl Writer {
    async fn run(mut self, mut receiver: mpsc::Receiver<Job>) {
        let mut jobs = Vec::with_capacity(self.group_max);
        while receiver.recv_many(&mut jobs, self.group_max).await > 0 {
            let group: Vec<Job> = std::mem::take(&mut jobs);
            match self.commit(&group).await {
                Ok(outcome) => self.finish(group, outcome).await,
                Err(err) if group.len() == 1 => {
                    tracing::error!(error = %err, "storing a webhook delivery failed");
                    for job in group {
                        let _ = job.reply.send(Err(IngestError::Database(err.clone())));
                    }
                }
                Err(err) => {
                    // One delivery must not fail its neighbours: retry each on its own.
                    tracing::warn!(error = %err, size = group.len(), "group commit failed; retrying one by one");
                    for job in group {
                        let single = [job];
                        match self.commit(&single).await {
                            Ok(outcome) => self.finish(Vec::from(single), outcome).await,
                            Err(err) => {
                                tracing::error!(error = %err, "storing a webhook delivery failed");
                                let [job] = single;
                                let _ = job.reply.send(Err(IngestError::Database(err)));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Answers the deliveries, remembers what is now committed, and publishes.
    async fn finish(&mut self, group: Vec<Job>, outcome: Outcome) {
        for (job, report) in group.into_iter().zip(outcome.reports) {
            let _ = job.reply.send(Ok(report));
        }
        self.known_pages.extend(outcome.new_pages);
        if self.conversations.len() + outcome.new_conversations.len() > MEMO_LIMIT {
            self.conversations.clear();
        }
        self.conversations.extend(outcome.new_conversations);
        if !outcome.events.is_empty()
            && let Err(err) = self.bus.publish(outcome.events).await
        {
            tracing::error!(error = %err, "publishing committed events failed");
        }
    }

    /// One transaction for the whole group.
    async fn commit(&self, group: &[Job]) -> Result<Outcome, DbErr> {
        let txn = self.db.begin().await?;
        let mut batch = Batch::new(self);
        for job in group {
            let mut report = IngestReport::default();
            for event in &job.events {
                batch.apply(&txn, event, &mut report).await?;
            }
            batch.outcome.reports.push(report);
        }
        batch.flush(&txn).await?;
        txn.commit().await?;
        Ok(batch.outcome)
    }
}

/// What a committed group changed.
#[derive(Default)]
struct Outcome {
    reports: Vec<IngestReport>,
    events: Vec<BusEvent>,
    new_pages: Vec<String>,
    new_conversations: Vec<((String, String), i64)>,
}

/// The changes to one conversation within a transaction, applied in one UPDATE at the end.
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

struct Batch<'w> {
    writer: &'w Writer,
    now: i64,
    pages: HashSet<String>,
    conversations: HashMap<(String, String), i64>,
    touched: HashMap<i64, Touched>,
    /// Messages added in this transaction, by id, so a watermark in the same
    /// transaction updates the event instead of announcing a second change.
    added: Vec<message::Model>,
    outcome: Outcome,
}

impl<'w> Batch<'w> {
    fn new(writer: &'w Writer) -> Self {
        Self {
            writer,
            now: now_ms(),
            pages: HashSet::new(),
            conversations: HashMap::new(),
            touched: HashMap::new(),
            added: Vec::new(),
            outcome: Outcome::default(),
        }
    }

    async fn apply(
        &mut self,
        db: &impl ConnectionTrait,
        event: &Event,
        report: &mut IngestReport,
    ) -> Result<(), DbErr> {
        match event {
            Event::Message(message) => {
                let conversation_id = self
                    .conversation(db, &message.page_id, &message.psid)
                    .await?;
                if let Some(stored) = insert_message(db, conversation_id, message, self.now).await?
                {
                    report.stored += 1;
                    let touched = self.touched.entry(conversation_id).or_default();
                    let preview = preview(message);
                    if touched
                        .newest
                        .as_ref()
                        .is_none_or(|(ts, _)| message.timestamp >= *ts)
                    {
                        touched.newest = Some((message.timestamp, preview));
                    }
                    match message.direction {
                        Direction::Inbound => {
                            touched.new_inbound += 1;
                            touched.newest_inbound =
                                std::cmp::max(touched.newest_inbound, Some(message.timestamp));
                        }
                        Direction::Outbound => touched.new_outbound = true,
                    }
                    self.added.push(stored);
                } else {
                    report.duplicates += 1;
                }
            }
            Event::Delivery {
                page_id,
                psid,
                watermark,
            } => {
                let conversation_id = self.conversation(db, page_id, psid).await?;
                let touched = self.touched.entry(conversation_id).or_default();
                touched.delivered = std::cmp::max(touched.delivered, *watermark);
                report.watermarks += 1;
            }
            Event::Read {
                page_id,
                psid,
                watermark,
            } => {
                let conversation_id = self.conversation(db, page_id, psid).await?;
                let touched = self.touched.entry(conversation_id).or_default();
                touched.read = std::cmp::max(touched.read, *watermark);
                report.watermarks += 1;
            }
        }
        Ok(())
    }

    /// The conversation of (page, customer), created with its Page on first sight.
    async fn conversation(
        &mut self,
        db: &impl ConnectionTrait,
        page_id: &str,
        psid: &str,
    ) -> Result<i64, DbErr> {
        let key = (page_id.to_owned(), psid.to_owned());
        if let Some(id) = self
            .writer
            .conversations
            .get(&key)
            .or(self.conversations.get(&key))
        {
            return Ok(*id);
        }
        if !self.writer.known_pages.contains(page_id) && !self.pages.contains(page_id) {
            page::Entity::insert(page::ActiveModel {
                id: Set(page_id.to_owned()),
                name: Set(None),
                created_at: Set(self.now),
            })
            .on_conflict_do_nothing_on([page::Column::Id])
            .exec_without_returning(db)
            .await?;
            self.pages.insert(page_id.to_owned());
            self.outcome.new_pages.push(page_id.to_owned());
        }
        conversation::Entity::insert(conversation::ActiveModel {
            id: NotSet,
            page_id: Set(page_id.to_owned()),
            psid: Set(psid.to_owned()),
            customer_name: Set(None),
            last_message_text: Set(None),
            last_timestamp: Set(0),
            unread_count: Set(0),
            status: Set("OPEN".to_owned()),
            last_inbound_timestamp: Set(None),
            delivered_watermark: Set(0),
            read_watermark: Set(0),
            created_at: Set(self.now),
            updated_at: Set(self.now),
        })
        .on_conflict_do_nothing_on([conversation::Column::PageId, conversation::Column::Psid])
        .exec_without_returning(db)
        .await?;
        let id: i64 = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::PageId.eq(page_id))
            .filter(conversation::Column::Psid.eq(psid))
            .into_tuple()
            .one(db)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("conversation just upserted".to_owned()))?;
        self.conversations.insert(key.clone(), id);
        self.outcome.new_conversations.push((key, id));
        Ok(id)
    }

    /// Applies each touched conversation's changes, then the watermarks to its messages,
    /// and turns everything into events for the bus.
    async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let mut updated_messages: Vec<message::Model> = Vec::new();
        for (id, touched) in std::mem::take(&mut self.touched) {
            let conversation = update_conversation(db, id, &touched, self.now).await?;
            let watermarks_moved = touched.delivered > 0 || touched.read > 0;
            if watermarks_moved || touched.new_outbound {
                updated_messages.extend(apply_watermarks(db, &conversation).await?);
            }
            self.outcome
                .events
                .push(BusEvent::ConversationUpdated(conversation));
        }
        // A message added and then marked by a watermark in the same transaction is
        // announced once, as added, with its final status.
        let mut changed: HashMap<i64, message::Model> =
            updated_messages.into_iter().map(|m| (m.id, m)).collect();
        let mut events = Vec::with_capacity(self.added.len() + changed.len());
        for added in std::mem::take(&mut self.added) {
            let latest = changed.remove(&added.id).unwrap_or(added);
            events.push(BusEvent::MessageAdded(latest));
        }
        events.extend(changed.into_values().map(BusEvent::MessageUpdated));
        // Messages first, so a client that sees the conversation move can already fetch them.
        events.append(&mut self.outcome.events);
        self.outcome.events = events;
        Ok(())
    }
}

/// What the inbox shows as a conversation's last message.
fn preview(message: &IncomingMessage) -> String {
    match (&message.text, message.attachments.first()) {
        (Some(text), _) => text.clone(),
        (None, Some(attachment)) => format!("[{}]", attachment.kind),
        (None, None) => String::new(),
    }
}

/// Inserts the message unless its `(page_id, mid)` is already stored.
async fn insert_message(
    db: &impl ConnectionTrait,
    conversation_id: i64,
    message: &IncomingMessage,
    now: i64,
) -> Result<Option<message::Model>, DbErr> {
    let attachments = if message.attachments.is_empty() {
        None
    } else {
        serde_json::to_string(&message.attachments).ok()
    };
    let insert = message::Entity::insert(message::ActiveModel {
        id: NotSet,
        page_id: Set(message.page_id.clone()),
        conversation_id: Set(conversation_id),
        mid: Set(message.mid.clone()),
        direction: Set(message.direction.as_str().to_owned()),
        text: Set(message.text.clone()),
        attachments: Set(attachments),
        quick_reply_payload: Set(message.quick_reply_payload.clone()),
        reply_to_mid: Set(message.reply_to_mid.clone()),
        app_id: Set(message.app_id.clone()),
        timestamp: Set(message.timestamp),
        status: Set("SENT".to_owned()),
        error_code: Set(None),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([message::Column::PageId, message::Column::Mid])
            .do_nothing()
            .to_owned(),
    )
    .into_query()
    .returning_all()
    .to_owned();
    // ON CONFLICT DO NOTHING RETURNING: a row when stored now, none when already stored.
    let statement = db.get_database_backend().build(&insert);
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(Some(message::Model::from_query_result(&row, "")?)),
        None => Ok(None),
    }
}

/// `value` if it is greater than the column, else the column: portable `GREATEST`.
fn forward(column: conversation::Column, value: i64) -> sea_orm::sea_query::SimpleExpr {
    Expr::case(Expr::col(column).lt(value), Expr::val(value))
        .finally(Expr::col(column))
        .into()
}

/// One UPDATE per touched conversation. Times only move forward: a late, older message
/// does not become the conversation's last one.
async fn update_conversation(
    db: &impl ConnectionTrait,
    id: i64,
    touched: &Touched,
    now: i64,
) -> Result<conversation::Model, DbErr> {
    use conversation::Column as C;
    let mut update = conversation::Entity::update_many()
        .col_expr(
            C::UnreadCount,
            Expr::col(C::UnreadCount).add(touched.new_inbound),
        )
        .col_expr(
            C::DeliveredWatermark,
            forward(C::DeliveredWatermark, touched.delivered),
        )
        .col_expr(C::ReadWatermark, forward(C::ReadWatermark, touched.read))
        .col_expr(C::UpdatedAt, Expr::val(now));
    if let Some((ts, text)) = &touched.newest {
        update = update
            .col_expr(
                C::LastMessageText,
                Expr::case(
                    Expr::col(C::LastTimestamp).lte(*ts),
                    Expr::val(text.clone()),
                )
                .finally(Expr::col(C::LastMessageText))
                .into(),
            )
            .col_expr(C::LastTimestamp, forward(C::LastTimestamp, *ts));
    }
    if let Some(ts) = touched.newest_inbound {
        update = update.col_expr(
            C::LastInboundTimestamp,
            Expr::case(
                Expr::col(C::LastInboundTimestamp)
                    .is_null()
                    .or(Expr::col(C::LastInboundTimestamp).lt(ts)),
                Expr::val(ts),
            )
            .finally(Expr::col(C::LastInboundTimestamp))
            .into(),
        );
    }
    update
        .filter(C::Id.eq(id))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DbErr::RecordNotFound(format!("conversation {id}")))
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
            "READ",
            &["SENT", "DELIVERED"][..],
        ),
        (conversation.delivered_watermark, "DELIVERED", &["SENT"][..]),
    ];
    for (watermark, status, from) in steps {
        if watermark <= 0 {
            continue;
        }
        changed.extend(
            message::Entity::update_many()
                .col_expr(M::Status, Expr::val(status))
                .filter(M::ConversationId.eq(conversation.id))
                .filter(M::Direction.eq("OUTBOUND"))
                .filter(M::Timestamp.lte(watermark))
                .filter(M::Status.is_in(from.iter().copied()))
                .exec_with_returning(db)
                .await?,
        );
    }
    Ok(changed)
}
