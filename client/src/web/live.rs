//! The live connection: one `graphql-transport-ws` connection per signed-in session
//! and Page, carrying the Page's whole change stream (`pageEvents`) and its agents'
//! presence.
//!
//! The stream is resumable: the loop remembers the position of the last event it
//! applied, and after a dropped connection it reconnects (the indicator says
//! `reconnecting`, the delay grows with jitter) and subscribes again `after` that
//! position, so the server replays exactly what was missed: no gap, no reload. A
//! fresh start subscribes after the Page's `eventPosition` and then refetches the
//! lists, which therefore cannot miss a change either. When the server no longer
//! holds the position (`POSITION_EXPIRED`), the client starts fresh the same way.
//! The first start after a page load does not refetch: the session load read the
//! position before the list was fetched ([`super::state::FeedStart`]), so subscribing
//! after it replays everything the list may lack.
//!
//! Every event goes through [`apply`], which upserts by id: an event applied twice
//! changes nothing, so an overlap between a replay and a refetch is harmless.
use std::future::IntoFuture;
use std::time::Duration;

use dioxus::core::spawn_forever;
use dioxus::prelude::*;
use futures::StreamExt;
use futures::stream::{LocalBoxStream, SelectAll};
use graphql_client::GraphQLQuery;
use graphql_ws_client::Client;
use graphql_ws_client::graphql::GraphqlOperation;

use super::actions;
use super::alerts;
use super::api::{self, ApiError, Failure};
use super::browser;
use super::state::{AppState, Connection};
use crate::model::{self, Message, MessageDirection, Presence};
use crate::ops::*;

/// What a subscription delivered.
enum Event {
    /// A change of the Page at `position` in its event log.
    Page {
        position: String,
        conversation: Option<Box<model::Conversation>>,
        message: Option<Box<Message>>,
        /// A message merged into another (the same Facebook message stored twice).
        removed: Option<String>,
        /// A status change, assignment or snooze.
        activity: Option<Box<model::Activity>>,
        /// A label of the Page was created, changed or deleted.
        labels_changed: bool,
        /// A private note.
        note: Option<Box<model::Note>>,
        /// A referral came (to one of the Page's conversations).
        referral: bool,
        /// The Page's unread total now.
        unread_total: i64,
    },
    Presence(Presence),
    /// An agent opened, is replying in, or left a conversation.
    Viewer {
        conversation_id: String,
        agent_id: String,
        name: String,
        state: Option<model::ViewerState>,
    },
    Sync(model::SyncJob),
    /// The server ended a subscription with an error.
    Failed(ApiError),
}

/// Why one connection ended.
enum Ended {
    /// The connection dropped or never came up; `served` when it had been up.
    Lost { served: bool },
    /// The session is no longer valid: sign out, do not reconnect.
    Unauthenticated,
    /// The position to resume from is older than the server keeps.
    PositionExpired,
}

/// What a fresh start of the feed fetches again, once subscribed.
enum Refetch {
    /// The list and the open thread: they may be older than the position.
    Everything,
    /// Only the threads held before the position was read; the list came after it.
    Threads(Vec<String>),
}

const MAX_BACKOFF_MS: u32 = 15_000;
const CONNECT_TIMEOUT_MS: u32 = 10_000;

/// Keeps the live feed of `page_id` until the component holding it goes away.
pub async fn run(mut state: AppState, token: String, page_id: String) {
    state.connection.set(Connection::Connecting);
    let mut backoff_ms = 500u32;
    // The last position applied; `None` means start fresh (and refetch).
    let mut position: Option<String> = None;
    loop {
        match serve(state, &token, &page_id, &mut position).await {
            Ended::Unauthenticated => {
                // Confirm over HTTP, which signs out on UNAUTHENTICATED.
                if actions::load_session(state).await.is_err() && state.token.peek().is_none() {
                    return;
                }
            }
            Ended::PositionExpired => {
                position = None;
                continue;
            }
            Ended::Lost { served } => {
                if served {
                    backoff_ms = 500;
                }
            }
        }
        state.connection.set(Connection::Reconnecting);
        let jitter = (js_sys::Math::random() * f64::from(backoff_ms) / 2.0) as u32;
        browser::sleep_ms(backoff_ms + jitter).await;
        backoff_ms = (backoff_ms * 2).min(MAX_BACKOFF_MS);
    }
}

