//! Labels: a Page's names and colours that agents put on its conversations, to sort and
//! find them (`conversations(labelId)`). Every change is one transaction with its audit
//! entry and its event-log entry (LABEL_CHANGED, LABEL_DELETED, or CONVERSATION_UPDATED
//! for a conversation's labels), so every agent of the Page sees it live and a feed that
//! was away replays it.
//!
//! A name is unique per Page whatever its case: the server folds it (`name_key`, Rust's
//! Unicode lower case) and a unique index holds the pair, so two agents creating "VIP" and
//! "vip" at once get one label and one BAD_USER_INPUT.
use std::collections::HashMap;

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, SqlErr,
};

use entity::{conversation, conversation_label, label};

use crate::bus::Change;
use crate::error::ApiError;
use crate::service::access::{VisibleConversation, VisiblePage};
use crate::service::audit::{self, Action, Actor, Entry, Object, ObjectKind};
use crate::service::outbox::Written;

/// The longest name, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 40;
/// Labels a Page may have.
pub const MAX_PER_PAGE: u64 = 200;
/// Labels one conversation may carry.
pub const MAX_PER_CONVERSATION: usize = 20;
/// The colour of a label created without one.
pub const DEFAULT_COLOR: &str = "#6b7280";

/// A name as stored (trimmed) and its key (case-folded), or BAD_USER_INPUT naming `name`.
pub fn check_name(name: &str) -> Result<(String, String), ApiError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(ApiError::bad_input(format!(
            "`name` must be 1 to {MAX_NAME_CHARS} characters (after trimming spaces)"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_input(
            "`name` must not contain control characters",
        ));
    }
    Ok((name.to_owned(), name.to_lowercase()))
}

/// A colour `#rrggbb` (lower-cased), or BAD_USER_INPUT naming `color`.
pub fn check_color(color: &str) -> Result<String, ApiError> {
    let hex = color.trim().strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("#{}", hex.to_ascii_lowercase()))
    } else {
        Err(ApiError::bad_input(
            "`color` must be a colour written #rrggbb, e.g. #1f7a8c",
        ))
    }
}

fn taken(name: &str) -> ApiError {
    ApiError::bad_input(format!(
        "`name`: this Page already has a label named \"{name}\" (names ignore case)"
    ))
}

/// A unique-key violation on the name is the same answer as the check before it.
fn name_conflict(err: DbErr, name: &str) -> ApiError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        taken(name)
    } else {
        err.into()
    }
}

/// The Page's labels, by name (case-folded).
pub async fn list(
    db: &impl ConnectionTrait,
    page: &VisiblePage,
) -> Result<Vec<label::Model>, ApiError> {
    Ok(label::Entity::find()
        .filter(label::Column::PageId.eq(page.id()))
        .order_by_asc(label::Column::NameKey)
        .order_by_asc(label::Column::Id)
        .all(db)
        .await?)
}

/// Any label by id, visible or not: `access::label` is what callers use.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<label::Model>, ApiError> {
    Ok(label::Entity::find_by_id(id).one(db).await?)
}

