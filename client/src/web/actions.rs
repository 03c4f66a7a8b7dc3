//! What the inbox asks of the server, and how the answers land in the state.
//! Every result is merged by id, so running any of these twice changes nothing.
use dioxus::prelude::*;

use super::api::ApiError;
use super::browser;
use super::state::{AppState, FeedStart};
use crate::model::{self, AssigneeChoice, ConversationStatus, ListFilter, Message, Presence, time};
use crate::ops::*;

/// Conversations in the first page: the five newest, shown as fast as possible.
pub const PAGE_SIZE: i64 = 5;
/// Conversations asked for per further page (filling the column, scrolling down).
pub const MORE_SIZE: i64 = 20;
/// Messages asked for per page of history.
pub const HISTORY_SIZE: i64 = 50;

/// Loads the signed-in agent and the Pages it may see; picks a Page.
pub async fn load_session(mut state: AppState) -> Result<(), ApiError> {
    let session = state.gql::<Session>(session::Variables {}).await?;
    state.me.set(Some(session.me.into()));
    let pages: Vec<model::Page> = session.pages.into_iter().map(Into::into).collect();
    let keep = state
        .page_id
        .peek()
        .clone()
        .filter(|id| pages.iter().any(|p| &p.id == id));
    let pick = keep.or_else(|| pages.first().map(|p| p.id.clone()));
    // Read before the list is fetched: the first live feed starts here (see `FeedStart`).
    // Not once a list is shown: it may be older than this position.
    if !state.conversations.peek().loaded {
        let start = pick.as_ref().and_then(|id| {
            let page = pages.iter().find(|p| &p.id == id)?;
            Some(FeedStart {
                page_id: id.clone(),
                position: page.event_position.clone(),
                threads_before: state.threads.peek().ids(),
            })
        });
        state.feed_start.set(start);
    }
    state.pages.set(pages);
    if *state.page_id.peek() != pick {
        state.page_id.set(pick);
    }
    Ok(())
}

/// The Page's latest event-log position, where a fresh live feed starts (the Pages
/// are reloaded on the way, so their state is current too).
pub async fn event_position(mut state: AppState, page_id: &str) -> Result<String, ApiError> {
    let pages: Vec<model::Page> = state
        .gql_as::<Pages, PagesAnswer>(pages::Variables {})
        .await?
        .pages
        .into_iter()
        .map(Into::into)
        .collect();
    let position = pages
        .iter()
        .find(|p| p.id == page_id)
        .map(|p| p.event_position.clone())
        .ok_or_else(|| ApiError {
            code: "NOT_FOUND".into(),
            message: "the Page is gone".into(),
        })?;
    state.pages.set(pages);
    Ok(position)
}

/// Reloads the Pages (after connecting one, or when a send reports a token problem).
pub async fn reload_pages(mut state: AppState) -> Result<(), ApiError> {
    let pages = state
        .gql_as::<Pages, PagesAnswer>(pages::Variables {})
        .await?
        .pages;
    state.pages.set(pages.into_iter().map(Into::into).collect());
    Ok(())
}

async fn fetch_conversations(
    state: AppState,
    page_id: &str,
    filter: &ListFilter,
    first: i64,
    after: Option<String>,
) -> Result<(Vec<model::Conversation>, Option<String>, bool), ApiError> {
    use conversations::AssigneeFilter;
    let (assignee, assignee_id) = match &filter.assignee {
        AssigneeChoice::All => (None, None),
        AssigneeChoice::Mine => (Some(AssigneeFilter::ME), None),
        AssigneeChoice::Unassigned => (Some(AssigneeFilter::UNASSIGNED), None),
        AssigneeChoice::Agent(id) => (None, Some(id.clone())),
    };
    let data = state
        .gql::<Conversations>(conversations::Variables {
            page_id: page_id.to_string(),
            first: Some(first),
            after,
            status: filter.status(),
            assignee,
            assignee_id,
            window_closes_within_hours: filter.window_hours(),
            label_id: filter.label.clone(),
        })
        .await?
        .conversations;
    let nodes = data.edges.into_iter().map(|e| e.node.into()).collect();
    Ok((
        nodes,
        data.page_info.end_cursor,
        data.page_info.has_next_page,
    ))
}

