//! Live updates: each subscriber's stream is the bus filtered to what it asked for and
//! may see. A stream ends with UNAUTHENTICATED when its credential is revoked or expires.
//!
//! Page changes come in their Page's event-log order, each once: a subscription reads
//! from the log what it missed (after its `after` position, across a hole in what the
//! bus delivered, or after the bus reconnected) and drops what it already delivered.
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, ID, Result, SimpleObject, Subscription};
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};

use super::auth::{Agent, AgentPresence};
use super::sequencer::{Events, in_order};
use super::types::{Conversation, Message, SyncJob};
use super::voices::{ConversationActivity, ConversationViewer};
use super::{parse_id, principal};
use crate::bus::{BusEvent, Change, PageEvent};
use crate::error::ApiError;
use crate::service::auth::{self, Credential, Principal};
use crate::service::credentials::CredentialWatch;
use crate::service::event_log::{self, Resume};
use crate::service::{access, viewers};
use crate::state::AppState;

pub struct SubscriptionRoot;

enum Step<T> {
    Skip,
    Item(T),
    Ended(ApiError),
}

/// The caller's credential, registered as in use for as long as the subscription runs,
/// and its principal as it stands now.
fn in_use(ctx: &Context<'_>) -> Result<(CredentialWatch, Arc<Principal>)> {
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
fn guarded<T: Send + 'static>(
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

/// Starts listening before any check awaits, so that nothing committed after the
/// subscription's first poll is missed.
fn listen(ctx: &Context<'_>) -> Result<BoxStream<'static, Arc<BusEvent>>> {
    Ok(ctx.data::<AppState>()?.bus.subscribe())
}

/// Every event but one Page's, as the bus gives them.
fn unordered(events: BoxStream<'static, Arc<BusEvent>>) -> Events {
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

/// A Page's change, as the page-wide stream delivers it.
#[derive(SimpleObject)]
#[graphql(name = "PageEvent")]
pub struct PageEventItem {
    /// Its position in the Page's event log: pass the last one seen as `after` to resume.
    position: String,
    kind: PageEventKind,
    /// The message, as it is now (MESSAGE_ADDED, MESSAGE_UPDATED).
    message: Option<Message>,
    /// The conversation, as it is now (CONVERSATION_UPDATED).
    conversation: Option<Conversation>,
    /// MESSAGE_REMOVED: this message was the same Facebook message as another one (our
    /// reply, also imported by a history sync) and was merged into it; drop it.
    removed_message_id: Option<ID>,
    /// ACTIVITY_ADDED: a status change, assignment or snooze of one of the Page's
    /// conversations (the conversation itself comes as CONVERSATION_UPDATED too).
    activity: Option<ConversationActivity>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PageEventKind {
    MessageAdded,
    MessageUpdated,
    ConversationUpdated,
    MessageRemoved,
    ActivityAdded,
}

impl From<&PageEvent> for PageEventItem {
    fn from(event: &PageEvent) -> Self {
        let position = Some(event.position);
        let mut removed_message_id = None;
        let mut activity = None;
        let (kind, message, conversation) = match &event.change {
            Change::MessageAdded(m) => (
                PageEventKind::MessageAdded,
                Some(Message {
                    model: m.clone(),
                    position,
                }),
                None,
            ),
            Change::MessageUpdated(m) => (
                PageEventKind::MessageUpdated,
                Some(Message {
                    model: m.clone(),
                    position,
                }),
                None,
            ),
            Change::ConversationUpdated(c) => (
                PageEventKind::ConversationUpdated,
                None,
                Some(Conversation {
                    model: c.clone(),
                    position,
                }),
            ),
            Change::MessageRemoved { id, .. } => {
                removed_message_id = Some(ID(id.to_string()));
                (PageEventKind::MessageRemoved, None, None)
            }
            Change::ActivityAdded(a) => {
                activity = Some(ConversationActivity {
                    model: a.clone(),
                    position,
                });
                (PageEventKind::ActivityAdded, None, None)
            }
        };
        Self {
            position: event.position.to_string(),
            kind,
            message,
            conversation,
            removed_message_id,
            activity,
        }
    }
}

/// One Page's events in order, from `after` (or from now).
async fn page_events(
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

#[derive(Clone, Copy)]
enum MessageChange {
    Added,
    Updated,
}

/// One conversation's messages as they are added or change, from `after` (or from now).
async fn conversation_messages(
    ctx: &Context<'_>,
    conversation_id: ID,
    after: Option<String>,
    wanted: MessageChange,
) -> Result<BoxStream<'static, Result<Message>>> {
    let events = listen(ctx)?;
    let (watch, me) = in_use(ctx)?;
    let state = ctx.data::<AppState>()?;
    let id = parse_id(&conversation_id, "conversationId")?;
    let conversation = access::require_conversation(&state.db, &me, id).await?;
    let page_id = conversation.model().page_id.clone();
    let events = page_events(ctx, events, &page_id, after.as_deref()).await?;
    Ok(guarded(events, watch, &page_id, move |event| {
        let BusEvent::Page(PageEvent {
            position, change, ..
        }) = event
        else {
            return None;
        };
        let message = match (wanted, change) {
            (MessageChange::Added, Change::MessageAdded(m))
            | (MessageChange::Updated, Change::MessageUpdated(m)) => m,
            _ => return None,
        };
        (message.conversation_id == id).then(|| Message {
            model: message.clone(),
            position: Some(*position),
        })
    }))
}

#[Subscription]
impl SubscriptionRoot {
    /// Each new message of one conversation, once committed. With `after` (a `position`
    /// this subscription delivered before), first the messages added since, in order.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        conversation_messages(ctx, conversation_id, after, MessageChange::Added).await
    }

    /// A message of one conversation whose status changed (sent, delivered, read, failed).
    async fn message_updated(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        conversation_messages(ctx, conversation_id, after, MessageChange::Updated).await
    }

    /// Every change of a Page, in order: messages added and updated, conversations
    /// updated. With `after` (a `position` delivered before, or the Page's
    /// `eventPosition`), first everything since, then live, with no gap and no repeat.
    async fn page_events(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<PageEventItem>> + use<>> {
        let events = listen(ctx)?;
        let (watch, me) = in_use(ctx)?;
        let page = access::require_page(&me, &page_id)?;
        let page_id = page.id().to_owned();
        let events = page_events(ctx, events, &page_id, after.as_deref()).await?;
        Ok(guarded(events, watch, &page_id, move |event| match event {
            BusEvent::Page(page_event) => Some(PageEventItem::from(page_event)),
            _ => None,
        }))
    }

    /// Progress of a history sync job, until it is DONE or FAILED.
    async fn sync_progress(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
    ) -> Result<impl Stream<Item = Result<SyncJob>> + use<>> {
        let events = listen(ctx)?;
        let state = ctx.data::<AppState>()?;
        let (watch, me) = in_use(ctx)?;
        let id = parse_id(&job_id, "jobId")?;
        let Some(job) = access::sync_job(&state.db, &me, id).await? else {
            return Err(ApiError::NotFound("sync job").into());
        };
        Ok(guarded(
            unordered(events),
            watch,
            &job.page_id,
            move |event| match event {
                BusEvent::SyncProgress(job) if job.id == id => Some(SyncJob(job.clone())),
                _ => None,
            },
        ))
    }

    /// Presence changes of the agents who work on a Page (its members and administrators).
    async fn agent_presence(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
    ) -> Result<impl Stream<Item = Result<AgentPresence>> + use<>> {
        let events = listen(ctx)?;
        let state = ctx.data::<AppState>()?;
        let (watch, me) = in_use(ctx)?;
        let page = access::require_page(&me, &page_id)?;
        let page_id = page.id().to_owned();
        let agents: HashMap<i64, entity::agent::Model> = auth::page_agents(&state.db, &page)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        Ok(guarded(
            unordered(events),
            watch,
            &page_id,
            move |event| match event {
                BusEvent::PresenceChanged { agent_id, status } => {
                    agents.get(agent_id).map(|agent| AgentPresence {
                        agent: Agent(agent.clone()),
                        status: (*status).into(),
                    })
                }
                _ => None,
            },
        ))
    }

    /// Who has the Page's conversations open or is replying in them, on any instance:
    /// first everyone there now, then each change (NONE when an agent left, or stopped
    /// refreshing and expired). Not in the event log: after a reconnect it starts again
    /// with everyone there now.
    async fn conversation_presence(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
    ) -> Result<impl Stream<Item = Result<ConversationViewer>> + use<>> {
        let state = ctx.data::<AppState>()?;
        let (watch, me) = in_use(ctx)?;
        let page = access::require_page(&me, &page_id)?;
        let page_id = page.id().to_owned();
        // Who is there now and the changes after it, in one step (before any wait): a
        // change in between would otherwise come twice, or not at all.
        let (present, changes) = state.viewers.watch_page(&page_id);
        let agents: HashMap<i64, entity::agent::Model> = auth::page_agents(&state.db, &page)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let now: Vec<Arc<BusEvent>> = present
            .into_iter()
            .map(|(conversation_id, agent_id, presence)| {
                Arc::new(BusEvent::ConversationPresence(viewers::ViewerChange {
                    page_id: page_id.clone(),
                    conversation_id,
                    agent_id,
                    state: presence,
                    ttl_ms: 0,
                    origin: 0,
                }))
            })
            .collect();
        let events = stream::iter(now).chain(changes).map(Ok).boxed();
        let wanted = page_id.clone();
        Ok(guarded(events, watch, &page_id, move |event| match event {
            BusEvent::ConversationPresence(change) if change.page_id == wanted => agents
                .get(&change.agent_id)
                .map(|agent| ConversationViewer {
                    conversation_id: ID(change.conversation_id.to_string()),
                    agent: Agent(agent.clone()),
                    state: change.state.into(),
                }),
            _ => None,
        }))
    }

    /// Any change to one of a Page's conversations: the conversation as it is now. With
    /// `after` (a `position` delivered before, or the Page's `eventPosition`), first the
    /// changes since, in order.
    async fn conversation_updated(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Conversation>> + use<>> {
        let events = listen(ctx)?;
        let (watch, me) = in_use(ctx)?;
        let page = access::require_page(&me, &page_id)?;
        let page_id = page.id().to_owned();
        let events = page_events(ctx, events, &page_id, after.as_deref()).await?;
        Ok(guarded(events, watch, &page_id, move |event| match event {
            BusEvent::Page(PageEvent {
                position,
                change: Change::ConversationUpdated(c),
                ..
            }) => Some(Conversation {
                model: c.clone(),
                position: Some(*position),
            }),
            _ => None,
        }))
    }
}
