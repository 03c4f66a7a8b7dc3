//! What ends a subscription: its credential revoked or expired, its Page out of the
//! caller's scope, a failure to read the event log, or falling behind the bus.
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, Result};
use futures::StreamExt;
use futures::stream::{self, BoxStream};

use crate::bus::BusEvent;
use crate::error::ApiError;
use crate::graphql::principal;
use crate::graphql::sequencer::Events;
use crate::service::access;
use crate::service::auth::{Credential, Principal};
use crate::service::credentials::CredentialWatch;
use crate::state::AppState;

enum Step<T> {
    Skip,
    Item(T),
    Ended(ApiError),
}

/// The caller's credential, registered as in use for as long as the subscription runs,
/// and its principal as it stands now.
pub(super) fn in_use(ctx: &Context<'_>) -> Result<(CredentialWatch, Arc<Principal>)> {
    let state = ctx.data::<AppState>()?;
    let watch = state.credentials.watch(principal(ctx)?);
    let me = watch.current().ok_or(ApiError::Unauthenticated(REVOKED))?;
    Ok((watch, me))
}

const REVOKED: &str = "access was revoked; sign in again";

/// Resolves with why the stream must end: its credential no longer works, or `page_id`
/// left its scope (a membership removed, an agent demoted, a token's creator off the Page).
async fn withdrawn(mut watch: CredentialWatch, page_id: String) -> ApiError {
    loop {
        let Some(me) = watch.current() else {
            return ApiError::Unauthenticated(REVOKED);
        };
        if !access::in_scope(&me, &page_id) {
            return ApiError::Unauthenticated("access to this Page was withdrawn");
        }
        // The expiry is also watched here, so that it holds while the database re-check
        // cannot run.
        let expiry = match me.credential {
            Credential::Session { expires_at, .. } => {
                expires_at.saturating_sub(crate::time::now_ms()).max(0) as u64
            }
            Credential::ApiToken { .. } => u64::MAX,
        };
        tokio::select! {
            () = watch.changed() => {}
            () = tokio::time::sleep(std::time::Duration::from_millis(expiry)) => {
                return ApiError::Unauthenticated("the session expired; sign in again");
            }
        }
    }
}

/// The bus, limited to one of the caller's Pages, mapped by `select`, ended once the
/// credential no longer works or the Page leaves its scope, on a failure to read the
/// log, or on falling behind.
pub(super) fn guarded<T: Send + 'static>(
    events: Events,
    watch: CredentialWatch,
    page_id: &str,
    select: impl Fn(&BusEvent) -> Option<T> + Send + 'static,
) -> BoxStream<'static, Result<T>> {
    let who = watch.clone();
    let events = events.map(move |event| {
        let event = match event {
            Ok(event) => event,
            Err(err) => return Step::Ended(err),
        };
        match &*event {
            BusEvent::Lagged => Step::Ended(ApiError::FellBehind),
            // Page events only of the caller's Pages; the others (presence) are `select`'s to judge.
            event
                if event.page_id().is_none_or(|page| {
                    who.current().is_some_and(|me| access::in_scope(&me, page))
                }) =>
            {
                select(event).map_or(Step::Skip, Step::Item)
            }
            _ => Step::Skip,
        }
    });
    let page_id = page_id.to_owned();
    let ended = stream::once(async move { Step::Ended(withdrawn(watch, page_id).await) }).boxed();
    // Ends right after the error, without waiting for another event.
    stream::unfold(Some(stream::select(events, ended)), |state| async move {
        let mut steps = state?;
        loop {
            match steps.next().await? {
                Step::Skip => continue,
                Step::Item(item) => return Some((Ok(item), Some(steps))),
                Step::Ended(why) => return Some((Err(why.extend()), None)),
            }
        }
    })
    .boxed()
}
