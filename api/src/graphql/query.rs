//! Queries: thin resolvers over `service::inbox`; `service::access` decides what the
//! caller may see. What is not the caller's answers exactly as if it did not exist.
use async_graphql::{Context, ID, Object, Result};

use super::auth::{Agent, AgentPresence};
use super::types::{
    AssigneeFilter, Conversation, ConversationConnection, ConversationStatus, MessageConnection,
    Page, SyncJob,
};
use super::{parse_id, principal};
use crate::error::ApiError;
use crate::service::inbox::{self, Assignee, Cursor, Filter, Slice};
use crate::service::{access, auth};
use crate::state::AppState;

/// The inbox's queries (merged into `QueryRoot`).
#[derive(Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// The signed-in agent (for an API token: the agent who created it).
    async fn me(&self, ctx: &Context<'_>) -> Result<Agent> {
        Ok(Agent(principal(ctx)?.agent.clone()))
    }

    /// The agents who work on a Page, with their presence now.
    async fn page_agents(&self, ctx: &Context<'_>, page_id: ID) -> Result<Vec<AgentPresence>> {
        let state = ctx.data::<AppState>()?;
        let Some(page) = access::page(principal(ctx)?, &page_id)? else {
            return Ok(Vec::new());
        };
        Ok(auth::page_agents(&state.db, &page)
            .await?
            .into_iter()
            .map(|agent| AgentPresence {
                status: state.presence.status(agent.id).into(),
                agent: Agent(agent),
            })
            .collect())
    }

    /// A history sync job, or null when there is none the caller may see.
    async fn sync_job(&self, ctx: &Context<'_>, id: ID) -> Result<Option<SyncJob>> {
        let state = ctx.data::<AppState>()?;
        let id = parse_id(&id, "id")?;
        Ok(access::sync_job(&state.db, principal(ctx)?, id)
            .await?
            .map(SyncJob))
    }

    /// The Pages the caller may see.
    async fn pages(&self, ctx: &Context<'_>) -> Result<Vec<Page>> {
        let state = ctx.data::<AppState>()?;
        let pages = inbox::pages(&state.db).await?;
        Ok(access::pages(principal(ctx)?, pages)
            .into_iter()
            .map(Page::from_model)
            .collect())
    }

    /// A Page's conversations, newest message first (a Relay connection).
    ///
    /// Filters combine: `status`; `assignee` (ME, UNASSIGNED, ASSIGNED) or `assigneeId`
    /// (one agent; an agent with nothing assigned on this Page, or not on it, gets an
    /// empty list), not both; and `windowClosesWithinHours` (1 to 24), the "ending soon"
    /// view: conversations whose 24-hour messaging window is open and closes within that
    /// many hours, OPEN ones unless `status` says otherwise, ordered by when the window
    /// closes, soonest first. Its cursors belong to that order: pass them back with the
    /// same `windowClosesWithinHours`. `labelId`: only conversations carrying that label
    /// (a label of another Page, or none, lists nothing).
    #[graphql(complexity = "super::cost::connection(first, 5, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        #[graphql(default = 5)] first: Option<i32>,
        after: Option<String>,
        status: Option<ConversationStatus>,
        assignee: Option<AssigneeFilter>,
        assignee_id: Option<ID>,
        window_closes_within_hours: Option<i32>,
        label_id: Option<ID>,
    ) -> Result<ConversationConnection> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let page = access::page(me, &page_id)?;
        let first = first.unwrap_or(5);
        let by_window = window_closes_within_hours.is_some();
        let kind = by_window.then_some(inbox::WINDOW_CURSOR);
        let after = after
            .as_deref()
            .map(|text| Cursor::decode_kind(text, kind))
            .transpose()?;
        let assignee = match (assignee, assignee_id) {
            (Some(_), Some(_)) => {
                return Err(
                    ApiError::bad_input("give `assignee` or `assigneeId`, not both").into(),
                );
            }
            (Some(AssigneeFilter::Me), None) => Some(Assignee::Agent(me.agent.id)),
            (Some(AssigneeFilter::Unassigned), None) => Some(Assignee::Unassigned),
            (Some(AssigneeFilter::Assigned), None) => Some(Assignee::Anyone),
            (None, Some(id)) => Some(Assignee::Agent(parse_id(&id, "assigneeId")?)),
            (None, None) => None,
        };
        let label = label_id
            .as_ref()
            .map(|id| parse_id(id, "labelId"))
            .transpose()?;
        let filter = Filter {
            status: status.map(Into::into),
            assignee,
            window_closes_within_hours,
            label,
        };
        let slice = if let Some(page) = page {
            inbox::conversations(&state.db, &page, first, after, filter).await?
        } else {
            // The same answer as for a Page with no conversations, after the same checks.
            inbox::check_page_size(first, "first")?;
            if let Some(hours) = window_closes_within_hours {
                inbox::check_window_hours(hours)?;
            }
            Slice {
                items: Vec::new(),
                more: false,
            }
        };
        Ok(ConversationConnection::new(
            slice,
            after.is_some(),
            by_window,
        ))
    }

    /// One conversation, or null when there is none the caller may see.
    async fn conversation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Conversation>> {
        let state = ctx.data::<AppState>()?;
        let id = parse_id(&id, "id")?;
        Ok(access::conversation(&state.db, principal(ctx)?, id)
            .await?
            .map(|c| Conversation::from(c.into_model())))
    }

    /// A conversation's messages: the `last` ones before `before`, oldest first.
    #[graphql(complexity = "super::cost::connection(last, 50, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        #[graphql(default = 50)] last: Option<i32>,
        before: Option<String>,
    ) -> Result<MessageConnection> {
        let state = ctx.data::<AppState>()?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let before = before.as_deref().map(Cursor::decode).transpose()?;
        let conversation = access::require_conversation(&state.db, principal(ctx)?, id).await?;
        let slice = inbox::messages(&state.db, &conversation, last.unwrap_or(50), before).await?;
        Ok(MessageConnection::new(slice, before.is_some()))
    }
}
