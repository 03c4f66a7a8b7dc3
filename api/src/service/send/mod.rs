//! Replying from the inbox: validate, check the messaging window, store PENDING and
//! publish, call the Send API, then SENT with Facebook's mid or FAILED with our code.
//! Facebook's echo of the send carries `metadata: "mf:<id>"` and completes the same row
//! (see `ingest::adopt_echo`), so a reply is one message whichever arrives first.
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr,
    TransactionTrait,
};

use entity::{conversation, message};

use crate::bus::Change;
use crate::error::ApiError;
use crate::facebook::events::Attachment as StoredAttachment;
use crate::facebook::graph::{GraphError, Outgoing};
use crate::service::access::VisibleConversation;
use crate::service::auth::Principal;
use crate::service::ingest::{
    MidHolder, OWN_METADATA_PREFIX, PENDING_MID_PREFIX, make_way_for_mid,
};
use crate::state::AppState;
use crate::time::now_ms;

mod rules;
use rules::validate_key;
pub use rules::{
    ATTACHMENT_KINDS, HUMAN_AGENT_TAG, HUMAN_AGENT_WINDOW_MS, MAX_TEXT_CHARS, STANDARD_WINDOW_MS,
    SendRequest, Window, validate_attachment, validate_text, window,
};

/// Sends `request` as `principal`; returns the stored message (SENT, or FAILED with
/// `error_code`). Repeating a `client_mutation_id` returns the first message unchanged.
#[expect(clippy::too_many_lines, reason = "still to split (issue 13)")]
pub async fn send_message(
    state: &AppState,
    principal: &Principal,
    request: SendRequest,
) -> Result<message::Model, ApiError> {
    match &request.content {
        Outgoing::Text(text) => validate_text(text)?,
        Outgoing::Attachment { kind, url } => validate_attachment(kind, url)?,
    }
    let (text, attachments, preview) = match &request.content {
        Outgoing::Text(text) => (Some(text.clone()), None, text.clone()),
        Outgoing::Attachment { kind, url } => (
            None,
            serde_json::to_string(&[StoredAttachment {
                kind: kind.clone(),
                url: Some(url.clone()),
                title: None,
            }])
            .ok(),
            format!("[{kind}]"),
        ),
    };
    if let Some(key) = &request.client_mutation_id {
        validate_key(key)?;
    }
    let db = &state.db;
    let conversation = request.conversation.model();
    if let Some(key) = &request.client_mutation_id
        && let Some(existing) = by_key(db, conversation.id, key).await?
    {
        return Ok(existing);
    }
    let token = crate::service::pages::token(db, &conversation.page_id).await?;
    let now = now_ms();
    let human_agent = match window(conversation.last_inbound_timestamp, now) {
        Window::Standard => false,
        Window::HumanAgent => true,
        Window::Closed => return Err(ApiError::OutsideWindow),
    };

    // Stored first, so the agent sees it at once and a crash leaves a trace.
    let mut placeholder = [0u8; 12];
    getrandom::fill(&mut placeholder).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let pending = message::ActiveModel {
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
        client_mutation_id: Set(request.client_mutation_id.clone()),
        agent_id: Set(Some(principal.agent.id)),
        tag: Set(human_agent.then(|| HUMAN_AGENT_TAG.to_owned())),
        ..Default::default()
    };
    // The message, the conversation's preview and their log entries: one transaction.
    let txn = db.begin().await?;
    let stored = match pending.insert(&txn).await {
        Ok(stored) => stored,
        // The same key raced in from another request: that one is the message.
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            if let Some(key) = &request.client_mutation_id
                && let Some(existing) = by_key(db, conversation.id, key).await?
            {
                return Ok(existing);
            }
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    let updated_conversation = conversation::Entity::update_many()
        .col_expr(conversation::Column::LastMessageText, Expr::val(preview))
        .col_expr(conversation::Column::LastTimestamp, Expr::val(now))
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(conversation.id))
        .filter(conversation::Column::LastTimestamp.lte(now))
        .exec_with_returning(&txn)
        .await?;
    let mut changes = vec![Change::MessageAdded(stored.clone())];
    changes.extend(
        updated_conversation
            .into_iter()
            .map(Change::ConversationUpdated),
    );
    state.outbox.commit(txn, changes).await?;

    let metadata = format!("{OWN_METADATA_PREFIX}{}", stored.id);
    let result = state
        .graph
        .send(
            &conversation.page_id,
            &token,
            &conversation.psid,
            &request.content,
            human_agent,
            Some(&metadata),
        )
        .await;
    let finished = match result {
        Ok(sent) => finish(state, &stored, Ok(sent.message_id)).await?,
        Err(err) => {
            tracing::warn!(error = %err, page_id = %conversation.page_id, "Send API refused a message");
            crate::service::pages::flag_if_needed(db, &conversation.page_id, &err).await?;
            finish(state, &stored, Err(error_code(&err))).await?
        }
    };
    if let Some(finished) = &finished {
        let outcome = if finished.status == message::Status::Failed {
            "failed"
        } else {
            "sent"
        };
        state.metrics.sends.with_label_values(&[outcome]).inc();
    }
    match finished {
        Some(model) => Ok(model),
        None => message::Entity::find_by_id(stored.id)
            .one(db)
            .await?
            .ok_or(ApiError::NotFound("message")),
    }
}