/// Opens the WebSocket and completes the `connection_init` handshake, giving up
/// after [`CONNECT_TIMEOUT_MS`] (a blackholed network would otherwise hang it).
async fn connect(token: &str) -> Result<Client, Ended> {
    let attempt = async {
        let (meta, stream) =
            ws_stream_wasm::WsMeta::connect(browser::ws_url(), Some(vec!["graphql-transport-ws"]))
                .await
                .map_err(|_| Ended::Lost { served: false })?;
        let connection = graphql_ws_client::ws_stream_wasm::Connection::new((meta, stream)).await;
        let payload = serde_json::json!({ "authorization": format!("Bearer {token}") });
        let built = Client::build(connection)
            .payload(payload)
            .map_err(|_| Ended::Lost { served: false })?
            // The server closes connections silent for 50 s; pings also find dead ones.
            .keep_alive_interval(Duration::from_secs(20))
            .keep_alive_retries(2)
            .await;
        match built {
            Ok(pair) => Ok(pair),
            Err(graphql_ws_client::Error::Close(4403, _)) => Err(Ended::Unauthenticated),
            Err(_) => Err(Ended::Lost { served: false }),
        }
    };
    let timeout = browser::sleep_ms(CONNECT_TIMEOUT_MS);
    futures::pin_mut!(attempt, timeout);
    let (client, actor) = match futures::future::select(attempt, timeout).await {
        futures::future::Either::Left((result, _)) => result?,
        futures::future::Either::Right(_) => return Err(Ended::Lost { served: false }),
    };
    wasm_bindgen_futures::spawn_local(actor.into_future());
    Ok(client)
}

/// A subscription: its request body, written once by the operation that starts it, and
/// its events read as JSON ([`api::answer_as`] decodes them, as it does HTTP answers).
/// Not generic, so the client's subscription machinery is compiled once for all.
struct Streaming {
    body: Box<serde_json::value::RawValue>,
}

impl serde::Serialize for Streaming {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl GraphqlOperation for Streaming {
    type Response = serde_json::Value;
    type Error = std::convert::Infallible;

    fn decode(&self, data: serde_json::Value) -> Result<Self::Response, Self::Error> {
        Ok(data)
    }
}

async fn subscribe_to<Q, F>(
    client: &Client,
    variables: Q::Variables,
    map: F,
) -> Result<LocalBoxStream<'static, Event>, Ended>
where
    Q: GraphQLQuery,
    Q::ResponseData: 'static,
    F: Fn(Q::ResponseData) -> Event + 'static,
{
    subscribe_as::<Q, Q::ResponseData, F>(client, variables, map).await
}

async fn subscribe_as<Q, T, F>(
    client: &Client,
    variables: Q::Variables,
    map: F,
) -> Result<LocalBoxStream<'static, Event>, Ended>
where
    Q: GraphQLQuery,
    T: serde::de::DeserializeOwned + 'static,
    F: Fn(T) -> Event + 'static,
{
    let body = serde_json::value::to_raw_value(&Q::build_query(variables))
        .map_err(|_| Ended::Lost { served: false })?;
    Ok(subscribe(client, body)
        .await?
        .map(move |item| match item {
            Ok(answer) => match api::answer_as::<T>(answer) {
                Ok(data) => map(data),
                Err(Failure::Api(e)) => Event::Failed(e),
                Err(Failure::Undecodable) => Event::Failed(ApiError::network("undecodable event")),
                Err(Failure::Empty) => Event::Failed(ApiError::network("empty event")),
            },
            Err(e) => Event::Failed(ApiError::network(e.to_string())),
        })
        .boxed_local())
}

/// Starts one subscription; its answers as JSON.
async fn subscribe(
    client: &Client,
    body: Box<serde_json::value::RawValue>,
) -> Result<LocalBoxStream<'static, Result<serde_json::Value, graphql_ws_client::Error>>, Ended> {
    let stream = client
        .subscribe(Streaming { body })
        .await
        .map_err(|_| Ended::Lost { served: false })?;
    Ok(stream.boxed_local())
}

