//! Importing history from the Conversations API: the newest conversations on demand,
//! or everything in a background job that reports progress (`full`). Messages go through
//! the ingest writer like webhooks (`import`), so one seen by both is stored once; the
//! job's own rows are `jobs`, what Graph's shapes become is `convert`.
mod convert;
mod full;
mod import;
mod jobs;

use crate::error::ApiError;
use crate::facebook::graph::GraphError;
use crate::service::access::VisiblePage;
use crate::service::pages;
use crate::state::AppState;

pub use full::start_full_sync;
pub(crate) use jobs::job;

/// Conversations per Graph page in a full sync (Graph's maximum is 100; 25 keeps each
/// answer, messages inlined, small).
const FULL_SYNC_PAGE: u32 = 25;
/// Messages inlined per conversation.
const INLINE_MESSAGES: u32 = 25;

/// What a sync imported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub conversations: usize,
    /// Messages seen (new or already stored).
    pub messages: usize,
    /// Messages stored for the first time.
    pub stored: usize,
}

/// Imports the Page's `limit` newest conversations with their recent messages. Graph's
/// pages may hold fewer than asked, or none with a `next` link: the listing is followed
/// until `limit` conversations came or `next` is absent.
pub async fn sync_conversations(
    state: &AppState,
    page: &VisiblePage,
    limit: u32,
) -> Result<Imported, ApiError> {
    let page_id = page.id();
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_input("`limit` must be between 1 and 100"));
    }
    let token = pages::token(&state.db, page_id).await?;
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut imported = Imported::default();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut next: Option<String> = None;
    let mut restarts = 0;
    loop {
        let listing = match state
            .graph
            .conversations(page_id, &token, limit, INLINE_MESSAGES, next.as_deref())
            .await
        {
            Ok(listing) => listing,
            Err(err) if stale_cursor(&err, next.as_deref(), &mut restarts) => {
                next = None;
                continue;
            }
            Err(err) => return Err(graph_failure(state, page_id, err).await),
        };
        let left = wanted.saturating_sub(imported.conversations);
        let todo: Vec<_> = listing
            .data
            .into_iter()
            .filter(|c| convert::customer(page_id, c).is_some() && seen.insert(c.id.clone()))
            .take(left)
            .collect();
        let page_imported = import::import(
            state,
            page_id,
            &token,
            &todo,
            Some(INLINE_MESSAGES as usize),
        )
        .await?;
        imported.add(page_imported);
        next = listing.paging.and_then(|p| p.next);
        if next.is_none() || imported.conversations >= wanted {
            return Ok(imported);
        }
    }
}

impl Imported {
    fn add(&mut self, other: Self) {
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.stored += other.stored;
    }
}

/// Times a listing starts again from its first page after Graph refused a `next` link.
const CURSOR_RESTARTS: u32 = 3;

/// Whether `err`, answering the `next` link `next`, is a cursor gone stale (Graph's paging
/// documentation: cursors go stale, do not keep them; Graph refuses one as an invalid
/// parameter, code 100) and the listing may start again from its first page (at most
/// [`CURSOR_RESTARTS`] times). What was imported stays; what comes again is stored once.
fn stale_cursor(err: &GraphError, next: Option<&str>, restarts: &mut u32) -> bool {
    if next.is_none() || !err.is_invalid_parameter() || *restarts >= CURSOR_RESTARTS {
        return false;
    }
    *restarts += 1;
    tracing::warn!(error = %err, restarts = *restarts, "a Graph cursor went stale; listing again from the first page");
    true
}

fn graph_error(err: GraphError) -> ApiError {
    ApiError::GraphApi(err.to_string())
}

/// Marks the Page for reconnection when Facebook refused its token or found a permission
/// missing; the error to answer.
async fn graph_failure(state: &AppState, page_id: &str, err: GraphError) -> ApiError {
    if let Err(db_err) = pages::flag_if_needed(&state.db, page_id, &err).await {
        return db_err;
    }
    graph_error(err)
}