/// Shows the customer that an agent is typing (or stops showing it).
pub async fn typing(
    state: &AppState,
    conversation: &VisibleConversation,
    on: bool,
) -> Result<(), ApiError> {
    let conversation = conversation.model();
    let token = crate::service::pages::token(&state.db, &conversation.page_id).await?;
    let action = if on { "typing_on" } else { "typing_off" };
    match state
        .graph
        .sender_action(&conversation.page_id, &token, &conversation.psid, action)
        .await
    {
        Ok(()) => Ok(()),
        Err(err) if err.is_outside_window() => Err(ApiError::OutsideWindow),
        Err(err) => {
            crate::service::pages::flag_if_needed(&state.db, &conversation.page_id, &err).await?;
            Err(ApiError::GraphApi(err.to_string()))
        }
    }
}

/// Our code for a Graph error, stored on the FAILED message (`Failure::error_code`):
/// `RATE_LIMITED`, `TEMPORARY_FAILURE` (both after their retries), `OUTSIDE_MESSAGING_WINDOW`,
/// `RECIPIENT_UNAVAILABLE` (551), `RECIPIENT_NOT_RECEIVING` (10/2018108),
/// `PERMISSION_MISSING` (200-299), `PAGE_NEEDS_RECONNECT` (190), `GRAPH_API_ERROR`.
pub fn error_code(err: &GraphError) -> &'static str {
    err.failure().error_code()
}

/// PENDING -> SENT (with the mid) or FAILED (with the code). `None` when the echo got
/// there first and already completed the row. A copy of the reply that a history sync
/// imported meanwhile (holding the mid) is merged into ours, as for the echo
/// (`ingest::make_way_for_mid`): MESSAGE_UPDATED for ours, MESSAGE_REMOVED for the copy.
async fn finish(
    state: &AppState,
    pending: &message::Model,
    outcome: Result<String, &'static str>,
) -> Result<Option<message::Model>, ApiError> {
    use message::Column as M;
    let txn = state.db.begin().await?;
    let mut removed = None;
    if let Ok(mid) = &outcome {
        match make_way_for_mid(&txn, pending.id, &pending.page_id, mid).await? {
            MidHolder::Nobody => {}
            MidHolder::MergedCopy(copy) => removed = Some(copy),
            // Not ours to take: the row stays as it is (the echo may yet complete it).
            MidHolder::Other => {
                txn.rollback().await?;
                return Ok(None);
            }
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
    let finished = match update.exec_with_returning(&txn).await {
        Ok(rows) => rows.into_iter().next(),
        // The echo already stored this mid on the row: nothing left to do.
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    };
    match &finished {
        Some(model) => {
            let mut changes = vec![Change::MessageUpdated(model.clone())];
            changes.extend(removed.map(|id| Change::MessageRemoved {
                page_id: model.page_id.clone(),
                id,
            }));
            state.outbox.commit(txn, changes).await?;
        }
        None => txn.rollback().await?,
    }
    Ok(finished)
}

/// The message sent with `key` in this conversation (keys are unique per conversation).
async fn by_key(
    db: &impl ConnectionTrait,
    conversation_id: i64,
    key: &str,
) -> Result<Option<message::Model>, ApiError> {
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::ClientMutationId.eq(key))
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::rules::HOUR_MS;
    use super::*;

    #[test]
    fn texts_are_checked_before_anything_is_sent() {
        assert!(validate_text("hello\nworld").is_ok());
        assert!(validate_text(&"é".repeat(2000)).is_ok());
        assert!(validate_text(&"é".repeat(2001)).is_err());
        assert!(validate_text("").is_err());
        assert!(validate_text("   ").is_err());
        assert!(validate_text("bell\u{7}").is_err());
    }

    #[test]
    fn windows_follow_the_last_inbound_message() {
        let now = 10 * HUMAN_AGENT_WINDOW_MS;
        assert_eq!(window(Some(now - HOUR_MS), now), Window::Standard);
        assert_eq!(
            window(Some(now - 2 * STANDARD_WINDOW_MS), now),
            Window::HumanAgent
        );
        assert_eq!(
            window(Some(now - HUMAN_AGENT_WINDOW_MS - 1), now),
            Window::Closed
        );
        assert_eq!(window(None, now), Window::Closed);
        assert_eq!(window(Some(i64::MIN), now), Window::Closed);
        assert_eq!(window(Some(i64::MAX), now), Window::Closed);
        assert_eq!(window(Some(now + 1000), now), Window::Standard);
        assert_eq!(window(Some(0), i64::MIN), Window::Closed);
    }
}
