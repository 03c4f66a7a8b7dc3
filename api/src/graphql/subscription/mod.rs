//! Live updates: each subscriber's stream is the bus filtered to what it asked for and
//! may see. A stream ends with UNAUTHENTICATED when its credential is revoked or expires.
//!
//! Page changes come in their Page's event-log order, each once: a subscription reads
//! from the log what it missed (after its `after` position, across a hole in what the
//! bus delivered, or after the bus reconnected) and drops what it already delivered.
//!
//! The resolvers are here; `source` says where a stream's events come from and where it
//! starts, `guard` ends it when the caller may no longer see it, `page_event` is the
//! page-wide stream's item.
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, ID, Result, Subscription};
use futures::Stream;
use futures::stream::{self, BoxStream, StreamExt};

use super::auth::{Agent, AgentPresence};
use super::parse_id;
use super::types::{Conversation, Message, SyncJob};
use super::voices::ConversationViewer;
use crate::bus::{BusEvent, Change, PageEvent};
use crate::error::ApiError;
use crate::service::auth;
use crate::service::{access, viewers};
use crate::state::AppState;

mod guard;
mod page_event;
mod source;

use guard::{guarded, in_use};
use page_event::PageEventItem;
use source::{listen, page_events, unordered};

pub struct SubscriptionRoot;

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
