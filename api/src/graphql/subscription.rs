//! Live updates: each subscriber's stream is the bus filtered to what it asked for and
//! may see. A stream ends with UNAUTHENTICATED when its credential is revoked or expires.
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Result, Subscription};
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};

use std::collections::HashMap;

use super::auth::{Agent, AgentPresence};
use super::types::{Conversation, Message, SyncJob};
use super::{parse_id, principal};
use crate::bus::{BusEvent, Revocation};
use crate::error::ApiError;
use crate::service::auth::{self, Credential, Principal, validate_page_id};
use crate::service::{inbox, sync};
use crate::state::AppState;

pub struct SubscriptionRoot;

enum Step<T> {
    Skip,
    Item(T),
    Ended(&'static str),
}

fn revokes(revocation: &Revocation, principal: &Principal) -> bool {
    let credential = match principal.credential {
        Credential::Session { id, .. } => revocation.session_id == Some(id),
        Credential::ApiToken { id } => revocation.api_token_id == Some(id),
    };
    credential || revocation.agent_id == Some(principal.agent.id)
}

/// The bus, limited to `principal`'s Pages, mapped by `select`, ended on revocation or expiry.
fn guarded<T: Send + 'static>(
    events: BoxStream<'static, Arc<BusEvent>>,
    principal: &Principal,
    select: impl Fn(&BusEvent) -> Option<T> + Send + 'static,
) -> BoxStream<'static, Result<T>> {
    let principal = Arc::new(principal.clone());
    let who = principal.clone();
    let events = events.map(move |event| match &*event {
        BusEvent::AccessRevoked(revocation) if revokes(revocation, &who) => {
            Step::Ended("access was revoked; sign in again")
        }
        // Page events only of the caller's Pages; the others (presence) are `select`'s to judge.
        event if event.page_id().is_none_or(|page| who.can_see(page)) => {
            select(event).map_or(Step::Skip, Step::Item)
        }
        _ => Step::Skip,
    });
    let expiry: BoxStream<'static, Step<T>> = match principal.credential {
        Credential::Session { expires_at, .. } => {
            let left = expires_at.saturating_sub(crate::time::now_ms()).max(0) as u64;
            stream::once(async move {
                tokio::time::sleep(std::time::Duration::from_millis(left)).await;
                Step::Ended("the session expired; sign in again")
            })
            .boxed()
        }
        Credential::ApiToken { .. } => stream::pending().boxed(),
    };
    // Ends right after the error, without waiting for another event.
    stream::unfold(Some(stream::select(events, expiry)), |state| async move {
        let mut steps = state?;
        loop {
            match steps.next().await? {
                Step::Skip => continue,
                Step::Item(item) => return Some((Ok(item), Some(steps))),
                Step::Ended(why) => {
                    return Some((Err(ApiError::Unauthenticated(why).extend()), None));
                }
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

/// The conversation, if the caller may see it; NOT_FOUND otherwise, as for none at all.
async fn visible_conversation(ctx: &Context<'_>, id: &ID) -> Result<i64> {
    let state = ctx.data::<AppState>()?;
    let me = principal(ctx)?;
    let id = parse_id(id, "conversationId")?;
    let visible = inbox::conversation(&state.db, id)
        .await?
        .is_some_and(|c| me.can_see(&c.page_id));
    if visible {
        Ok(id)
    } else {
        Err(ApiError::NotFound("conversation").into())
    }
}

#[Subscription]
impl SubscriptionRoot {
    /// Each new message of one conversation, once committed.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        let events = listen(ctx)?;
        let id = visible_conversation(ctx, &conversation_id).await?;
        Ok(guarded(events, principal(ctx)?, move |event| match event {
            BusEvent::MessageAdded(m) if m.conversation_id == id => Some(Message(m.clone())),
            _ => None,
        }))
    }

    /// A message of one conversation whose status changed (sent, delivered, read, failed).
    async fn message_updated(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        let events = listen(ctx)?;
        let id = visible_conversation(ctx, &conversation_id).await?;
        Ok(guarded(events, principal(ctx)?, move |event| match event {
            BusEvent::MessageUpdated(m) if m.conversation_id == id => Some(Message(m.clone())),
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
        let me = principal(ctx)?;
        let id = parse_id(&job_id, "jobId")?;
        let visible = sync::job(&state.db, id)
            .await?
            .is_some_and(|job| me.can_see(&job.page_id));
        if !visible {
            return Err(ApiError::NotFound("sync job").into());
        }
        Ok(guarded(events, me, move |event| match event {
            BusEvent::SyncProgress(job) if job.id == id => Some(SyncJob(job.clone())),
            _ => None,
        }))
    }

    /// Presence changes of the agents who work on a Page (its members and administrators).
    async fn agent_presence(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
    ) -> Result<impl Stream<Item = Result<AgentPresence>> + use<>> {
        let events = listen(ctx)?;
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        validate_page_id(&page_id)?;
        if !me.can_see(&page_id) {
            return Err(ApiError::NotFound("page").into());
        }
        let agents: HashMap<i64, entity::agent::Model> = auth::page_agents(&state.db, &page_id)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        Ok(guarded(events, me, move |event| match event {
            BusEvent::PresenceChanged { agent_id, status } => {
                agents.get(agent_id).map(|agent| AgentPresence {
                    agent: Agent(agent.clone()),
                    status: (*status).into(),
                })
            }
            _ => None,
        }))
    }

    /// Any change to one of a Page's conversations: the conversation as it is now.
    async fn conversation_updated(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
    ) -> Result<impl Stream<Item = Result<Conversation>> + use<>> {
        let events = listen(ctx)?;
        let me = principal(ctx)?;
        validate_page_id(&page_id)?;
        if !me.can_see(&page_id) {
            return Err(ApiError::NotFound("page").into());
        }
        let page_id = page_id.0;
        Ok(guarded(events, me, move |event| match event {
            BusEvent::ConversationUpdated(c) if c.page_id == page_id => {
                Some(Conversation(c.clone()))
            }
            _ => None,
        }))
    }
}