/// The first page of the selected Page's conversations, replacing the list.
pub async fn load_conversations(mut state: AppState) -> Result<(), ApiError> {
    let Some(page_id) = state.page_id.peek().clone() else {
        // No Page: an empty list, loaded.
        let mut list = state.conversations.write();
        list.clear();
        list.merge_page(Vec::new(), &ListFilter::default(), 0, None);
        return Ok(());
    };
    let filter = state.list_filter();
    // Emptied now and merged into later, so live events that arrive meanwhile stay.
    state.conversations.write().clear();
    fetch_and_merge(state, &page_id, filter, PAGE_SIZE, None).await
}

/// Fetches a page of conversations and merges it into the list, unless the selection
/// (Page or status filter) moved on while the answer travelled.
async fn fetch_and_merge(
    mut state: AppState,
    page_id: &str,
    filter: ListFilter,
    count: i64,
    after: Option<String>,
) -> Result<(), ApiError> {
    let since = state.conversations.peek().mark();
    let (nodes, cursor, has_next) =
        fetch_conversations(state, page_id, &filter, count, after).await?;
    if state.page_id.peek().as_deref() != Some(page_id) || state.list_filter() != filter {
        return Ok(());
    }
    let now = browser::now_ms();
    state
        .conversations
        .write()
        .merge_fetched(nodes, &filter, now, Some((cursor, has_next)), since);
    Ok(())
}

/// The next page, after the last one loaded (scrolling down or "load more").
pub async fn load_more_conversations(state: AppState) -> Result<(), ApiError> {
    let Some(page_id) = state.page_id.peek().clone() else {
        return Ok(());
    };
    let (after, has_next) = {
        let list = state.conversations.peek();
        (list.end_cursor.clone(), list.has_next)
    };
    if !has_next {
        return Ok(());
    }
    let filter = state.list_filter();
    fetch_and_merge(state, &page_id, filter, MORE_SIZE, after).await
}

/// After a reconnect: the newest conversations again, merged into what is shown,
/// so whatever changed while the connection was down appears without a reload.
pub async fn refresh_conversations(mut state: AppState) -> Result<(), ApiError> {
    let Some(page_id) = state.page_id.peek().clone() else {
        return Ok(());
    };
    let filter = state.list_filter();
    let (shown, since) = {
        let list = state.conversations.peek();
        (list.items.len() as i64, list.mark())
    };
    let (nodes, cursor, has_next) =
        fetch_conversations(state, &page_id, &filter, shown.clamp(PAGE_SIZE, 50), None).await?;
    if state.page_id.peek().as_deref() != Some(&page_id) || state.list_filter() != filter {
        return Ok(());
    }
    let now = browser::now_ms();
    let mut list = state.conversations.write();
    let keep_cursor = list.items.len() as i64 > shown.clamp(PAGE_SIZE, 50);
    let next = (!keep_cursor || !list.loaded).then_some((cursor, has_next));
    list.merge_fetched(nodes, &filter, now, next, since);
    Ok(())
}

async fn fetch_messages(
    mut state: AppState,
    conversation_id: &str,
    before: Option<String>,
) -> Result<(Vec<Message>, Option<String>, bool), ApiError> {
    let answer = state
        .gql::<Messages>(messages::Variables {
            conversation_id: conversation_id.to_string(),
            last: Some(HISTORY_SIZE),
            before,
        })
        .await?;
    // Its system lines, into its thread (if still held), once each.
    if let Some(conversation) = answer.conversation {
        let mut threads = state.threads.write();
        for edge in conversation.activity.edges {
            threads.upsert_activity(edge.node.into());
        }
        for edge in conversation.notes.edges {
            threads.upsert_note(edge.node.into());
        }
    }
    let data = answer.messages;
    let nodes = data.edges.into_iter().map(|e| e.node.into()).collect();
    Ok((
        nodes,
        data.page_info.start_cursor,
        data.page_info.has_previous_page,
    ))
}

