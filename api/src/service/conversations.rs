//! Changing a conversation: status (with a snooze's wake time), assignee, and marking it
//! read.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::agent;
use entity::conversation::{self, Status};

use crate::bus;
use crate::error::ApiError;
use crate::service::access::VisibleConversation;
use crate::service::activity;
use crate::service::audit::{self, Action, Actor, Entry, Object, ObjectKind};
use crate::service::auth;
use crate::service::outbox::Written;
use crate::service::pages;
use crate::service::snooze;
use crate::state::AppState;
use crate::time::now_ms;

/// What to change; `None` leaves a field as it is.
#[derive(Default)]
pub struct Change {
    pub status: Option<Status>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<i64>>,
    pub mark_read: bool,
    /// `snoozedUntil` as given (RFC 3339).
    pub snoozed_until: Option<String>,
}

/// The status and snooze a change leaves, from what it asks. A snooze needs its wake time
/// and a wake time means a snooze: `snoozedUntil` with no status (or SNOOZED) snoozes
/// until then; SNOOZED without it, or with another status, is refused. Any other status
/// clears the snooze. `None`: the status stays as it is.
fn status_and_snooze(change: &Change, now: i64) -> Result<Option<(Status, Option<i64>)>, ApiError> {
    match (change.status, change.snoozed_until.as_deref()) {
        (None | Some(Status::Snoozed), Some(until)) => Ok(Some((
            Status::Snoozed,
            Some(snooze::parse_until(until, now)?),
        ))),
        (Some(_), Some(_)) => Err(ApiError::bad_input(
            "`snoozedUntil` goes with status SNOOZED (or no status)",
        )),
        (Some(Status::Snoozed), None) => Err(ApiError::bad_input(
            "status SNOOZED needs `snoozedUntil`, the time it wakes",
        )),
        (Some(status), None) => Ok(Some((status, None))),
        (None, None) => Ok(None),
    }
}

/// Applies `change` as `actor` (`None`: the server itself), and records what it changed
/// in the conversation's activity (and an actor's changes in the audit log), in one
/// transaction; then tells whom it concerns (the snooze timer, Facebook when it marks the
/// thread read).
pub async fn update(
    state: &AppState,
    conversation: VisibleConversation,
    change: Change,
    actor: Option<&Actor>,
) -> Result<conversation::Model, ApiError> {
    let txn = crate::db::begin_write(&state.db).await?;
    let written = apply(&txn, &conversation, &change, actor, now_ms()).await?;
    state.outbox.commit(txn, written.changes).await?;
    let updated = written.value;
    if updated.snoozed_until.is_some() {
        state.snoozes.changed();
    }
    if change.mark_read {
        mark_seen(state, &updated);
    }
    Ok(updated)
}

/// The write of [`update`], in the caller's transaction: applies `change` at `now` and
/// records its activity lines, and for an actor's change an audit entry per line
/// (CONVERSATION_STATUS_CHANGED, CONVERSATION_ASSIGNED, CONVERSATION_SNOOZED); returns the conversation as it leaves it, with
/// CONVERSATION_UPDATED and an ACTIVITY_ADDED per line. A refused change (bad input)
/// fails, and the caller rolls back.
///
/// Its first statement writes the row, which takes its lock (PostgreSQL) or the write
/// lock (SQLite), so the state read here is the one this change replaces, whoever else
/// changes it.
pub async fn apply(
    db: &impl ConnectionTrait,
    conversation: &VisibleConversation,
    change: &Change,
    actor: Option<&Actor>,
    now: i64,
) -> Result<Written<conversation::Model>, ApiError> {
    let id = conversation.id();
    let status = status_and_snooze(change, now)?;
    let before = conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(id))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("conversation"))?;
    if let Some(Some(agent_id)) = change.assignee {
        let works_here = auth::page_agents(db, &conversation.page())
            .await?
            .iter()
            .any(|a: &agent::Model| a.id == agent_id);
        if !works_here {
            return Err(ApiError::bad_input(
                "`assigneeId` is not an agent of this Page",
            ));
        }
    }
    let mut update = conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(id));
    if let Some((status, snoozed_until)) = status {
        update = update
            .col_expr(conversation::Column::Status, Expr::val(status))
            .col_expr(conversation::Column::SnoozedUntil, Expr::val(snoozed_until));
    }
    if let Some(assignee) = change.assignee {
        update = update.col_expr(conversation::Column::AssigneeId, Expr::val(assignee));
    }
    if change.mark_read {
        update = update.col_expr(conversation::Column::UnreadCount, Expr::val(0));
    }
    let updated = update
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("conversation"))?;
    let mut changes = vec![bus::Change::ConversationUpdated(updated.clone())];
    let lines =
        activity::record(db, &before, &updated, actor.and_then(|a| a.agent_id), now).await?;
    if let Some(actor) = actor {
        audit_lines(db, actor, &updated, &lines).await?;
    }
    changes.extend(lines);
    Ok(Written {
        value: updated,
        changes,
    })
}

/// One audit entry per activity line of an actor's change.
async fn audit_lines(
    db: &impl ConnectionTrait,
    actor: &Actor,
    conversation: &conversation::Model,
    lines: &[bus::Change],
) -> Result<(), ApiError> {
    for line in lines {
        let bus::Change::ActivityAdded(line) = line else {
            continue;
        };
        let action = match line.kind.as_str() {
            activity::STATUS => Action::ConversationStatusChanged,
            activity::ASSIGNEE => Action::ConversationAssigned,
            _ => Action::ConversationSnoozed,
        };
        let name = conversation.customer_name.clone();
        let entry = Entry::new(action)
            .on(Object::new(ObjectKind::Conversation, conversation.id, name))
            .page(conversation.page_id.clone())
            .change(line.from_value.clone(), line.to_value.clone());
        audit::record(db, actor, entry).await?;
    }
    Ok(())
}

/// Tells Facebook the Page has seen the thread; best effort, in the background.
fn mark_seen(state: &AppState, conversation: &conversation::Model) {
    let state = state.clone();
    let page_id = conversation.page_id.clone();
    let psid = conversation.psid.clone();
    let stop = state.tasks.stopping();
    state.tasks.clone().spawn("mark-seen", async move {
        let Ok(token) = pages::token(&state.db, &page_id).await else {
            return;
        };
        let told = tokio::select! {
            told = state.graph.sender_action(&page_id, &token, &psid, "mark_seen") => told,
            () = stop.cancelled() => return,
        };
        if let Err(err) = told {
            tracing::warn!(error = %err, %page_id, "mark_seen failed");
            let _ = pages::flag_if_needed(&state.db, &page_id, &err).await;
        }
    });
}
