//! Saved replies: a Page's canned answers under shortcuts, which agents insert in the
//! composer by typing `/` and the shortcut. Every change is one transaction with its audit
//! entry and its event-log entry (SAVED_REPLY_CHANGED, SAVED_REPLY_DELETED), so every
//! agent of the Page has the same list at once, and a feed that was away replays it.
//!
//! The text is kept as written: `{{customer.first_name}}` and `{{agent.name}}` are filled
//! in by the client when a reply is inserted, where the agent can still change them.
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, SqlErr,
};

use entity::saved_reply;

use crate::bus::Change;
use crate::error::ApiError;
use crate::service::access::VisiblePage;
use crate::service::audit::{self, Action, Actor, Entry, Object, ObjectKind};
use crate::service::outbox::Written;

/// The longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 30;
/// The longest text, in characters: what Messenger takes in one message.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Saved replies a Page may have.
pub const MAX_PER_PAGE: u64 = 500;

/// A shortcut as stored (trimmed, without a leading `/`) and its key (case-folded), or
/// BAD_USER_INPUT naming `shortcut`: 1 to 30 letters, digits, `-` or `_`.
pub fn check_shortcut(shortcut: &str) -> Result<(String, String), ApiError> {
    let shortcut = shortcut.trim();
    let shortcut = shortcut.strip_prefix('/').unwrap_or(shortcut);
    let chars = shortcut.chars().count();
    let allowed = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    if chars == 0 || chars > MAX_SHORTCUT_CHARS || !shortcut.chars().all(allowed) {
        return Err(ApiError::bad_input(format!(
            "`shortcut` must be 1 to {MAX_SHORTCUT_CHARS} letters, digits, - or _ (what is typed after /)"
        )));
    }
    Ok((shortcut.to_owned(), shortcut.to_lowercase()))
}

/// A text as stored (trimmed), or BAD_USER_INPUT naming `text`.
pub fn check_text(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(ApiError::bad_input(format!(
            "`text` must be 1 to {MAX_TEXT_CHARS} characters"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApiError::bad_input(
            "`text` must not contain control characters (but new lines and tabs)",
        ));
    }
    Ok(text.to_owned())
}

fn taken(shortcut: &str) -> ApiError {
    ApiError::bad_input(format!(
        "`shortcut`: this Page already has a saved reply /{shortcut} (shortcuts ignore case)"
    ))
}

/// A unique-key violation on the shortcut is the same answer as the check before it.
fn shortcut_conflict(err: DbErr, shortcut: &str) -> ApiError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        taken(shortcut)
    } else {
        err.into()
    }
}

fn object(reply: &saved_reply::Model) -> Object {
    Object::new(
        ObjectKind::SavedReply,
        reply.id,
        Some(format!("/{}", reply.shortcut)),
    )
}

/// The Page's saved replies, by shortcut (case-folded).
pub async fn list(
    db: &impl ConnectionTrait,
    page: &VisiblePage,
) -> Result<Vec<saved_reply::Model>, ApiError> {
    Ok(saved_reply::Entity::find()
        .filter(saved_reply::Column::PageId.eq(page.id()))
        .order_by_asc(saved_reply::Column::ShortcutKey)
        .order_by_asc(saved_reply::Column::Id)
        .all(db)
        .await?)
}

/// Any saved reply by id, visible or not: `access::saved_reply` is what callers use.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<saved_reply::Model>, ApiError> {
    Ok(saved_reply::Entity::find_by_id(id).one(db).await?)
}