/// The newest messages of a conversation, into its own thread: its first load when it
/// opens, and the gap fill after a reconnect (merged, so it never duplicates). A thread
/// dropped meanwhile (the feed started afresh) is left alone.
pub async fn load_latest_messages(
    mut state: AppState,
    conversation_id: String,
) -> Result<(), ApiError> {
    let (nodes, cursor, has_previous) = fetch_messages(state, &conversation_id, None).await?;
    let mut threads = state.threads.write();
    let Some(thread) = threads.get_mut(&conversation_id) else {
        return Ok(());
    };
    let first_load = !thread.messages.loaded;
    thread
        .messages
        .merge_page(nodes, first_load.then_some((cursor, has_previous)));
    Ok(())
}

/// The page of history before the oldest message shown of `conversation_id` (scrolling up).
pub async fn load_older_messages(
    mut state: AppState,
    conversation_id: String,
) -> Result<(), ApiError> {
    let before = match state.threads.peek().get(&conversation_id) {
        Some(t) if t.messages.has_previous => t.messages.start_cursor.clone(),
        _ => return Ok(()),
    };
    let (nodes, cursor, has_previous) = fetch_messages(state, &conversation_id, before).await?;
    if let Some(thread) = state.threads.write().get_mut(&conversation_id) {
        thread
            .messages
            .merge_page(nodes, Some((cursor, has_previous)));
    }
    Ok(())
}

/// One conversation by id (opened by a link before the list has it, or hidden by its
/// filter): into its thread for the header, and into the list where it belongs.
pub async fn load_conversation(state: AppState, id: String) -> Result<bool, ApiError> {
    let found = state
        .gql_as::<ConversationById, ConversationByIdAnswer>(conversation_by_id::Variables { id })
        .await?
        .conversation;
    let known = found.is_some();
    if let Some(c) = found {
        state.put_conversation(c.into());
    }
    Ok(known)
}

/// Sends a text: shown at once as PENDING in its conversation's thread, then replaced by
/// the server's copy (same client mutation id), or failed with the reason the server gave.
pub async fn send_text(mut state: AppState, conversation_id: String, text: String) {
    let cmid = browser::random_id();
    let now = time::format_rfc3339(browser::now_ms());
    state
        .threads
        .write()
        .open(&conversation_id)
        .messages
        .upsert(Message::pending(&conversation_id, &cmid, &text, &now));
    let input = send_message::SendMessageInput {
        conversation_id: conversation_id.clone(),
        text: Some(text),
        attachment: None,
        file: None,
        client_mutation_id: Some(cmid.clone()),
    };
    match state
        .gql_as::<SendMessage, SendMessageAnswer>(send_message::Variables { input })
        .await
    {
        Ok(sent) => {
            state
                .threads
                .write()
                .upsert_message(sent.send_message.into());
        }
        Err(e) => {
            if let Some(t) = state.threads.write().get_mut(&conversation_id) {
                t.messages.fail_local(&cmid, &e.code);
            }
            if e.code == "PAGE_NEEDS_RECONNECT" || e.code == "GRAPH_API_ERROR" {
                let _ = reload_pages(state).await;
            }
        }
    }
}

/// Adds a private note (never sent to the customer, so the window does not matter). It
/// reaches the thread through the live feed's NOTE_ADDED, replayed after a reconnect, as
/// for every agent of the Page: the answer is not decoded (its decoder would weigh on
/// the wasm).
pub async fn add_note(
    state: AppState,
    conversation_id: String,
    text: String,
) -> Result<(), ApiError> {
    state
        .gql_as::<AddNote, Ignored>(add_note::Variables {
            conversation_id,
            text,
        })
        .await?;
    Ok(())
}