/// One connection's life: connect, subscribe (resuming after `position`), apply
/// events until it drops.
async fn serve(
    mut state: AppState,
    token: &str,
    page_id: &str,
    position: &mut Option<String>,
) -> Ended {
    // A fresh start refetches what is shown, unless the session load read the position
    // before fetching it: then only the threads it already held.
    let mut refetch = None;
    if position.is_none() {
        match state.take_feed_start(page_id) {
            Some(start) => {
                *position = Some(start.position);
                refetch = Some(Refetch::Threads(start.threads_before));
            }
            None => match actions::event_position(state, page_id).await {
                Ok(p) => {
                    *position = Some(p);
                    refetch = Some(Refetch::Everything);
                }
                Err(e) if e.is_unauthenticated() => return Ended::Unauthenticated,
                Err(_) => return Ended::Lost { served: false },
            },
        }
    }
    let client = match connect(token).await {
        Ok(client) => client,
        Err(ended) => return ended,
    };
    let feed = subscribe_as::<PageEvents, PageEventsAnswer, _>(
        &client,
        page_events::Variables {
            page_id: page_id.to_string(),
            after: position.clone(),
        },
        |d| Event::Page {
            position: d.page_events.position,
            conversation: d.page_events.conversation.map(|c| Box::new(c.into())),
            message: d.page_events.message.map(|m| Box::new(m.into())),
            removed: d.page_events.removed_message_id,
            activity: d.page_events.activity.map(|a| Box::new(a.into())),
            labels_changed: d.page_events.kind.starts_with("LABEL_"),
            note: d.page_events.note.map(|n| Box::new(n.into())),
            referral: d.page_events.referral.is_some(),
            unread_total: d.page_events.unread_total,
        },
    )
    .await;
    let presence = subscribe_as::<AgentPresenceChanged, AgentPresenceAnswer, _>(
        &client,
        agent_presence_changed::Variables {
            page_id: page_id.to_string(),
        },
        |d| {
            Event::Presence(Presence {
                agent: d.agent_presence.agent.into(),
                status: d.agent_presence.status,
            })
        },
    )
    .await;
    // Who is where: everyone now first, so what this browser knew before is dropped.
    state.viewers.set(model::Viewers::default());
    let viewers = subscribe_to::<ConversationPresence, _>(
        &client,
        conversation_presence::Variables {
            page_id: page_id.to_string(),
        },
        |d| {
            let p = d.conversation_presence;
            Event::Viewer {
                conversation_id: p.conversation_id,
                agent_id: p.agent.id,
                name: p.agent.name,
                state: match p.state {
                    ConversationPresenceState::VIEWING => Some(model::ViewerState::Viewing),
                    ConversationPresenceState::TYPING => Some(model::ViewerState::Typing),
                    _ => None,
                },
            }
        },
    )
    .await;
    let mut events: SelectAll<LocalBoxStream<'static, Event>> = match (feed, presence, viewers) {
        (Ok(feed), Ok(presence), Ok(viewers)) => {
            futures::stream::select_all([feed, presence, viewers])
        }
        (Err(ended), _, _) | (_, Err(ended), _) | (_, _, Err(ended)) => return ended,
    };
    state.connection.set(Connection::Connected);
    // Presence is not replayed: ask for it as it is now (and the labels with it).
    let _ = actions::load_presence(state, page_id.to_string()).await;
    // Subscribed first, fetched second: a change in between arrives both ways and
    // merges into one.
    match refetch {
        None => {}
        Some(Refetch::Everything) => {
            let _ = actions::refresh_conversations(state).await;
            refetch_threads(state, true).await;
        }
        Some(Refetch::Threads(before)) if !before.is_empty() => {
            let open = state.open_conversation_now();
            refetch_threads(state, open.is_some_and(|id| before.contains(&id))).await;
        }
        Some(Refetch::Threads(_)) => {}
    }
    while let Some(event) = events.next().await {
        match event {
            Event::Failed(e) if e.is_unauthenticated() => return Ended::Unauthenticated,
            Event::Failed(e) if e.code == "POSITION_EXPIRED" => return Ended::PositionExpired,
            Event::Failed(_) => return Ended::Lost { served: true },
            Event::Page {
                position: at,
                conversation,
                message,
                removed,
                activity,
                labels_changed,
                note,
                referral,
                unread_total,
            } => {
                if let Some(n) = note {
                    alerts::on_note(state, &n);
                    state.threads.write().upsert_note(*n);
                }
                set_unread_total(state, page_id, unread_total);
                if referral {
                    *state.referrals_seen.write() += 1;
                }
                // Rare: the Page's labels are read again (with its agents), rather than
                // each kind of change decoded and merged here.
                if labels_changed {
                    let page_id = page_id.to_string();
                    spawn_forever(async move {
                        let _ = actions::load_presence(state, page_id).await;
                    });
                }
                if let Some(a) = activity {
                    state.threads.write().upsert_activity(*a);
                }
                apply(
                    state,
                    page_id,
                    conversation.map(|c| *c),
                    message.map(|m| *m),
                );
                if let Some(id) = removed {
                    state.threads.write().remove_message(&id);
                }
                *position = Some(at);
            }
            Event::Presence(p) => model::upsert_presence(&mut state.presence.write(), p),
            Event::Viewer {
                conversation_id,
                agent_id,
                name,
                state: now,
            } => state
                .viewers
                .write()
                .set(&conversation_id, &agent_id, &name, now),
            Event::Sync(_) => {}
        }
    }
    Ended::Lost { served: true }
}

