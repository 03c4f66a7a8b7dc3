//! The per-Page event log. Every change a subscriber can see is appended here in the
//! transaction that makes the change, with the next position of its Page; the bus gets
//! it only after commit (see `outbox`), and a subscriber that was away replays its
//! Page's log from the last position it saw.
//!
//! An entry keeps the change's kind and the id of the message or conversation; a replay
//! reads those rows as they are now, so it shows the latest state of each.
use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entity::{
    conversation, conversation_activity, label, message, note, page_event, page_event_head,
    referral, saved_reply,
};

use crate::bus::{Change, PageEvent};

mod prune;

pub use prune::{prune, prune_forever};

const MESSAGE_ADDED: &str = "MESSAGE_ADDED";
const MESSAGE_UPDATED: &str = "MESSAGE_UPDATED";
const CONVERSATION_UPDATED: &str = "CONVERSATION_UPDATED";
const MESSAGE_REMOVED: &str = "MESSAGE_REMOVED";
const ACTIVITY_ADDED: &str = "ACTIVITY_ADDED";
const LABEL_CHANGED: &str = "LABEL_CHANGED";
const LABEL_DELETED: &str = "LABEL_DELETED";
const NOTE_ADDED: &str = "NOTE_ADDED";
const SAVED_REPLY_CHANGED: &str = "SAVED_REPLY_CHANGED";
const SAVED_REPLY_DELETED: &str = "SAVED_REPLY_DELETED";
const REFERRAL_ADDED: &str = "REFERRAL_ADDED";

/// Rows per multi-row INSERT (5 parameters each).
const INSERT_CHUNK: usize = 1000;
/// Entries read per replay query.
pub const REPLAY_CHUNK: u64 = 500;

fn kind_and_id(change: &Change) -> (&'static str, i64) {
    match change {
        Change::MessageAdded(m) => (MESSAGE_ADDED, m.id),
        Change::MessageUpdated(m) => (MESSAGE_UPDATED, m.id),
        Change::ConversationUpdated(c) => (CONVERSATION_UPDATED, c.id),
        Change::MessageRemoved { id, .. } => (MESSAGE_REMOVED, *id),
        Change::ActivityAdded(a) => (ACTIVITY_ADDED, a.id),
        Change::LabelChanged(l) => (LABEL_CHANGED, l.id),
        Change::LabelDeleted { id, .. } => (LABEL_DELETED, *id),
        Change::NoteAdded(n) => (NOTE_ADDED, n.id),
        Change::SavedReplyChanged(r) => (SAVED_REPLY_CHANGED, r.id),
        Change::SavedReplyDeleted { id, .. } => (SAVED_REPLY_DELETED, *id),
        Change::ReferralAdded(r) => (REFERRAL_ADDED, r.id),
    }
}

/// Gives `changes` the next positions of their Pages, in the order given, and records
/// them. Call inside the transaction that made the changes.
pub async fn append(
    db: &impl ConnectionTrait,
    changes: Vec<Change>,
    now: i64,
) -> Result<Vec<PageEvent>, DbErr> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let mut next = claim_positions(db, &changes).await?;
    let mut events = Vec::with_capacity(changes.len());
    for change in changes {
        let slot = next
            .get_mut(change.page_id())
            .ok_or_else(|| DbErr::RecordNotFound("event-log head of a Page".to_owned()))?;
        let position = *slot;
        *slot += 1;
        events.push(PageEvent {
            page_id: change.page_id().to_owned(),
            position,
            change,
        });
    }
    record(db, &events, now).await?;
    Ok(events)
}

/// Moves each Page's head past its share of `changes`; returns each Page's first new
/// position.
async fn claim_positions(
    db: &impl ConnectionTrait,
    changes: &[Change],
) -> Result<HashMap<String, i64>, DbErr> {
    // Pages in a fixed order, so two writers lock their head rows in the same order.
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for change in changes {
        *counts.entry(change.page_id()).or_default() += 1;
    }
    let mut bump = Query::insert();
    bump.into_table(page_event_head::Entity).columns([
        page_event_head::Column::PageId,
        page_event_head::Column::Position,
    ]);
    for (page_id, count) in &counts {
        bump.values([(*page_id).into(), (*count).into()])
            .map_err(|err| DbErr::Custom(err.to_string()))?;
    }
    bump.on_conflict(
        OnConflict::column(page_event_head::Column::PageId)
            .value(
                page_event_head::Column::Position,
                Expr::col((page_event_head::Entity, page_event_head::Column::Position))
                    .add(Expr::cust("excluded.position")),
            )
            .to_owned(),
    )
    .returning(Query::returning().columns([
        page_event_head::Column::PageId,
        page_event_head::Column::Position,
    ]));
    let statement = db.get_database_backend().build(&bump);
    let mut next: HashMap<String, i64> = HashMap::with_capacity(counts.len());
    for row in db.query_all_raw(statement).await? {
        let page_id: String = row.try_get("", "page_id")?;
        let head: i64 = row.try_get("", "position")?;
        let count = counts.get(page_id.as_str()).copied().unwrap_or(0);
        next.insert(page_id, head - count + 1);
    }
    Ok(next)
}