/// Sends a file from the agent's computer: shown at once as PENDING with its name, then
/// replaced by the server's copy, or FAILED when Facebook refused it. A file the server
/// refuses before sending (too large, of a type Messenger does not take) leaves nothing in
/// the thread: the error is the caller's to show beside the file, which stays chosen.
pub async fn send_file(
    mut state: AppState,
    conversation_id: String,
    file: web_sys::File,
) -> Result<(), ApiError> {
    let cmid = browser::random_id();
    let now = time::format_rfc3339(browser::now_ms());
    let mut pending = Message::pending(&conversation_id, &cmid, "", &now);
    pending.text = None;
    pending.attachments = vec![model::Attachment {
        kind: "file".into(),
        url: None,
        title: None,
        name: Some(file.name()),
        map_url: None,
    }];
    let local = pending.id.clone();
    state
        .threads
        .write()
        .open(&conversation_id)
        .messages
        .upsert(pending);
    let input = send_message::SendMessageInput {
        conversation_id: conversation_id.clone(),
        text: None,
        attachment: None,
        file: None,
        client_mutation_id: Some(cmid.clone()),
    };
    let sent = state
        .gql_file::<SendMessage, SendMessageAnswer>(send_message::Variables { input }, &file)
        .await;
    let mut threads = state.threads.write();
    match sent {
        Ok(sent) => {
            threads.upsert_message(sent.send_message.into());
            Ok(())
        }
        Err(e) => {
            if let Some(t) = threads.get_mut(&conversation_id) {
                if e.code == "BAD_USER_INPUT" {
                    t.messages.remove_local(&local);
                } else {
                    t.messages.fail_local(&cmid, &e.code);
                }
            }
            Err(e)
        }
    }
}

/// Sends a failed message's text again, under a new idempotency key (the old key
/// would return the failed message).
pub async fn retry(mut state: AppState, failed: Message) {
    if failed.is_local()
        && let Some(t) = state.threads.write().get_mut(&failed.conversation_id)
    {
        t.messages.remove_local(&failed.id);
    }
    if let Some(text) = failed.text.filter(|t| !t.is_empty()) {
        send_text(state, failed.conversation_id, text).await;
    }
}

/// Changes a conversation (status, assignee, read) and shows the result.
pub async fn update_conversation(
    state: AppState,
    id: String,
    status: Option<ConversationStatus>,
    assignee: Option<Option<String>>,
    mark_read: bool,
) -> Result<(), ApiError> {
    let updated: model::Conversation = if assignee == Some(None) {
        state
            .gql_as::<UnassignConversation, UpdateConversationAnswer>(
                unassign_conversation::Variables { id },
            )
            .await?
            .update_conversation
            .into()
    } else {
        let input = update_conversation::UpdateConversationInput {
            status,
            assignee_id: assignee.flatten(),
            mark_read: mark_read.then_some(true),
            snoozed_until: None,
        };
        state
            .gql_as::<UpdateConversation, UpdateConversationAnswer>(
                update_conversation::Variables { id, input },
            )
            .await?
            .update_conversation
            .into()
    };
    state.put_conversation(updated);
    Ok(())
}

/// Snoozes a conversation until `until` (ms): it wakes by itself then, or when the
/// customer writes.
pub async fn snooze_conversation(state: AppState, id: String, until: i64) -> Result<(), ApiError> {
    let input = update_conversation::UpdateConversationInput {
        status: Some(ConversationStatus::SNOOZED),
        assignee_id: None,
        mark_read: None,
        snoozed_until: Some(model::follow_ups::snooze_value(until)),
    };
    let updated: model::Conversation = state
        .gql_as::<UpdateConversation, UpdateConversationAnswer>(update_conversation::Variables {
            id,
            input,
        })
        .await?
        .update_conversation
        .into();
    state.put_conversation(updated);
    Ok(())
}

/// The agents of the selected Page and their presence now, and its labels.
pub async fn load_presence(mut state: AppState, page_id: String) -> Result<(), ApiError> {
    let answer = state
        .gql_as::<PageAgents, PageAgentsAnswer>(page_agents::Variables {
            page_id: page_id.clone(),
        })
        .await?;
    if state.page_id.peek().as_deref() == Some(page_id.as_str()) {
        let mut labels = model::PageLabels::default();
        labels.set(answer.labels.into_iter().map(Into::into).collect());
        // A label deleted meanwhile filters nothing any more.
        let gone = state
            .label_filter
            .peek()
            .as_ref()
            .is_some_and(|id| !labels.items.iter().any(|l| &l.id == id));
        if gone {
            state.label_filter.set(None);
        }
        state.labels.set(labels);
    }
    let agents = answer.page_agents;
    let mut list = Vec::new();
    for p in agents {
        model::upsert_presence(
            &mut list,
            Presence {
                agent: p.agent.into(),
                status: p.status,
            },
        );
    }
    state.presence.set(list);
    Ok(())
}