/// Creates a saved reply on `page`, with its audit entry; returns it with its
/// SAVED_REPLY_CHANGED.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    page: &VisiblePage,
    shortcut: &str,
    text: &str,
    now: i64,
) -> Result<Written<saved_reply::Model>, ApiError> {
    let (shortcut, key) = check_shortcut(shortcut)?;
    let text = check_text(text)?;
    // The insert comes first: it takes the write lock (SQLite), and the unique index
    // decides between two agents creating the same shortcut at once.
    let created = saved_reply::ActiveModel {
        id: NotSet,
        page_id: Set(page.id().to_owned()),
        shortcut: Set(shortcut.clone()),
        shortcut_key: Set(key),
        text: Set(text),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| shortcut_conflict(err, &shortcut))?;
    let count = saved_reply::Entity::find()
        .filter(saved_reply::Column::PageId.eq(page.id()))
        .count(db)
        .await?;
    if count > MAX_PER_PAGE {
        return Err(ApiError::bad_input(format!(
            "`pageId`: a Page has at most {MAX_PER_PAGE} saved replies; delete one first"
        )));
    }
    let entry = Entry::new(Action::SavedReplyCreated)
        .on(object(&created))
        .page(created.page_id.clone());
    audit::record(db, actor, entry).await?;
    Ok(Written {
        changes: vec![Change::SavedReplyChanged(created.clone())],
        value: created,
    })
}

/// Changes a saved reply's shortcut or text (`None` keeps that part), with its audit
/// entry (the shortcut before and after). Nothing different changes nothing.
pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    reply: saved_reply::Model,
    shortcut: Option<&str>,
    text: Option<&str>,
) -> Result<Written<saved_reply::Model>, ApiError> {
    let shortcut = shortcut.map(check_shortcut).transpose()?;
    let text = text.map(check_text).transpose()?;
    let (new_shortcut, new_key) =
        shortcut.unwrap_or_else(|| (reply.shortcut.clone(), reply.shortcut_key.clone()));
    let new_text = text.unwrap_or_else(|| reply.text.clone());
    if new_shortcut == reply.shortcut && new_text == reply.text {
        return Ok(Written {
            value: reply,
            changes: Vec::new(),
        });
    }
    let before = format!("/{}", reply.shortcut);
    // One UPDATE, the first statement: the unique index refuses a shortcut taken meanwhile.
    let updated = saved_reply::Entity::update_many()
        .col_expr(
            saved_reply::Column::Shortcut,
            Expr::val(new_shortcut.clone()),
        )
        .col_expr(saved_reply::Column::ShortcutKey, Expr::val(new_key))
        .col_expr(saved_reply::Column::Text, Expr::val(new_text))
        .filter(saved_reply::Column::Id.eq(reply.id))
        .exec_with_returning(db)
        .await
        .map_err(|err| shortcut_conflict(err, &new_shortcut))?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("saved reply"))?;
    let entry = Entry::new(Action::SavedReplyUpdated)
        .on(object(&updated))
        .page(updated.page_id.clone())
        .change(Some(before), Some(format!("/{}", updated.shortcut)));
    audit::record(db, actor, entry).await?;
    Ok(Written {
        changes: vec![Change::SavedReplyChanged(updated.clone())],
        value: updated,
    })
}

/// Deletes a saved reply, with its audit entry; returns its SAVED_REPLY_DELETED.
pub async fn delete(
    db: &impl ConnectionTrait,
    actor: &Actor,
    reply: saved_reply::Model,
) -> Result<Written<()>, ApiError> {
    let deleted = saved_reply::Entity::delete_by_id(reply.id).exec(db).await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound("saved reply"));
    }
    let entry = Entry::new(Action::SavedReplyDeleted)
        .on(object(&reply))
        .page(reply.page_id.clone());
    audit::record(db, actor, entry).await?;
    Ok(Written {
        value: (),
        changes: vec![Change::SavedReplyDeleted {
            page_id: reply.page_id,
            id: reply.id,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::{check_shortcut, check_text};

    #[test]
    fn shortcuts_are_one_word_without_the_slash_and_folded() {
        assert_eq!(
            check_shortcut(" /Thanks ").unwrap(),
            ("Thanks".to_owned(), "thanks".to_owned())
        );
        assert_eq!(check_shortcut("größe_2").unwrap().1, "größe_2");
        for bad in ["", "/", "two words", "a/b", "x{{y", &"s".repeat(31)] {
            assert!(check_shortcut(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts_are_bounded_and_keep_their_lines() {
        assert_eq!(check_text(" Hi\nthere\t! ").unwrap(), "Hi\nthere\t!");
        assert!(check_text(" \n ").is_err());
        assert!(check_text(&"é".repeat(2000)).is_ok());
        assert!(check_text(&"é".repeat(2001)).is_err());
        assert!(check_text("bell\u{7}").is_err());
    }
}
