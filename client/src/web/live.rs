//! The live connection: one `graphql-transport-ws` connection per signed-in session
//! and Page, carrying the Page's conversation and presence events and the open
//! conversation's message events.
//!
//! When the connection drops, the indicator says `reconnecting` and the loop
//! reconnects with a growing, jittered delay. Once subscribed again it fills the gap
//! by fetching what may have changed meanwhile (the newest conversations and the
//! open conversation's newest messages) and merging it by id, so nothing is lost or
//! doubled and no reload is needed.
//!
//! Every event goes through [`apply`], which upserts by id: the same event applied
//! twice changes nothing. A page-wide, resumable event stream replaces the three
//! per-topic subscriptions by changing [`subscribe`] and [`Event`] only.
use std::future::IntoFuture;
use std::time::Duration;

use dioxus::prelude::*;
use futures::channel::mpsc::UnboundedReceiver;
use futures::stream::{LocalBoxStream, SelectAll};
use futures::{FutureExt, StreamExt, select};
use graphql_client::GraphQLQuery;
use graphql_ws_client::Client;
use graphql_ws_client::graphql::StreamingOperation;

use super::actions;
use super::api::ApiError;
use super::browser;
use super::state::{AppState, Connection};
use crate::model::{self, Message, MessageDirection, Presence};
use crate::ops::*;

/// What a subscription delivered.
enum Event {
    Conversation(model::Conversation),
    Message(Message),
    Presence(Presence),
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
}

const MAX_BACKOFF_MS: u32 = 15_000;

