//! Storing one Graph page of conversations: their messages through the ingest writer
//! (so one seen by a webhook too is stored once), and their customers' names.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::conversation;

use super::convert::{customer, to_event};
use super::{INLINE_MESSAGES, Imported, graph_error};
use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::events::Event;
use crate::facebook::graph::GraphConversation;
use crate::state::AppState;

/// Stores one Graph page of conversations (following each one's messages to the end
/// when `all_messages`), names its customers, and returns what it imported.
pub(super) async fn import(
    state: &AppState,
    page_id: &str,
    token: &Secret,
    conversations: &[GraphConversation],
    all_messages: bool,
) -> Result<Imported, ApiError> {
    let mut imported = Imported::default();
    for conversation in conversations {
        let Some((psid, name)) = customer(page_id, conversation) else {
            continue;
        };
        let events = messages(state, page_id, token, conversation, &psid, all_messages).await?;
        imported.conversations += 1;
        imported.messages += events.len();
        if !events.is_empty() {
            let report = state
                .ingest
                .submit(events)
                .await
                .map_err(|err| ApiError::Internal(err.into()))?;
            imported.stored += report.stored;
        }
        if let Some(name) = name {
            name_customer(&state.db, page_id, &psid, &name).await?;
        }
    }
    Ok(imported)
}

/// The conversation's messages as events: those the listing inlined (or the first page
/// of them), and, when `all_messages`, every further page.
async fn messages(
    state: &AppState,
    page_id: &str,
    token: &Secret,
    conversation: &GraphConversation,
    psid: &str,
    all_messages: bool,
) -> Result<Vec<Event>, ApiError> {
    let mut events: Vec<Event> = Vec::new();
    let mut next: Option<String>;
    if let Some(inline) = &conversation.messages {
        events.extend(
            inline
                .data
                .iter()
                .filter_map(|m| to_event(page_id, psid, m)),
        );
        next = inline.paging.as_ref().and_then(|p| p.next.clone());
    } else {
        let first = state
            .graph
            .messages(page_id, &conversation.id, token, INLINE_MESSAGES, None)
            .await
            .map_err(graph_error)?;
        events.extend(first.data.iter().filter_map(|m| to_event(page_id, psid, m)));
        next = first.paging.and_then(|p| p.next);
    }
    while all_messages && let Some(url) = next.take() {
        let more = state
            .graph
            .messages(
                page_id,
                &conversation.id,
                token,
                INLINE_MESSAGES,
                Some(&url),
            )
            .await
            .map_err(graph_error)?;
        events.extend(more.data.iter().filter_map(|m| to_event(page_id, psid, m)));
        next = more.paging.and_then(|p| p.next);
    }
    Ok(events)
}

/// Gives the Page's conversation with `psid` the customer's name Graph knows.
pub(super) async fn name_customer(
    db: &impl ConnectionTrait,
    page_id: &str,
    psid: &str,
    name: &str,
) -> Result<(), ApiError> {
    conversation::Entity::update_many()
        .col_expr(conversation::Column::CustomerName, Expr::val(name))
        .filter(conversation::Column::PageId.eq(page_id))
        .filter(conversation::Column::Psid.eq(psid))
        .exec(db)
        .await?;
    Ok(())
}
