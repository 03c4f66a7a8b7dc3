//! A conversation's activity: who changed its status or assignee (or snoozed it), when,
//! from what, to what. Recorded in the transaction that makes the change, with its own
//! event-log entry (ACTIVITY_ADDED), so the thread's system lines arrive live and replay
//! like messages. A change the server makes by itself has no actor.
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};

use entity::{conversation, conversation_activity};

use crate::bus::Change;
use crate::error::ApiError;
use crate::service::inbox::{Cursor, Slice, check_page_size};

pub const STATUS: &str = "STATUS";
pub const ASSIGNEE: &str = "ASSIGNEE";
pub const SNOOZE: &str = "SNOOZE";

/// One field that changed, in the stored form (`from`, `to`).
struct Changed {
    kind: &'static str,
    from: Option<String>,
    to: Option<String>,
}

/// What differs between `before` and `after` that the thread shows.
fn differences(before: &conversation::Model, after: &conversation::Model) -> Vec<Changed> {
    let mut changed = Vec::new();
    if before.status != after.status {
        changed.push(Changed {
            kind: STATUS,
            from: Some(before.status.to_value()),
            to: Some(after.status.to_value()),
        });
    }
    // A new wake time (a snooze, or another one); a snooze ended by a status change
    // (waking, resolving) is told by its STATUS entry.
    if before.snoozed_until != after.snoozed_until && after.snoozed_until.is_some() {
        changed.push(Changed {
            kind: SNOOZE,
            from: before.snoozed_until.map(|t| t.to_string()),
            to: after.snoozed_until.map(|t| t.to_string()),
        });
    }
    if before.assignee_id != after.assignee_id {
        changed.push(Changed {
            kind: ASSIGNEE,
            from: before.assignee_id.map(|id| id.to_string()),
            to: after.assignee_id.map(|id| id.to_string()),
        });
    }
    changed
}

/// Records what changed from `before` to `after` (the same conversation, read in the
/// transaction that changed it), by `actor` (`None`: the server itself). Returns the
/// changes to commit with the transaction (`outbox.commit`), one ACTIVITY_ADDED each.
pub async fn record(
    txn: &impl ConnectionTrait,
    before: &conversation::Model,
    after: &conversation::Model,
    actor: Option<i64>,
    now: i64,
) -> Result<Vec<Change>, DbErr> {
    let mut changes = Vec::new();
    for changed in differences(before, after) {
        let stored = conversation_activity::ActiveModel {
            id: NotSet,
            page_id: Set(after.page_id.clone()),
            conversation_id: Set(after.id),
            actor_id: Set(actor),
            kind: Set(changed.kind.to_owned()),
            from_value: Set(changed.from),
            to_value: Set(changed.to),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        changes.push(Change::ActivityAdded(stored));
    }
    Ok(changes)
}

/// A status change the server made by itself, from `before` to what `reopened` is now
/// (a customer wrote to a RESOLVED or SNOOZED conversation; a snooze woke): recorded
/// without an actor.
pub async fn record_reopened(
    txn: &impl ConnectionTrait,
    reopened: &conversation::Model,
    before: conversation::Status,
    now: i64,
) -> Result<Change, DbErr> {
    let stored = conversation_activity::ActiveModel {
        id: NotSet,
        page_id: Set(reopened.page_id.clone()),
        conversation_id: Set(reopened.id),
        actor_id: Set(None),
        kind: Set(STATUS.to_owned()),
        from_value: Set(Some(before.to_value())),
        to_value: Set(Some(reopened.status.to_value())),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    Ok(Change::ActivityAdded(stored))
}

/// A conversation's activity, newest first: `first` entries after `after`. Only for a
/// conversation the caller reached through `service::access` (a `Conversation`'s field).
pub async fn list(
    db: &impl ConnectionTrait,
    conversation_id: i64,
    first: i32,
    after: Option<Cursor>,
) -> Result<Slice<conversation_activity::Model>, ApiError> {
    use conversation_activity::Column as A;
    let limit = check_page_size(first, "first")?;
    let mut query =
        conversation_activity::Entity::find().filter(A::ConversationId.eq(conversation_id));
    if let Some(cursor) = after {
        // Ids grow with time: the id alone orders the entries.
        query = query.filter(A::Id.lt(cursor.id));
    }
    let mut items = query
        .order_by(A::Id, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    Ok(Slice { items, more })
}

#[cfg(test)]
mod tests {
    use super::{ASSIGNEE, STATUS, differences};
    use entity::conversation::{self, Status};

    fn conversation(status: Status, assignee: Option<i64>) -> conversation::Model {
        conversation::Model {
            id: 1,
            page_id: "p".to_owned(),
            psid: "c".to_owned(),
            customer_name: None,
            last_message_text: None,
            last_timestamp: 0,
            unread_count: 0,
            status,
            last_inbound_timestamp: None,
            delivered_watermark: 0,
            read_watermark: 0,
            created_at: 0,
            updated_at: 0,
            customer_picture: None,
            assignee_id: assignee,
            snoozed_until: None,
        }
    }

    #[test]
    fn only_what_changed_is_recorded() {
        let open = conversation(Status::Open, None);
        assert!(differences(&open, &open).is_empty());
        let resolved_by = conversation(Status::Resolved, Some(7));
        let changed = differences(&open, &resolved_by);
        let kinds: Vec<_> = changed
            .iter()
            .map(|c| (c.kind, c.from.as_deref(), c.to.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                (STATUS, Some("OPEN"), Some("RESOLVED")),
                (ASSIGNEE, None, Some("7"))
            ]
        );
    }
}