/// Appear AWAY or OFFLINE by choice, or ONLINE again (following the connection).
pub async fn set_presence(
    mut state: AppState,
    status: model::PresenceStatus,
) -> Result<(), ApiError> {
    let p = state
        .gql_as::<SetPresence, SetPresenceAnswer>(set_presence::Variables { status })
        .await?
        .set_presence;
    model::upsert_presence(
        &mut state.presence.write(),
        Presence {
            agent: p.agent.into(),
            status: p.status,
        },
    );
    Ok(())
}

/// Shows the customer that the Page is typing (`typing`), or stops it. Best effort: a
/// refused indicator (the window closed, Facebook unavailable) changes nothing the agent
/// needs to know about.
pub async fn send_typing(state: AppState, conversation_id: String, typing: bool) {
    let _ = state
        .gql_as::<SendTypingIndicator, Ignored>(send_typing_indicator::Variables {
            conversation_id,
            typing,
        })
        .await;
}

/// Tells the conversation's other agents that this agent has it open, is replying, or
/// left. Best effort: the warning is a courtesy, and the next refresh repeats it.
pub async fn set_conversation_presence(
    state: AppState,
    conversation_id: String,
    presence: ConversationPresenceState,
) {
    let _ = state
        .gql_as::<SetConversationPresence, Ignored>(set_conversation_presence::Variables {
            conversation_id,
            state: presence,
        })
        .await;
}

/// Connects a Page with its access token (administrators).
pub async fn connect_page(state: AppState, page_id: String, token: String) -> Result<(), ApiError> {
    state
        .gql_as::<ConnectPage, Ignored>(connect_page::Variables {
            page_id,
            access_token: token,
        })
        .await?;
    load_session(state).await
}

/// Starts a full history sync; progress arrives through [`super::live::follow_sync`].
pub async fn start_full_sync(
    mut state: AppState,
    page_id: String,
) -> Result<model::SyncJob, ApiError> {
    let job: model::SyncJob = state
        .gql_as::<SyncFullHistory, SyncFullHistoryAnswer>(sync_full_history::Variables { page_id })
        .await?
        .sync_full_history
        .into();
    put_sync_job(&mut state, job.clone());
    Ok(job)
}

/// The job as the server has it now (when the progress subscription ended early).
pub async fn refresh_sync_job(mut state: AppState, id: String) -> Result<(), ApiError> {
    if let Some(job) = state
        .gql::<SyncJobById>(sync_job_by_id::Variables { id })
        .await?
        .sync_job
    {
        put_sync_job(&mut state, job.into());
    }
    Ok(())
}

pub fn put_sync_job(state: &mut AppState, job: model::SyncJob) {
    let mut jobs = state.sync_jobs.write();
    jobs.retain(|j| j.page_id != job.page_id);
    jobs.push(job);
}

/// Signs out: the server ends the session (and its subscriptions), the browser
/// forgets the token.
pub async fn sign_out(state: AppState) {
    let _ = state.gql_as::<Logout, Ignored>(logout::Variables {}).await;
    state.forget_session();
}

/// Puts exactly `label_ids` on `c`: shown at once, put back as it was if refused.
pub async fn set_labels(
    state: AppState,
    c: model::Conversation,
    label_ids: Vec<String>,
) -> Result<(), ApiError> {
    let mut shown = c.clone();
    shown.labels = state.labels.peek().pick(&label_ids);
    state.put_conversation(shown);
    // Through the one shared sender (`api::body`): no state machine of its own.
    let body = super::api::body(
        set_conversation_labels::QUERY,
        set_conversation_labels::OPERATION_NAME,
        serde_json::json!({ "conversationId": c.id, "labelIds": label_ids }),
    );
    let done = state.gql_body(body).await;
    if done.is_err() {
        state.put_conversation(c);
    }
    done.map(|_| ())
}
