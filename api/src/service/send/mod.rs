//! Replying from the inbox: validate, check the messaging window, store PENDING and
//! publish, call the Send API, then SENT with Facebook's mid or FAILED with our code.
//! Facebook's echo of the send carries `metadata: "mf:<id>"` and completes the same row
//! (see `ingest::adopt_echo`), so a reply is one message whichever arrives first.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::message;

use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::graph::{GraphError, Outgoing};
use crate::service::access::VisibleConversation;
use crate::service::auth::Principal;
use crate::service::ingest::OWN_METADATA_PREFIX;
use crate::state::AppState;
use crate::time::now_ms;

pub mod files;
mod rules;
pub mod store;
use rules::validate_key;
pub use rules::{
    ATTACHMENT_KINDS, HUMAN_AGENT_TAG, HUMAN_AGENT_WINDOW_MS, MAX_TEXT_CHARS, STANDARD_WINDOW_MS,
    SendRequest, Window, validate_attachment, validate_attachment_id, validate_text, window,
};
use store::{Reply, Stored};

/// Sends `request` as `principal`; returns the stored message (SENT, or FAILED with
/// `error_code`). Repeating a `client_mutation_id` returns the first message unchanged.
pub async fn send_message(
    state: &AppState,
    principal: &Principal,
    request: SendRequest,
) -> Result<message::Model, ApiError> {
    match &request.content {
        Outgoing::Text(text) => validate_text(text)?,
        Outgoing::Attachment { kind, url } => validate_attachment(kind, url)?,
        Outgoing::Saved {
            kind,
            attachment_id,
        } => validate_attachment_id(kind, attachment_id)?,
        // Checked as it was read (`files::check`): its size, and its type by content.
        Outgoing::File(_) => {}
    }
    if let Some(key) = &request.client_mutation_id {
        validate_key(key)?;
    }
    let db = &state.db;
    if let Some(existing) = sent_before(db, &request).await? {
        return Ok(existing);
    }
    let conversation = request.conversation.model();
    let token = crate::service::pages::token(db, &conversation.page_id).await?;
    let now = now_ms();
    let human_agent = match window(conversation.last_inbound_timestamp, now) {
        Window::Standard => false,
        Window::HumanAgent => true,
        Window::Closed => return Err(ApiError::OutsideWindow),
    };
    // Stored first, so the agent sees it at once and a crash leaves a trace: the message,
    // the conversation's preview and their log entries in one transaction.
    let reply = Reply {
        conversation: &request.conversation,
        agent_id: principal.agent.id,
        content: &request.content,
        client_mutation_id: request.client_mutation_id.clone(),
        human_agent,
        now,
    };
    let txn = crate::db::begin_write(db).await?;
    let stored = match store::pending(&txn, reply).await? {
        Stored::New(written) => {
            state.outbox.commit(txn, written.changes).await?;
            written.value
        }
        // The same key raced in from another request: that one is the message.
        Stored::KeyTaken(err) => {
            txn.rollback().await?;
            return sent_before(db, &request).await?.ok_or_else(|| err.into());
        }
    };
    let finished = deliver(state, &request, &stored, &token, human_agent).await?;
    match finished {
        Some(model) => Ok(model),
        None => message::Entity::find_by_id(stored.id)
            .one(db)
            .await?
            .ok_or(ApiError::NotFound("message")),
    }
}

/// Calls the Send API for the PENDING `stored` and records its answer (`store::finish`)
/// in a transaction of its own, counting it. `None` when the echo completed the row first.
async fn deliver(
    state: &AppState,
    request: &SendRequest,
    stored: &message::Model,
    token: &Secret,
    human_agent: bool,
) -> Result<Option<message::Model>, ApiError> {
    let conversation = request.conversation.model();
    let page_id = &conversation.page_id;
    let metadata = format!("{OWN_METADATA_PREFIX}{}", stored.id);
    let result = state
        .graph
        .send(
            page_id,
            token,
            &conversation.psid,
            &request.content,
            human_agent,
            Some(&metadata),
        )
        .await;
    let outcome = match result {
        Ok(sent) => Ok(sent.message_id),
        Err(err) => {
            tracing::warn!(error = %err, page_id = %page_id, "Send API refused a message");
            crate::service::pages::flag_if_needed(&state.db, page_id, &err).await?;
            Err(error_code(&err))
        }
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let Some(written) = store::finish(&txn, stored, outcome).await? else {
        txn.rollback().await?;
        return Ok(None);
    };
    state.outbox.commit(txn, written.changes).await?;
    let finished = written.value;
    let counted = if finished.status == message::Status::Failed {
        "failed"
    } else {
        "sent"
    };
    state.metrics.sends.with_label_values(&[counted]).inc();
    Ok(Some(finished))
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

/// The message already sent with the request's `client_mutation_id` in its conversation
/// (keys are unique per conversation).
async fn sent_before(
    db: &impl ConnectionTrait,
    request: &SendRequest,
) -> Result<Option<message::Model>, ApiError> {
    let Some(key) = &request.client_mutation_id else {
        return Ok(None);
    };
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(request.conversation.id()))
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