/// Stores the entries of `events`.
async fn record(db: &impl ConnectionTrait, events: &[PageEvent], now: i64) -> Result<(), DbErr> {
    for chunk in events.chunks(INSERT_CHUNK) {
        let mut insert = Query::insert();
        insert.into_table(page_event::Entity).columns([
            page_event::Column::PageId,
            page_event::Column::Position,
            page_event::Column::Kind,
            page_event::Column::EntityId,
            page_event::Column::CreatedAt,
        ]);
        for event in chunk {
            let (kind, id) = kind_and_id(&event.change);
            insert
                .values([
                    event.page_id.clone().into(),
                    event.position.into(),
                    kind.into(),
                    id.into(),
                    now.into(),
                ])
                .map_err(|err| DbErr::Custom(err.to_string()))?;
        }
        let statement = db.get_database_backend().build(&insert);
        db.execute_raw(statement).await?;
    }
    Ok(())
}

/// The Page's last position (0 before its first event).
pub async fn head(db: &impl ConnectionTrait, page_id: &str) -> Result<i64, DbErr> {
    Ok(page_event_head::Entity::find_by_id(page_id.to_owned())
        .one(db)
        .await?
        .map_or(0, |h| h.position))
}

/// Every Page's last position.
pub async fn heads(db: &impl ConnectionTrait) -> Result<HashMap<String, i64>, DbErr> {
    let rows: Vec<(String, i64)> = page_event_head::Entity::find()
        .select_only()
        .column(page_event_head::Column::PageId)
        .column(page_event_head::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The oldest position still in the log, if any entry is left.
pub async fn oldest(db: &impl ConnectionTrait, page_id: &str) -> Result<Option<i64>, DbErr> {
    page_event::Entity::find()
        .select_only()
        .column(page_event::Column::Position)
        .filter(page_event::Column::PageId.eq(page_id))
        .order_by_asc(page_event::Column::Position)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await
}

/// Whether a subscriber that saw up to `after` can resume without a hole: every
/// position after it is still in the log.
pub async fn can_resume(
    db: &impl ConnectionTrait,
    page_id: &str,
    after: i64,
) -> Result<Resume, DbErr> {
    let head = head(db, page_id).await?;
    if after > head {
        return Ok(Resume::Ahead { head });
    }
    if after == head {
        return Ok(Resume::Ok);
    }
    match oldest(db, page_id).await? {
        Some(oldest) if oldest <= after + 1 => Ok(Resume::Ok),
        _ => Ok(Resume::Pruned),
    }
}

/// See `can_resume`.
#[derive(Debug, PartialEq, Eq)]
pub enum Resume {
    Ok,
    /// Entries after the position were pruned: the subscriber must reload.
    Pruned,
    /// The position was never given out.
    Ahead {
        head: i64,
    },
}

/// One chunk of a replay.
pub struct Replayed {
    pub events: Vec<PageEvent>,
    /// The last position read (the next chunk starts after it); `None` when none was.
    pub through: Option<i64>,
    /// Whether this chunk reached the end of what was asked for.
    pub complete: bool,
}

/// The Page's entries after `after` and up to `until` (inclusive), oldest first, at most
/// `REPLAY_CHUNK` of them, each with the current state of its message or conversation.
pub async fn replay(
    db: &impl ConnectionTrait,
    page_id: &str,
    after: i64,
    until: Option<i64>,
) -> Result<Replayed, DbErr> {
    let mut query = page_event::Entity::find()
        .filter(page_event::Column::PageId.eq(page_id))
        .filter(page_event::Column::Position.gt(after));
    if let Some(until) = until {
        query = query.filter(page_event::Column::Position.lte(until));
    }
    let entries = query
        .order_by_asc(page_event::Column::Position)
        .limit(REPLAY_CHUNK)
        .all(db)
        .await?;
    let complete = (entries.len() as u64) < REPLAY_CHUNK;
    let through = entries.last().map(|e| e.position);
    let current = Current::read(db, &entries).await?;
    let mut events = Vec::with_capacity(entries.len());
    for entry in entries {
        // A removed message's earlier entries are skipped: a replay never shows it.
        let Some(change) = current.change(&entry) else {
            continue;
        };
        events.push(PageEvent {
            page_id: entry.page_id,
            position: entry.position,
            change,
        });
    }
    Ok(Replayed {
        events,
        through,
        complete,
    })
}

/// The rows a replay's entries name, as they are now, each read once.
struct Current {
    messages: HashMap<i64, message::Model>,
    conversations: HashMap<i64, conversation::Model>,
    activity: HashMap<i64, conversation_activity::Model>,
    labels: HashMap<i64, label::Model>,
    notes: HashMap<i64, note::Model>,
    saved_replies: HashMap<i64, saved_reply::Model>,
    referrals: HashMap<i64, referral::Model>,
}

impl Current {
    async fn read(db: &impl ConnectionTrait, entries: &[page_event::Model]) -> Result<Self, DbErr> {
        let mut message_ids = Vec::new();
        let mut conversation_ids = Vec::new();
        let mut activity_ids = Vec::new();
        let mut label_ids = Vec::new();
        let mut note_ids = Vec::new();
        let mut saved_reply_ids = Vec::new();
        let mut referral_ids = Vec::new();
        for entry in entries {
            match entry.kind.as_str() {
                CONVERSATION_UPDATED => conversation_ids.push(entry.entity_id),
                ACTIVITY_ADDED => activity_ids.push(entry.entity_id),
                LABEL_CHANGED => label_ids.push(entry.entity_id),
                NOTE_ADDED => note_ids.push(entry.entity_id),
                SAVED_REPLY_CHANGED => saved_reply_ids.push(entry.entity_id),
                REFERRAL_ADDED => referral_ids.push(entry.entity_id),
                MESSAGE_ADDED | MESSAGE_UPDATED => message_ids.push(entry.entity_id),
                _ => {}
            }
        }
        Ok(Self {
            messages: by_id::<message::Entity>(db, message::Column::Id, message_ids, |m| m.id)
                .await?,
            conversations: by_id::<conversation::Entity>(
                db,
                conversation::Column::Id,
                conversation_ids,
                |c| c.id,
            )
            .await?,
            activity: by_id::<conversation_activity::Entity>(
                db,
                conversation_activity::Column::Id,
                activity_ids,
                |a| a.id,
            )
            .await?,
            labels: by_id::<label::Entity>(db, label::Column::Id, label_ids, |l| l.id).await?,
            notes: by_id::<note::Entity>(db, note::Column::Id, note_ids, |n| n.id).await?,
            saved_replies: by_id::<saved_reply::Entity>(
                db,
                saved_reply::Column::Id,
                saved_reply_ids,
                |r| r.id,
            )
            .await?,
            referrals: by_id::<referral::Entity>(db, referral::Column::Id, referral_ids, |r| r.id)
                .await?,
        })
    }

    /// The change `entry` stands for; `None` when its row is gone.
    fn change(&self, entry: &page_event::Model) -> Option<Change> {
        let id = entry.entity_id;
        match entry.kind.as_str() {
            MESSAGE_ADDED => self.messages.get(&id).cloned().map(Change::MessageAdded),
            MESSAGE_UPDATED => self.messages.get(&id).cloned().map(Change::MessageUpdated),
            CONVERSATION_UPDATED => self
                .conversations
                .get(&id)
                .cloned()
                .map(Change::ConversationUpdated),
            // The row is gone; the entry itself says which.
            MESSAGE_REMOVED => Some(Change::MessageRemoved {
                page_id: entry.page_id.clone(),
                id,
            }),
            ACTIVITY_ADDED => self.activity.get(&id).cloned().map(Change::ActivityAdded),
            // A label deleted since: its LABEL_DELETED follows.
            LABEL_CHANGED => self.labels.get(&id).cloned().map(Change::LabelChanged),
            LABEL_DELETED => Some(Change::LabelDeleted {
                page_id: entry.page_id.clone(),
                id,
            }),
            NOTE_ADDED => self.notes.get(&id).cloned().map(Change::NoteAdded),
            // A saved reply deleted since: its SAVED_REPLY_DELETED follows.
            SAVED_REPLY_CHANGED => self
                .saved_replies
                .get(&id)
                .cloned()
                .map(Change::SavedReplyChanged),
            SAVED_REPLY_DELETED => Some(Change::SavedReplyDeleted {
                page_id: entry.page_id.clone(),
                id,
            }),
            REFERRAL_ADDED => self.referrals.get(&id).cloned().map(Change::ReferralAdded),
            _ => None,
        }
    }
}

/// The rows of `E` whose `column` is among `ids`, by `id_of`.
async fn by_id<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    mut ids: Vec<i64>,
    id_of: fn(&E::Model) -> i64,
) -> Result<HashMap<i64, E::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(E::find()
        .filter(column.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (id_of(&row), row))
        .collect())
}
