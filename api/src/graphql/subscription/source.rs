//! Where a subscription's events come from: the bus, listened to before any check awaits,
//! and for one Page its event log, from the caller's `after` or from now.
use std::sync::Arc;

use async_graphql::{Context, Result};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::bus::BusEvent;
use crate::error::ApiError;
use crate::graphql::sequencer::{Events, in_order};
use crate::service::event_log::{self, Resume};
use crate::state::AppState;

/// Starts listening before any check awaits, so that nothing committed after the
/// subscription's first poll is missed.
pub(super) fn listen(ctx: &Context<'_>) -> Result<BoxStream<'static, Arc<BusEvent>>> {
    Ok(ctx.data::<AppState>()?.bus.subscribe())
}

/// Every event but one Page's, as the bus gives them.
pub(super) fn unordered(events: BoxStream<'static, Arc<BusEvent>>) -> Events {
    events.map(Ok).boxed()
}

/// Where a Page subscription starts: after the caller's `after`, or at the Page's
/// current head. Call after `listen`, so that nothing after the head is missed.
async fn start(state: &AppState, page_id: &str, after: Option<&str>) -> Result<(i64, bool)> {
    let Some(after) = after else {
        return Ok((event_log::head(&state.db, page_id).await?, false));
    };
    let after: i64 = after
        .trim()
        .parse()
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| ApiError::bad_input("`after` is not an event position"))?;
    match event_log::can_resume(&state.db, page_id, after).await? {
        Resume::Ok => Ok((after, true)),
        Resume::Pruned => Err(ApiError::PositionExpired.into()),
        Resume::Ahead { head } => Err(ApiError::bad_input(format!(
            "`after` is ahead of this Page's events (the latest is {head})"
        ))
        .into()),
    }
}

/// One Page's events in order, from `after` (or from now).
pub(super) async fn page_events(
    ctx: &Context<'_>,
    events: BoxStream<'static, Arc<BusEvent>>,
    page_id: &str,
    after: Option<&str>,
) -> Result<Events> {
    let state = ctx.data::<AppState>()?;
    let (last, replay) = start(state, page_id, after).await?;
    Ok(in_order(
        events,
        state.db.clone(),
        page_id.to_owned(),
        last,
        replay,
    ))
}
