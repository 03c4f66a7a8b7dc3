//! The full history sync: a background job that pages through all of a Page's
//! conversations and messages, renewing its heartbeat, its progress stored on the job and
//! published as it goes.
use std::collections::HashSet;
use std::time::Duration;

use sea_orm::{DatabaseConnection, SqlErr};

use entity::sync_job;

use super::convert::{customer, parse_time};
use super::import::import;
use super::{FULL_SYNC_PAGE, INLINE_MESSAGES, graph_failure, jobs, stale_cursor};
use crate::bus::BusEvent;
use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::graph::GraphConversation;
use crate::service::access::VisiblePage;
use crate::service::pages;
use crate::state::AppState;
use crate::time::now_ms;

/// Conversations per Graph page while counting (Graph's maximum: nothing is inlined).
const COUNT_PAGE: u32 = 100;
/// How often a running job renews its `heartbeat_at`.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// Passes over the list after the first, for threads that moved up during the sync.
const CATCH_UP_ROUNDS: usize = 5;

/// Starts a background job that pages through all of the Page's conversations and
/// messages; progress is stored on the job and published. While one runs for the Page,
/// answers that one instead: at most one RUNNING job per Page is stored (a partial unique
/// index), so two calls at once start a single job.
pub async fn start_full_sync(
    state: &AppState,
    page: &VisiblePage,
) -> Result<sync_job::Model, ApiError> {
    let page_id = page.id();
    // A second try only when another call's job appeared and ended between our two looks.
    for _ in 0..3 {
        if let Some(running) = jobs::running_job(&state.db, page_id).await? {
            return Ok(running);
        }
        let token = pages::token(&state.db, page_id).await?;
        match jobs::insert_running(&state.db, page_id, now_ms()).await {
            Ok(job) => {
                launch(state, job.clone(), token);
                publish_job(state, &job).await;
                return Ok(job);
            }
            // Another call started one in the meantime: that is the Page's job.
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!(
        "starting a history sync kept racing with others"
    )))
}

async fn publish_job(state: &AppState, job: &sync_job::Model) {
    if let Err(err) = state
        .bus
        .publish(vec![BusEvent::SyncProgress(job.clone())])
        .await
    {
        tracing::warn!(error = %err, "publishing sync progress failed");
    }
}

/// Publishes the rows a job write returned.
async fn publish_jobs(state: &AppState, jobs: Vec<sync_job::Model>) {
    for job in jobs {
        publish_job(state, &job).await;
    }
}

/// Runs the job in the background, renewing its heartbeat, and records how it ended.
/// When the server stops first, the job ends unrecorded, RUNNING: its heartbeat stops, so
/// the next sync of its Page finds it abandoned.
fn launch(state: &AppState, job: sync_job::Model, token: Secret) {
    let state = state.clone();
    let stop = state.tasks.stopping();
    state.tasks.clone().spawn("history-sync", async move {
        let result = tokio::select! {
            result = run(&state, job.clone(), &token) => result,
            () = heartbeat(&state.db, job.id) => Ok(()),
            () = stop.cancelled() => return,
        };
        let outcome = result.map_err(|err| {
            tracing::warn!(error = %err.message(), job = job.id, "history sync failed");
            err.message()
        });
        match jobs::finish(&state.db, job.id, outcome).await {
            Ok(rows) => publish_jobs(&state, rows).await,
            Err(err) => tracing::error!(error = %err, "recording the end of a sync failed"),
        }
    });
}

/// Renews the job's heartbeat for as long as it runs (never returns).
async fn heartbeat(db: &DatabaseConnection, job_id: i64) {
    let mut every = tokio::time::interval(HEARTBEAT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(err) = jobs::renew_heartbeat(db, job_id).await {
            tracing::warn!(error = %err, job = job_id, "renewing a sync's heartbeat failed");
        }
    }
}

