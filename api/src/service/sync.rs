//! Importing history from the Conversations API: the newest conversations on demand,
//! or everything in a background job that reports progress. Messages go through the
//! ingest writer like webhooks, so one seen by both is stored once.
use std::collections::HashSet;
use std::time::Duration;

use chrono::DateTime;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    SqlErr,
};

use entity::sync_job::Status as JobStatus;
use entity::{conversation, sync_job};

use crate::bus::BusEvent;
use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::events::{Attachment, Direction, Event, IncomingMessage};
use crate::facebook::graph::{GraphConversation, GraphError, GraphMessage};
use crate::service::access::VisiblePage;
use crate::service::pages;
use crate::state::AppState;
use crate::time::now_ms;

/// Conversations per Graph page in a full sync (Graph's maximum is 100; 25 keeps each
/// answer, messages inlined, small).
const FULL_SYNC_PAGE: u32 = 25;
/// Messages inlined per conversation.
const INLINE_MESSAGES: u32 = 25;
/// Conversations per Graph page while counting (Graph's maximum: nothing is inlined).
const COUNT_PAGE: u32 = 100;

/// What a sync imported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub conversations: usize,
    /// Messages seen (new or already stored).
    pub messages: usize,
    /// Messages stored for the first time.
    pub stored: usize,
}

/// Graph's `2026-11-26T13:25:26+0000` as ms.
fn parse_time(text: &str) -> Option<i64> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.timestamp_millis())
}

fn attachments(message: &GraphMessage) -> Vec<Attachment> {
    let Some(list) = &message.attachments else {
        return Vec::new();
    };
    list.data
        .iter()
        .map(|a| {
            let pick = |key: &str| {
                a.get(key)
                    .and_then(|v| v.get("url"))
                    .and_then(|u| u.as_str())
            };
            let (kind, url) = if let Some(url) = pick("image_data") {
                ("image", Some(url))
            } else if let Some(url) = pick("video_data") {
                ("video", Some(url))
            } else {
                ("file", a.get("file_url").and_then(|u| u.as_str()))
            };
            Attachment {
                kind: kind.to_owned(),
                url: url.map(str::to_owned),
                title: a.get("name").and_then(|n| n.as_str()).map(str::to_owned),
            }
        })
        .collect()
}

/// The customer of a Graph conversation: the participant that is not the Page.
fn customer(page_id: &str, conversation: &GraphConversation) -> Option<(String, Option<String>)> {
    conversation
        .participants
        .as_ref()?
        .data
        .iter()
        .find(|p| p.id != page_id)
        .map(|p| (p.id.clone(), p.name.clone()))
}

