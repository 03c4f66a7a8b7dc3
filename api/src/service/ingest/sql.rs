//! Executes a plan: a handful of set-based statements whatever the group's size. Raw
//! SQL where the query builder cost the writer time (its time here delays the next
//! group); every state is bound from `entity`'s enums, never written as a literal.
use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Statement,
};

use entity::message::Status;
use entity::{conversation, message};

use super::echo;
use super::plan::{Outcome, Plan, Row, Touched};
use crate::bus::Change;
use crate::facebook::events::{Direction, IncomingMessage};
use crate::service::activity;

/// Rows per multi-row INSERT: 12 parameters each stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters.
const INSERT_CHUNK: usize = 500;
/// Conversations per batched UPDATE (8 parameters each).
const UPDATE_CHUNK: usize = 500;

/// Inserts `rows` whose `(page_id, mid)` is not stored yet and returns those it stored.
/// It only adds rows, so another writer may do the same at the same time.
pub async fn insert_rows(
    db: &impl ConnectionTrait,
    rows: &[Row<'_>],
    now: i64,
) -> Result<Vec<message::Model>, DbErr> {
    let mut added = Vec::new();
    for chunk in rows.chunks(INSERT_CHUNK) {
        added.extend(insert_messages(db, chunk, now).await?);
    }
    Ok(added)
}

/// Completes our sends with the plan's echoes of them; an echo left with no row to
/// complete is inserted like any message (and becomes one of the plan's rows). Changes
/// existing rows: only in the writer's turn.
pub async fn adopt_echoes(
    db: &impl ConnectionTrait,
    plan: &mut Plan<'_>,
    now: i64,
    outcome: &mut Outcome,
) -> Result<(), DbErr> {
    let mut unmatched = Vec::new();
    for adoption in std::mem::take(&mut plan.adoptions) {
        match echo::adopt_echo(db, adoption.own_id, adoption.row.message).await? {
            Some((model, merged)) => {
                plan.adopted(&adoption.row);
                if let Some(id) = merged {
                    outcome.removed.push(Change::MessageRemoved {
                        page_id: model.page_id.clone(),
                        id,
                    });
                }
                outcome.updated.push(model);
            }
            None => unmatched.push(adoption.row),
        }
    }
    outcome
        .added
        .extend(insert_rows(db, &unmatched, now).await?);
    plan.rows.extend(unmatched);
    Ok(())
}

/// Updates every touched conversation (`touched` in id order), reopening those a
/// customer wrote to, and moves the statuses their watermarks reach. Changes existing
/// rows: only in the writer's turn.
pub async fn update_touched(
    db: &impl ConnectionTrait,
    touched: &[(i64, Touched)],
    now: i64,
    outcome: &mut Outcome,
) -> Result<(), DbErr> {
    let reopening = closed_among(db, touched).await?;
    let mut conversations = Vec::with_capacity(touched.len());
    for chunk in touched.chunks(UPDATE_CHUNK) {
        conversations.extend(update_conversations(db, chunk, now).await?);
    }
    for conversation in &conversations {
        if let Some(before) = reopening.get(&conversation.id)
            && conversation.status != *before
        {
            let reopened = activity::record_reopened(db, conversation, *before, now).await?;
            outcome.reopened.push(reopened);
        }
    }
    for (id, change) in touched {
        if change.marks()
            && let Some(conversation) = conversations.iter().find(|c| c.id == *id)
        {
            outcome
                .updated
                .extend(apply_watermarks(db, conversation).await?);
        }
    }
    outcome.conversations = conversations;
    Ok(())
}

/// Inserts the messages whose `(page_id, mid)` is not stored yet, in one statement,
/// and returns those it stored (ON CONFLICT DO NOTHING RETURNING: none for duplicates).
async fn insert_messages(
    db: &impl ConnectionTrait,
    rows: &[Row<'_>],
    now: i64,
) -> Result<Vec<message::Model>, DbErr> {
    // Plain SQL with a row of placeholders per message: this statement carries most of
    // ingest's rows, and the query builder's per-value expressions and copies showed up
    // in the writer's profile (the writer's time here delays the next group).
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * MESSAGE_PARAMS);
    for &Row {
        conversation_id,
        message: m,
        ..
    } in rows
    {
        values.extend([
            m.page_id.clone().into(),
            conversation_id.into(),
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
    let by_key: HashMap<(&str, &str), Row<'_>> = rows
        .iter()
        .map(|row| {
            (
                (row.message.page_id.as_str(), row.message.mid.as_str()),
                *row,
            )
        })
        .collect();
    let mut models = Vec::with_capacity(stored.len());
    for stored_row in &stored {
        let id: i64 = stored_row.try_get("", "id")?;
        let page_id: String = stored_row.try_get("", "page_id")?;
        let mid: String = stored_row.try_get("", "mid")?;
        let Some(&row) = by_key.get(&(page_id.as_str(), mid.as_str())) else {
            return Err(DbErr::RecordNotFound(format!("inserted message {mid}")));
        };
        models.push(inserted(row, id, now));
    }
    Ok(models)
}

/// The row `insert_messages` stored for `row` under `id`.
fn inserted(row: Row<'_>, id: i64, now: i64) -> message::Model {
    let m = row.message;
    message::Model {
        id,
        page_id: m.page_id.clone(),
        conversation_id: row.conversation_id,
        mid: m.mid.clone(),
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
        reactions: None,
        edit_count: 0,
        edited_at: None,
    }
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