async fn run(state: &AppState, job: sync_job::Model, token: &Secret) -> Result<(), ApiError> {
    let page_id = job.page_id.clone();
    // A thread that gets a message while the sync runs jumps to the top of the
    // newest-first list, in front of the cursor, and the first pass never sees it. So
    // after the first pass, list again from the top for threads updated since the job
    // started (a minute of margin for clock skew) until a pass finds none.
    let since = job.started_at - 60_000;
    // Progress is measured against a total: first the listing is paged through without
    // messages (Graph reports no count of a Page's conversations) and its conversations
    // with a customer counted, then each distinct conversation imported counts once.
    // Threads created during the sync raise the total as they are imported, so it never
    // shrinks while the job runs; once DONE it is what was imported (lower only when a
    // thread counted was deleted before its turn came).
    let total = count_conversations(state, &page_id, token).await?;
    publish_jobs(state, jobs::set_total(&state.db, job.id, total).await?).await;
    let mut imported_ids: HashSet<String> = HashSet::new();
    let mut done: HashSet<(String, Option<String>)> = HashSet::new();
    for round in 0..=CATCH_UP_ROUNDS {
        let catching_up = round > 0;
        let mut next: Option<String> = None;
        let mut found = false;
        let mut restarts = 0;
        loop {
            let listing = match state
                .graph
                .conversations(
                    &page_id,
                    token,
                    FULL_SYNC_PAGE,
                    INLINE_MESSAGES,
                    next.as_deref(),
                )
                .await
            {
                Ok(listing) => listing,
                // Listed again from the top: what this pass did is skipped (`done`).
                Err(err) if stale_cursor(&err, next.as_deref(), &mut restarts) => {
                    next = None;
                    continue;
                }
                Err(err) => return Err(graph_failure(state, &page_id, err).await),
            };
            let updated = |c: &GraphConversation| {
                c.updated_time
                    .as_deref()
                    .and_then(parse_time)
                    .unwrap_or(i64::MAX)
            };
            let reached_older = catching_up && listing.data.iter().any(|c| updated(c) < since);
            let todo: Vec<GraphConversation> = listing
                .data
                .iter()
                .filter(|c| !catching_up || updated(c) >= since)
                .filter(|c| done.insert((c.id.clone(), c.updated_time.clone())))
                .cloned()
                .collect();
            found |= !todo.is_empty();
            let fresh = todo
                .iter()
                .filter(|c| customer(&page_id, c).is_some() && imported_ids.insert(c.id.clone()))
                .count();
            let imported = import(state, &page_id, token, &todo, None).await?;
            let progressed =
                jobs::record_progress(&state.db, job.id, fresh, imported, catching_up).await?;
            publish_jobs(state, progressed).await;
            next = listing.paging.and_then(|p| p.next);
            if next.is_none() || reached_older {
                break;
            }
        }
        if catching_up && !found {
            break;
        }
    }
    Ok(())
}

/// The Page's conversations that have a customer, counted by paging through the listing.
async fn count_conversations(
    state: &AppState,
    page_id: &str,
    token: &Secret,
) -> Result<i32, ApiError> {
    let mut total: i32 = 0;
    let mut next: Option<String> = None;
    let mut restarts = 0;
    loop {
        let listing = match state
            .graph
            .conversation_participants(page_id, token, COUNT_PAGE, next.as_deref())
            .await
        {
            Ok(listing) => listing,
            // Counted again from the top.
            Err(err) if stale_cursor(&err, next.as_deref(), &mut restarts) => {
                (total, next) = (0, None);
                continue;
            }
            Err(err) => return Err(graph_failure(state, page_id, err).await),
        };
        let with_customer = listing
            .data
            .iter()
            .filter(|c| customer(page_id, c).is_some())
            .count();
        total = total.saturating_add(i32::try_from(with_customer).unwrap_or(i32::MAX));
        next = listing.paging.and_then(|p| p.next);
        if next.is_none() {
            return Ok(total);
        }
    }
}