fn to_event(page_id: &str, psid: &str, message: &GraphMessage) -> Option<Event> {
    let timestamp = parse_time(&message.created_time)?;
    let from_page = message.from.as_ref().is_some_and(|f| f.id == page_id);
    Some(Event::Message(IncomingMessage {
        page_id: page_id.to_owned(),
        psid: psid.to_owned(),
        mid: message.id.clone(),
        direction: if from_page {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        text: message.message.clone().filter(|t| !t.is_empty()),
        attachments: attachments(message),
        quick_reply_payload: None,
        reply_to_mid: None,
        app_id: None,
        timestamp,
        metadata: None,
        historical: true,
    }))
}

fn graph_error(err: GraphError) -> ApiError {
    ApiError::GraphApi(err.to_string())
}

/// Stores one Graph page of conversations (following each one's messages to the end
/// when `all_messages`), names its customers, and returns what it imported.
async fn import(
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
        let mut events: Vec<Event> = Vec::new();
        let mut next: Option<String>;
        if let Some(inline) = &conversation.messages {
            events.extend(
                inline
                    .data
                    .iter()
                    .filter_map(|m| to_event(page_id, &psid, m)),
            );
            next = inline.paging.as_ref().and_then(|p| p.next.clone());
        } else {
            let first = state
                .graph
                .messages(page_id, &conversation.id, token, INLINE_MESSAGES, None)
                .await
                .map_err(graph_error)?;
            events.extend(
                first
                    .data
                    .iter()
                    .filter_map(|m| to_event(page_id, &psid, m)),
            );
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
            events.extend(more.data.iter().filter_map(|m| to_event(page_id, &psid, m)));
            next = more.paging.and_then(|p| p.next);
        }
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

async fn name_customer(
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
    import(state, page_id, &token, &first.data, false).await
}

/// Marks the Page for reconnection when Facebook refused its token or found a permission
/// missing; the error to answer.
async fn graph_failure(state: &AppState, page_id: &str, err: GraphError) -> ApiError {
    if let Err(db_err) = pages::flag_if_needed(&state.db, page_id, &err).await {
        return db_err;
    }
    graph_error(err)
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

/// How often a running job renews its `heartbeat_at`.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// A RUNNING job whose heartbeat is older than this was abandoned by an instance that
/// stopped (it is marked FAILED when the next sync of its Page starts).
const ABANDONED_AFTER_MS: i64 = 120_000;

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
        if let Some(running) = running_job(&state.db, page_id).await? {
            return Ok(running);
        }
        let token = pages::token(&state.db, page_id).await?;
        let now = now_ms();
        let inserted = sync_job::ActiveModel {
            id: NotSet,
            page_id: Set(page_id.to_owned()),
            status: Set(JobStatus::Running),
            conversations: Set(0),
            messages: Set(0),
            error: Set(None),
            started_at: Set(now),
            finished_at: Set(None),
            heartbeat_at: Set(Some(now)),
            total: Set(None),
        }
        .insert(&state.db)
        .await;
        match inserted {
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

/// Runs the job in the background, renewing its heartbeat, and records how it ended.
/// When the server stops first, the job ends unrecorded, RUNNING: its heartbeat stops, so
/// the next sync of its Page finds it abandoned.
fn launch(state: &AppState, job: sync_job::Model, token: Secret) {
    let state = state.clone();
    let stop = state.tasks.stopping();
    state.tasks.clone().spawn("history-sync", async move {
        let result = tokio::select! {
            result = run_full_sync(&state, job.clone(), &token) => result,
            () = heartbeat(&state.db, job.id) => Ok(()),
            () = stop.cancelled() => return,
        };
        let (status, error) = match result {
            Ok(()) => (JobStatus::Done, None),
            Err(err) => {
                tracing::warn!(error = %err.message(), job = job.id, "history sync failed");
                (JobStatus::Failed, Some(err.message()))
            }
        };
        let mut finished = sync_job::Entity::update_many();
        if status == JobStatus::Done {
            // What was imported is what there was to import (see `run_full_sync`).
            finished = finished.col_expr(
                sync_job::Column::Total,
                Expr::col(sync_job::Column::Conversations),
            );
        }
        let finished = finished
            .col_expr(sync_job::Column::Status, Expr::val(status))
            .col_expr(sync_job::Column::Error, Expr::val(error))
            .col_expr(sync_job::Column::FinishedAt, Expr::val(now_ms()))
            .filter(sync_job::Column::Id.eq(job.id))
            .exec_with_returning(&state.db)
            .await;
        match finished {
            Ok(rows) => {
                for job in rows {
                    publish_job(&state, &job).await;
                }
            }
            Err(err) => tracing::error!(error = %err, "recording the end of a sync failed"),
        }
    });
}

/// The Page's RUNNING job, if one is alive; one whose heartbeat stopped is marked FAILED.
async fn running_job(
    db: &impl ConnectionTrait,
    page_id: &str,
) -> Result<Option<sync_job::Model>, ApiError> {
    let Some(job) = sync_job::Entity::find()
        .filter(sync_job::Column::PageId.eq(page_id))
        .filter(sync_job::Column::Status.eq(JobStatus::Running))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = now_ms();
    if now - job.heartbeat_at.unwrap_or(job.started_at) <= ABANDONED_AFTER_MS {
        return Ok(Some(job));
    }
    sync_job::Entity::update_many()
        .col_expr(sync_job::Column::Status, Expr::val(JobStatus::Failed))
        .col_expr(
            sync_job::Column::Error,
            Expr::val("abandoned: the instance running it stopped"),
        )
        .col_expr(sync_job::Column::FinishedAt, Expr::val(now))
        .filter(sync_job::Column::Id.eq(job.id))
        .filter(sync_job::Column::Status.eq(JobStatus::Running))
        .exec(db)
        .await?;
    Ok(None)
}

/// Renews the job's heartbeat for as long as it runs (never returns).
async fn heartbeat(db: &DatabaseConnection, job_id: i64) {
    let mut every = tokio::time::interval(HEARTBEAT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let renewed = sync_job::Entity::update_many()
            .col_expr(sync_job::Column::HeartbeatAt, Expr::val(now_ms()))
            .filter(sync_job::Column::Id.eq(job_id))
            .exec(db)
            .await;
        if let Err(err) = renewed {
            tracing::warn!(error = %err, job = job_id, "renewing a sync's heartbeat failed");
        }
    }
}

async fn run_full_sync(
    state: &AppState,
    job: sync_job::Model,
    token: &Secret,
) -> Result<(), ApiError> {
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
    set_total(state, job.id, total).await?;
    let mut imported_ids: HashSet<String> = HashSet::new();
    let mut done: HashSet<(String, Option<String>)> = HashSet::new();
    for round in 0..=CATCH_UP_ROUNDS {
        let catching_up = round > 0;
        let mut next: Option<String> = None;
        let mut found = false;
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
            let imported = import(state, &page_id, token, &todo, true).await?;
            record_progress(state, job.id, fresh, imported, catching_up).await?;
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

/// Passes over the list after the first, for threads that moved up during the sync.
const CATCH_UP_ROUNDS: usize = 5;

/// The Page's conversations that have a customer, counted by paging through the listing.
async fn count_conversations(
    state: &AppState,
    page_id: &str,
    token: &Secret,
) -> Result<i32, ApiError> {
    let mut total: i32 = 0;
    let mut next: Option<String> = None;
    loop {
        let listing = match state
            .graph
            .conversation_participants(page_id, token, COUNT_PAGE, next.as_deref())
            .await
        {
            Ok(listing) => listing,
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

async fn set_total(state: &AppState, job_id: i64, total: i32) -> Result<(), ApiError> {
    let counted = sync_job::Entity::update_many()
        .col_expr(sync_job::Column::Total, Expr::val(total))
        .filter(sync_job::Column::Id.eq(job_id))
        .exec_with_returning(&state.db)
        .await?;
    for job in counted {
        publish_job(state, &job).await;
    }
    Ok(())
}

/// Adds what a Graph page imported to the job and publishes it: `fresh` conversations
/// imported for the first time by this job (a thread imported again in a catch-up pass
/// counts its new messages, not itself a second time), raising the total when they
/// outgrow it (threads created since it was counted).
async fn record_progress(
    state: &AppState,
    job_id: i64,
    fresh: usize,
    imported: Imported,
    catching_up: bool,
) -> Result<(), ApiError> {
    use sync_job::Column as J;
    let fresh = i32::try_from(fresh).unwrap_or(i32::MAX);
    let messages = if catching_up {
        imported.stored as i32
    } else {
        imported.messages as i32
    };
    let conversations = Expr::col(J::Conversations).add(fresh);
    let total = Expr::case(
        Expr::col(J::Total).lt(conversations.clone()),
        conversations.clone(),
    )
    .finally(Expr::col(J::Total));
    let progressed = sync_job::Entity::update_many()
        .col_expr(J::Total, total.into())
        .col_expr(J::Conversations, conversations)
        .col_expr(J::Messages, Expr::col(J::Messages).add(messages))
        .filter(J::Id.eq(job_id))
        .exec_with_returning(&state.db)
        .await?;
    for job in progressed {
        publish_job(state, &job).await;
    }
    Ok(())
}

/// Any job, visible or not: `access::sync_job` is what callers use.
pub(crate) async fn job(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<sync_job::Model>, ApiError> {
    Ok(sync_job::Entity::find_by_id(id).one(db).await?)
}
