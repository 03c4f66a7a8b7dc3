//! A reply's rows: stored PENDING with the conversation's preview, then SENT or FAILED.
//! Both writes take any connection, so they join their caller's transaction, and return
//! what they changed for the caller to commit with it (`Outbox::commit`).
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, SqlErr,
};

use entity::{conversation, message};

use super::HUMAN_AGENT_TAG;
use crate::bus::Change;
use crate::error::ApiError;
use crate::facebook::events::Attachment as StoredAttachment;
use crate::facebook::graph::Outgoing;
use crate::service::access::VisibleConversation;
use crate::service::ingest::{MidHolder, PENDING_MID_PREFIX, make_way_for_mid};
use crate::service::outbox::Written;

/// A reply to store PENDING, already validated and inside its messaging window.
pub struct Reply<'a> {
    pub conversation: &'a VisibleConversation,
    /// Who sends it.
    pub agent_id: i64,
    pub content: &'a Outgoing,
    pub client_mutation_id: Option<String>,
    /// Sent in the human agent window, with its tag.
    pub human_agent: bool,
    pub now: i64,
}

/// What storing a reply came to.
#[expect(
    clippy::large_enum_variant,
    reason = "made once per reply and matched at once"
)]
pub enum Stored {
    /// Stored PENDING: the message, with MESSAGE_ADDED and the conversation's new preview.
    New(Written<message::Model>),
    /// Another request stored a reply with the same `client_mutation_id` first (the
    /// unique violation is given): that reply is the answer. The caller's transaction can
    /// do nothing more (PostgreSQL aborts it) and is to be rolled back.
    KeyTaken(DbErr),
}

/// The text, the attachments (JSON) and the conversation's preview a reply is stored with.
fn stored_form(content: &Outgoing) -> (Option<String>, Option<String>, String) {
    match content {
        Outgoing::Text(text) => (Some(text.clone()), None, text.clone()),
        Outgoing::Attachment { kind, url } => attachment(kind, Some(url.clone()), None),
        Outgoing::Saved { kind, .. } => attachment(kind, None, None),
        // The file's name is kept as the attachment's title; Facebook gives no URL back.
        Outgoing::File(file) => attachment(file.kind, None, Some(file.name.clone())),
    }
}

fn attachment(
    kind: &str,
    url: Option<String>,
    title: Option<String>,
) -> (Option<String>, Option<String>, String) {
    let stored = StoredAttachment {
        kind: kind.to_owned(),
        url,
        title,
        ..StoredAttachment::default()
    };
    (
        None,
        serde_json::to_string(&[stored]).ok(),
        format!("[{kind}]"),
    )
}

/// Stores `reply` PENDING under a placeholder mid (Facebook's replaces it once sent) and
/// makes it its conversation's preview, unless a newer message already is.
pub async fn pending(db: &impl ConnectionTrait, reply: Reply<'_>) -> Result<Stored, ApiError> {
    let (text, attachments, preview) = stored_form(reply.content);
    let mut placeholder = [0u8; 12];
    getrandom::fill(&mut placeholder).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let conversation = reply.conversation.model();
    let now = reply.now;
    let row = message::ActiveModel {
        id: NotSet,
        page_id: Set(conversation.page_id.clone()),
        conversation_id: Set(conversation.id),
        mid: Set(format!("{PENDING_MID_PREFIX}{}", hex::encode(placeholder))),
        direction: Set(message::Direction::Outbound),
        text: Set(text),
        attachments: Set(attachments),
        timestamp: Set(now),
        status: Set(message::Status::Pending),
        created_at: Set(now),
        client_mutation_id: Set(reply.client_mutation_id),
        agent_id: Set(Some(reply.agent_id)),
        tag: Set(reply.human_agent.then(|| HUMAN_AGENT_TAG.to_owned())),
        ..Default::default()
    };
    let stored = match row.insert(db).await {
        Ok(stored) => stored,
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(Stored::KeyTaken(err));
        }
        Err(err) => return Err(err.into()),
    };
    let updated_conversation = conversation::Entity::update_many()
        .col_expr(conversation::Column::LastMessageText, Expr::val(preview))
        .col_expr(conversation::Column::LastTimestamp, Expr::val(now))
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(conversation.id))
        .filter(conversation::Column::LastTimestamp.lte(now))
        .exec_with_returning(db)
        .await?;
    let mut changes = vec![Change::MessageAdded(stored.clone())];
    changes.extend(
        updated_conversation
            .into_iter()
            .map(Change::ConversationUpdated),
    );
    Ok(Stored::New(Written {
        value: stored,
        changes,
    }))
}

/// PENDING -> SENT (with the mid) or FAILED (with the code). A copy of the reply that a
/// history sync imported meanwhile (holding the mid) is merged into ours, as for the echo
/// (`ingest::make_way_for_mid`): MESSAGE_UPDATED for ours, MESSAGE_REMOVED for the copy.
///
/// `None` when the echo got there first and already completed the row: nothing this
/// write did is to stand, and the caller rolls its transaction back.
pub async fn finish(
    db: &impl ConnectionTrait,
    pending: &message::Model,
    outcome: Result<String, &'static str>,
) -> Result<Option<Written<message::Model>>, ApiError> {
    use message::Column as M;
    let mut removed = None;
    if let Ok(mid) = &outcome {
        match make_way_for_mid(db, pending.id, &pending.page_id, mid).await? {
            MidHolder::Nobody => {}
            MidHolder::MergedCopy(copy) => removed = Some(copy),
            // Not ours to take: the row stays as it is (the echo may yet complete it).
            MidHolder::Other => return Ok(None),
        }
    }
    let update = message::Entity::update_many()
        .filter(M::Id.eq(pending.id))
        .filter(M::Status.eq(message::Status::Pending));
    let update = match outcome {
        Ok(mid) => update
            .col_expr(M::Mid, Expr::val(mid))
            .col_expr(M::Status, Expr::val(message::Status::Sent)),
        Err(code) => update
            .col_expr(M::Status, Expr::val(message::Status::Failed))
            .col_expr(M::ErrorCode, Expr::val(code)),
    };
    let finished = match update.exec_with_returning(db).await {
        Ok(rows) => rows.into_iter().next(),
        // The echo already stored this mid on the row: nothing left to do.
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => None,
        Err(err) => return Err(err.into()),
    };
    Ok(finished.map(|model| {
        let mut changes = vec![Change::MessageUpdated(model.clone())];
        changes.extend(removed.map(|id| Change::MessageRemoved {
            page_id: model.page_id.clone(),
            id,
        }));
        Written {
            value: model,
            changes,
        }
    }))
}