/// Keeps a connection for `page_id` until the component holding it goes away.
/// `open` says which conversation the chat shows, as it changes.
pub async fn run(
    mut state: AppState,
    token: String,
    page_id: String,
    mut open: UnboundedReceiver<Option<String>>,
) {
    let mut backoff_ms = 500u32;
    let mut resumed = false;
    loop {
        match serve(state, &token, &page_id, &mut open, resumed).await {
            Ended::Unauthenticated => {
                // The server closed with 4403 or an UNAUTHENTICATED error: confirm
                // over HTTP (which signs out on UNAUTHENTICATED) before giving up.
                if actions::load_session(state).await.is_err() && state.token.peek().is_none() {
                    return;
                }
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
        resumed = true;
    }
}

async fn connect(token: &str) -> Result<Client, Ended> {
    let lost = Ended::Lost { served: false };
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
    let (client, actor) = match built {
        Ok(pair) => pair,
        Err(graphql_ws_client::Error::Close(4403, _)) => return Err(Ended::Unauthenticated),
        Err(_) => return Err(lost),
    };
    wasm_bindgen_futures::spawn_local(actor.into_future());
    Ok(client)
}

async fn subscribe_to<Q, F>(
    client: &Client,
    variables: Q::Variables,
    map: F,
) -> Result<LocalBoxStream<'static, Event>, Ended>
where
    Q: GraphQLQuery + Send + Unpin + 'static,
    Q::Variables: Send + Unpin,
    F: Fn(Q::ResponseData) -> Event + 'static,
{
    let stream = client
        .subscribe(StreamingOperation::<Q>::new(variables))
        .await
        .map_err(|_| Ended::Lost { served: false })?;
    Ok(stream
        .map(move |item| match item {
            Ok(response) => match (response.data, response.errors) {
                (_, Some(errors)) if !errors.is_empty() => {
                    Event::Failed(ApiError::from_graphql(&errors))
                }
                (Some(data), _) => map(data),
                (None, _) => Event::Failed(ApiError::network("empty event")),
            },
            Err(e) => Event::Failed(ApiError::network(e.to_string())),
        })
        .boxed_local())
}

/// The Page's own streams: its conversations and its agents' presence.
async fn subscribe(
    client: &Client,
    page_id: &str,
) -> Result<SelectAll<LocalBoxStream<'static, Event>>, Ended> {
    let conversations = subscribe_to::<ConversationUpdated, _>(
        client,
        conversation_updated::Variables {
            page_id: page_id.to_string(),
        },
        |d| Event::Conversation(d.conversation_updated.into()),
    )
    .await?;
    let presence = subscribe_to::<AgentPresenceChanged, _>(
        client,
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
    .await?;
    Ok(futures::stream::select_all([conversations, presence]))
}

/// The open conversation's message streams.
async fn subscribe_conversation(
    client: &Client,
    conversation_id: &str,
) -> Result<SelectAll<LocalBoxStream<'static, Event>>, Ended> {
    let added = subscribe_to::<MessageAdded, _>(
        client,
        message_added::Variables {
            conversation_id: conversation_id.to_string(),
        },
        |d| Event::Message(d.message_added.into()),
    )
    .await?;
    let updated = subscribe_to::<MessageUpdated, _>(
        client,
        message_updated::Variables {
            conversation_id: conversation_id.to_string(),
        },
        |d| Event::Message(d.message_updated.into()),
    )
    .await?;
    Ok(futures::stream::select_all([added, updated]))
}

/// One connection's life: connect, subscribe, fill the gap, apply events until it drops.
async fn serve(
    mut state: AppState,
    token: &str,
    page_id: &str,
    open: &mut UnboundedReceiver<Option<String>>,
    resumed: bool,
) -> Ended {
    let client = match connect(token).await {
        Ok(client) => client,
        Err(ended) => return ended,
    };
    let mut page_events = match subscribe(&client, page_id).await {
        Ok(s) => s,
        Err(ended) => return ended,
    };
    let mut open_id = state.open_conversation();
    let mut chat_events = match &open_id {
        Some(id) => match subscribe_conversation(&client, id).await {
            Ok(s) => s,
            Err(ended) => return ended,
        },
        None => SelectAll::new(),
    };
    state.connection.set(Connection::Connected);
    // Subscribed first, fetched second: whatever happened in between arrives by
    // both ways and merges into one.
    let _ = actions::load_presence(state, page_id.to_string()).await;
    if resumed {
        let _ = actions::refresh_conversations(state).await;
    }
    if let Some(id) = &open_id {
        let _ = actions::load_latest_messages(state, id.clone()).await;
    }
    loop {
        let next_chat = async {
            if chat_events.is_empty() {
                futures::future::pending::<Option<Event>>().await
            } else {
                chat_events.next().await
            }
        };
        let event = select! {
            e = page_events.next().fuse() => e,
            e = next_chat.fuse() => e,
            change = open.next().fuse() => {
                let Some(change) = change else { return Ended::Lost { served: true } };
                if change != open_id {
                    open_id = change;
                    chat_events = match &open_id {
                        Some(id) => match subscribe_conversation(&client, id).await {
                            Ok(s) => s,
                            Err(_) => return Ended::Lost { served: true },
                        },
                        None => SelectAll::new(),
                    };
                    if let Some(id) = &open_id {
                        let _ = actions::load_latest_messages(state, id.clone()).await;
                    }
                }
                continue;
            }
        };
        match event {
            None => return Ended::Lost { served: true },
            Some(Event::Failed(e)) if e.is_unauthenticated() => return Ended::Unauthenticated,
            Some(Event::Failed(_)) => return Ended::Lost { served: true },
            Some(event) => apply(state, page_id, event),
        }
    }
}

/// Applies one event. Idempotent: upserts by id.
fn apply(mut state: AppState, page_id: &str, event: Event) {
    match event {
        Event::Conversation(c) if c.page_id == page_id => {
            let filter = *state.status_filter.peek();
            state.conversations.write().upsert(c, filter);
        }
        Event::Message(m) => {
            let open = state.messages.peek().conversation_id == m.conversation_id;
            let inbound = m.direction == MessageDirection::INBOUND;
            let id = m.conversation_id.clone();
            state.messages.write().upsert(m);
            // The agent is looking at it: a new customer message is read at once.
            if open && inbound && browser::visible() {
                spawn(async move {
                    let _ = actions::update_conversation(state, id, None, None, true).await;
                });
            }
        }
        Event::Presence(p) => model::upsert_presence(&mut state.presence.write(), p),
        Event::Conversation(_) | Event::Sync(_) | Event::Failed(_) => {}
    }
}

/// Follows a history sync job's progress on its own connection until it is done.
pub async fn follow_sync(mut state: AppState, token: String, job_id: String) {
    if let Ok(client) = connect(&token).await {
        let stream = subscribe_to::<SyncProgress, _>(
            &client,
            sync_progress::Variables {
                job_id: job_id.clone(),
            },
            |d| Event::Sync(d.sync_progress.into()),
        )
        .await;
        if let Ok(mut stream) = stream {
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