/// Creates a label on `page` (colour [`DEFAULT_COLOR`] when none is given), with its audit
/// entry; returns it with its LABEL_CHANGED.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    page: &VisiblePage,
    name: &str,
    color: Option<&str>,
    now: i64,
) -> Result<Written<label::Model>, ApiError> {
    let (name, key) = check_name(name)?;
    let color = check_color(color.unwrap_or(DEFAULT_COLOR))?;
    // The insert comes first: it takes the write lock (SQLite), and the unique index
    // decides between two agents creating the same name at once.
    let created = label::ActiveModel {
        id: NotSet,
        page_id: Set(page.id().to_owned()),
        name: Set(name.clone()),
        name_key: Set(key),
        color: Set(color.clone()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| name_conflict(err, &name))?;
    let count = label::Entity::find()
        .filter(label::Column::PageId.eq(page.id()))
        .count(db)
        .await?;
    if count > MAX_PER_PAGE {
        return Err(ApiError::bad_input(format!(
            "`pageId`: a Page has at most {MAX_PER_PAGE} labels; delete one first"
        )));
    }
    let entry = Entry::new(Action::LabelCreated)
        .on(object(&created))
        .page(created.page_id.clone())
        .change(None, Some(color));
    audit::record(db, actor, entry).await?;
    Ok(Written {
        changes: vec![Change::LabelChanged(created.clone())],
        value: created,
    })
}

fn object(label: &label::Model) -> Object {
    Object::new(ObjectKind::Label, label.id, Some(label.name.clone()))
}

/// Renames or recolours `label` (`None` keeps that part), with its audit entry: from and
/// to as `name color`. Nothing given, or nothing different, changes nothing.
pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    label: label::Model,
    name: Option<&str>,
    color: Option<&str>,
) -> Result<Written<label::Model>, ApiError> {
    let name = name.map(check_name).transpose()?;
    let color = color.map(check_color).transpose()?;
    let (new_name, new_key) = name.unwrap_or_else(|| (label.name.clone(), label.name_key.clone()));
    let new_color = color.unwrap_or_else(|| label.color.clone());
    if new_name == label.name && new_color == label.color {
        return Ok(Written {
            value: label,
            changes: Vec::new(),
        });
    }
    let before = format!("{} {}", label.name, label.color);
    // One UPDATE, the first statement: the unique index refuses a name taken meanwhile.
    let updated = label::Entity::update_many()
        .col_expr(label::Column::Name, Expr::val(new_name.clone()))
        .col_expr(label::Column::NameKey, Expr::val(new_key))
        .col_expr(label::Column::Color, Expr::val(new_color))
        .filter(label::Column::Id.eq(label.id))
        .exec_with_returning(db)
        .await
        .map_err(|err| name_conflict(err, &new_name))?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("label"))?;
    let entry = Entry::new(Action::LabelUpdated)
        .on(object(&updated))
        .page(updated.page_id.clone())
        .change(
            Some(before),
            Some(format!("{} {}", updated.name, updated.color)),
        );
    audit::record(db, actor, entry).await?;
    Ok(Written {
        changes: vec![Change::LabelChanged(updated.clone())],
        value: updated,
    })
}

/// Deletes `label` and takes it off every conversation, with its audit entry; returns
/// its LABEL_DELETED (clients drop it from the conversations they hold).
pub async fn delete(
    db: &impl ConnectionTrait,
    actor: &Actor,
    label: label::Model,
) -> Result<Written<()>, ApiError> {
    // The label's row first (the write lock); its links go with it (cascade).
    let deleted = label::Entity::delete_by_id(label.id).exec(db).await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound("label"));
    }
    conversation_label::Entity::delete_many()
        .filter(conversation_label::Column::LabelId.eq(label.id))
        .exec(db)
        .await?;
    let entry = Entry::new(Action::LabelDeleted)
        .on(object(&label))
        .page(label.page_id.clone())
        .change(Some(label.color.clone()), None);
    audit::record(db, actor, entry).await?;
    Ok(Written {
        value: (),
        changes: vec![Change::LabelDeleted {
            page_id: label.page_id,
            id: label.id,
        }],
    })
}

