//! Storing one Graph page of conversations: their messages through the ingest writer
//! (so one seen by a webhook too is stored once), and their customers' names.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::conversation;

use super::convert::{customer, to_event};
use super::{INLINE_MESSAGES, Imported, graph_error, stale_cursor};
use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::events::Event;
use crate::facebook::graph::{GraphConversation, GraphError};
use crate::state::AppState;

/// Stores one Graph page of conversations (following each one's messages until `enough`
/// of them came, or to the end when `None`), names its customers, and returns what it
/// imported.
pub(super) async fn import(
    state: &AppState,
    page_id: &str,
    token: &Secret,
    conversations: &[GraphConversation],
    enough: Option<usize>,
) -> Result<Imported, ApiError> {
    let mut imported = Imported::default();
    for conversation in conversations {
        let Some((psid, name)) = customer(page_id, conversation) else {
            continue;
        };
        let events = messages(state, page_id, token, conversation, &psid, enough).await?;
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
/// of them), then further pages until `enough` came (every one when `None`). Pages may be
/// short or empty: only an absent `next` ends the list. A `next` Graph refuses as stale
/// starts the conversation's messages again from the first page.
async fn messages(
    state: &AppState,
    page_id: &str,
    token: &Secret,
    conversation: &GraphConversation,
    psid: &str,
    enough: Option<usize>,
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
        next = fetch(
            state,
            page_id,
            token,
            (&conversation.id, psid),
            None,
            &mut events,
        )
        .await
        .map_err(graph_error)?;
    }
    let mut restarts = 0;
    while enough.is_none_or(|n| events.len() < n)
        && let Some(url) = next.take()
    {
        let thread = (conversation.id.as_str(), psid);
        next = match fetch(state, page_id, token, thread, Some(&url), &mut events).await {
            Err(err) if stale_cursor(&err, Some(&url), &mut restarts) => {
                events.clear();
                fetch(state, page_id, token, thread, None, &mut events)
                    .await
                    .map_err(graph_error)?
            }
            other => other.map_err(graph_error)?,
        };
    }
    Ok(events)
}

/// One page of the messages of `(conversation id, customer's psid)` (the first, or
/// `next`), added to `events`; the page's `next`.
async fn fetch(
    state: &AppState,
    page_id: &str,
    token: &Secret,
    (conversation_id, psid): (&str, &str),
    next: Option<&str>,
    events: &mut Vec<Event>,
) -> Result<Option<String>, GraphError> {
    let page = state
        .graph
        .messages(page_id, conversation_id, token, INLINE_MESSAGES, next)
        .await?;
    events.extend(page.data.iter().filter_map(|m| to_event(page_id, psid, m)));
    Ok(page.paging.and_then(|p| p.next))
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