/// The Page's unread total as the latest event carried it (the tab shows it).
fn set_unread_total(mut state: AppState, page_id: &str, total: i64) {
    let stale = state
        .pages
        .peek()
        .iter()
        .any(|p| p.id == page_id && p.unread_total != total);
    if stale {
        let mut pages = state.pages.write();
        if let Some(page) = pages.iter_mut().find(|p| p.id == page_id) {
            page.unread_total = total;
        }
    }
}

/// After a fresh start, the threads may have missed anything: all but the open one are
/// dropped (fetched again when opened), and the open one is fetched again if `reload_open`.
async fn refetch_threads(mut state: AppState, reload_open: bool) {
    let open = state.open_conversation_now();
    state.threads.write().keep_only(open.as_deref());
    if let (Some(open), true) = (open, reload_open) {
        let _ = actions::load_latest_messages(state, open).await;
    }
}

/// Applies one change of the Page: the conversation to the list and its thread, the
/// message to its own conversation's thread only. Idempotent: upserts by id.
fn apply(
    mut state: AppState,
    page_id: &str,
    conversation: Option<model::Conversation>,
    message: Option<Message>,
) {
    if let Some(c) = conversation.filter(|c| c.page_id == page_id) {
        state.put_conversation(c);
    }
    if let Some(m) = message {
        if m.error_code.as_deref() == Some("PAGE_NEEDS_RECONNECT") {
            spawn_forever(async move {
                let _ = actions::reload_pages(state).await;
            });
        }
        let inbound = m.direction == MessageDirection::INBOUND;
        let known = state.threads.peek().has_message(&m);
        if inbound && !known {
            alerts::on_message(state, &m);
        }
        let id = m.conversation_id.clone();
        let held = state.threads.write().upsert_message(m);
        // The agent is looking at it: a new customer message is read at once.
        let open = state.open_conversation_now().as_deref() == Some(id.as_str());
        if held && open && inbound && !known && browser::visible() {
            spawn_forever(async move {
                let _ = actions::update_conversation(state, id, None, None, true).await;
            });
        }
    }
}

/// Follows a history sync job's progress on its own connection until it is done.
pub async fn follow_sync(mut state: AppState, token: String, job_id: String) {
    if let Ok(client) = connect(&token).await {
        let stream = subscribe_as::<SyncProgress, SyncProgressAnswer, _>(
            &client,
            sync_progress::Variables {
                job_id: job_id.clone(),
            },
            |d| Event::Sync(d.sync_progress.into()),
        )
        .await;
        // A job that finished before the subscription began sends nothing more.
        let _ = actions::refresh_sync_job(state, job_id.clone()).await;
        let finished = state
            .sync_jobs
            .peek()
            .iter()
            .any(|j| j.id == job_id && j.status != model::SyncStatus::RUNNING);
        if let (Ok(mut stream), false) = (stream, finished) {
            while let Some(Event::Sync(job)) = stream.next().await {
                let done = job.status != model::SyncStatus::RUNNING;
                actions::put_sync_job(&mut state, job);
                if done {
                    break;
                }
            }
        }
        client.close(1000, "done").await;
    }
    // Whatever the stream said last, the server's word is final.
    let _ = actions::refresh_sync_job(state, job_id).await;
}