/// Puts exactly `label_ids` (labels of the conversation's Page; repeats count once) on
/// the conversation, with an audit entry naming the labels before and after; returns the
/// conversation with its CONVERSATION_UPDATED. An id that is no label of this Page is
/// NOT_FOUND, as for none at all; the same set again changes nothing.
///
/// Its first statement writes the conversation's row, which takes its lock (PostgreSQL)
/// or the write lock (SQLite): two agents setting labels at once apply one after the other.
pub async fn set_for_conversation(
    db: &impl ConnectionTrait,
    actor: &Actor,
    conversation: &VisibleConversation,
    mut label_ids: Vec<i64>,
    now: i64,
) -> Result<Written<conversation::Model>, ApiError> {
    label_ids.sort_unstable();
    label_ids.dedup();
    if label_ids.len() > MAX_PER_CONVERSATION {
        return Err(ApiError::bad_input(format!(
            "`labelIds`: a conversation carries at most {MAX_PER_CONVERSATION} labels"
        )));
    }
    let updated = conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(conversation.id()))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("conversation"))?;
    let page_id = conversation.model().page_id.clone();
    let wanted = if label_ids.is_empty() {
        Vec::new()
    } else {
        label::Entity::find()
            .filter(label::Column::PageId.eq(page_id.as_str()))
            .filter(label::Column::Id.is_in(label_ids.clone()))
            .order_by_asc(label::Column::NameKey)
            .all(db)
            .await?
    };
    if wanted.len() != label_ids.len() {
        return Err(ApiError::NotFound("label"));
    }
    let current = of_conversations(db, &[conversation.id()])
        .await?
        .remove(&conversation.id())
        .unwrap_or_default();
    let mut current_ids: Vec<i64> = current.iter().map(|l| l.id).collect();
    current_ids.sort_unstable();
    if current_ids == label_ids {
        // The same set again: nothing to announce (the caller commits a touched row).
        return Ok(Written {
            value: updated,
            changes: Vec::new(),
        });
    }
    conversation_label::Entity::delete_many()
        .filter(conversation_label::Column::ConversationId.eq(conversation.id()))
        .exec(db)
        .await?;
    if !wanted.is_empty() {
        conversation_label::Entity::insert_many(wanted.iter().map(|l| {
            conversation_label::ActiveModel {
                conversation_id: Set(conversation.id()),
                label_id: Set(l.id),
            }
        }))
        .exec(db)
        .await?;
    }
    let names = |labels: &[label::Model]| {
        labels
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let entry = Entry::new(Action::ConversationLabelsChanged)
        .on(Object::new(
            ObjectKind::Conversation,
            updated.id,
            updated.customer_name.clone(),
        ))
        .page(page_id)
        .change(Some(names(&current)), Some(names(&wanted)));
    audit::record(db, actor, entry).await?;
    Ok(Written {
        changes: vec![Change::ConversationUpdated(updated.clone())],
        value: updated,
    })
}

/// The labels of each of these conversations (by name), in one statement: for
/// `Conversation.labels` through the loader.
pub async fn of_conversations(
    db: &impl ConnectionTrait,
    conversation_ids: &[i64],
) -> Result<HashMap<i64, Vec<label::Model>>, DbErr> {
    let mut found: HashMap<i64, Vec<label::Model>> = HashMap::new();
    if conversation_ids.is_empty() {
        return Ok(found);
    }
    let links = conversation_label::Entity::find()
        .filter(conversation_label::Column::ConversationId.is_in(conversation_ids.to_vec()))
        .all(db)
        .await?;
    if links.is_empty() {
        return Ok(found);
    }
    let mut label_ids: Vec<i64> = links.iter().map(|l| l.label_id).collect();
    label_ids.sort_unstable();
    label_ids.dedup();
    let labels: HashMap<i64, label::Model> = label::Entity::find()
        .filter(label::Column::Id.is_in(label_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    for link in links {
        if let Some(label) = labels.get(&link.label_id) {
            found
                .entry(link.conversation_id)
                .or_default()
                .push(label.clone());
        }
    }
    for labels in found.values_mut() {
        labels.sort_by(|a, b| (&a.name_key, a.id).cmp(&(&b.name_key, b.id)));
    }
    Ok(found)
}

/// The conversations carrying `label_id`, as a subquery for `conversations(labelId)`.
pub fn conversations_with(label_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(conversation_label::Column::ConversationId)
        .from(conversation_label::Entity)
        .and_where(conversation_label::Column::LabelId.eq(label_id))
        .to_owned()
}

#[cfg(test)]
mod tests;
