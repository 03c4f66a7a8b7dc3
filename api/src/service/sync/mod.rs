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

/// Imports the Page's `limit` newest conversations with their recent messages.
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
    let first = match state
        .graph
        .conversations(page_id, &token, limit, INLINE_MESSAGES, None)
        .await
    {
        Ok(first) => first,
        Err(err) => return Err(graph_failure(state, page_id, err).await),
    };
    import::import(state, page_id, &token, &first.data, false).await
}

fn graph_error(err: GraphError) -> ApiError {
    ApiError::GraphApi(err.to_string())
}

/// Marks the Page for reconnection when Facebook refused its token; the error to answer.
async fn graph_failure(state: &AppState, page_id: &str, err: GraphError) -> ApiError {
    if err.is_invalid_token()
        && let Err(db_err) = crate::service::send::mark_needs_reconnect(&state.db, page_id).await
    {
        return db_err;
    }
    graph_error(err)
}
