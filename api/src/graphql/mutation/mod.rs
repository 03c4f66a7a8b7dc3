//! Mutations: thin resolvers over the services: the inbox's here, administration's
//! (agents, memberships, tokens) in `admin`.
use std::net::IpAddr;

use async_graphql::{Context, ID, MaybeUndefined, MergedObject, Object, Result};
use sea_orm::TransactionTrait;

use super::auth::{Agent, AgentPresence, AuthPayload, PresenceStatus};
use super::types::{Conversation, Message, Page, SyncJob, SyncResult};
use super::voices::ConversationPresenceState;
use super::{actor, parse_id, principal};
use crate::bus::{BusEvent, Revocation};
use crate::config::Secret;
use crate::error::ApiError;
use crate::service::auth::{self, Credential};
use crate::service::presence;
use crate::service::{access, conversations, pages, send, sync, viewers};
use crate::state::AppState;
use crate::time::rfc3339;

/// The client's address, set by the HTTP layer for rate limits.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// The mutations: the inbox's, and administration's.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    InboxMutation,
    admin::AdminMutation,
    super::labels::LabelMutation,
    super::notes::NotesMutation,
    super::saved_replies::SavedReplyMutation,
);

/// The inbox's mutations (merged into `MutationRoot`).
#[derive(Default)]
pub struct InboxMutation;

mod admin;
mod inputs;
mod outgoing;
pub use inputs::{SendMessageInput, UpdateConversationInput};

/// Tells the Pages' agents that an agent's presence changed.
pub async fn publish_presence(state: &AppState, agent_id: i64, status: presence::Status) {
    let event = BusEvent::PresenceChanged { agent_id, status };
    if let Err(err) = state.bus.publish(vec![event]).await {
        tracing::error!(error = %err, "publishing a presence change failed");
    }
}

/// After a revocation is stored: this instance's live uses re-check at once, and the
/// bus tells the other instances to (should it be down, their periodic re-check finds it).
async fn revoke(state: &AppState, revocation: Revocation) {
    state.credentials.recheck_now();
    if let Err(err) = state
        .bus
        .publish(vec![BusEvent::AccessRevoked(revocation)])
        .await
    {
        tracing::error!(error = %err, "publishing a revocation failed");
    }
}

#[Object]
impl InboxMutation {
    /// Signs in; send the token as `Authorization: Bearer <token>`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] password: String,
    ) -> Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        let ip = ctx.data_opt::<ClientIp>().map(|ip| ip.0);
        let attempt = state.limits.login(ip, &email)?;
        let origin = super::origin(ctx);
        let (token, agent) = auth::login(&state.db, &email, Secret::new(password), origin).await?;
        attempt.succeeded();
        Ok(AuthPayload {
            token: token.expose().to_owned(),
            agent: Agent(agent),
            expires_at: rfc3339(crate::time::now_ms() + auth::SESSION_TTL_MS),
        })
    }

    /// Ends this session; its subscriptions close.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let txn = state.db.begin().await?;
        auth::logout(&txn, me, &actor).await?;
        txn.commit().await?;
        if let Credential::Session { id, .. } = me.credential {
            revoke(
                state,
                Revocation {
                    session_id: Some(id),
                    ..Revocation::default()
                },
            )
            .await;
        }
        Ok(true)
    }

    /// Appear AWAY or OFFLINE by choice; ONLINE follows the connection again. Only a
    /// signed-in agent sets its own presence (an API token is FORBIDDEN).
    async fn set_presence(
        &self,
        ctx: &Context<'_>,
        status: PresenceStatus,
    ) -> Result<AgentPresence> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        if !matches!(me.credential, Credential::Session { .. }) {
            return Err(ApiError::Forbidden(
                "an API token cannot set its creator's presence; sign in to set it",
            )
            .into());
        }
        if let Some(changed) = state.presence.choose(me.agent.id, status.into()) {
            publish_presence(state, me.agent.id, changed).await;
        }
        Ok(AgentPresence {
            agent: Agent(me.agent.clone()),
            status: state.presence.status(me.agent.id).into(),
        })
    }

    /// Tells the conversation's other agents that you have it open (VIEWING), are writing
    /// a reply (TYPING), or left (NONE), on every instance. It lasts `MF_VIEWING_TTL_MS`
    /// (30 s; TYPING a quarter of it) unless set again: refresh it while the chat is open.
    /// Only a signed-in agent (an API token is FORBIDDEN); at most 20 conversations at once.
    async fn set_conversation_presence(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        state: ConversationPresenceState,
    ) -> Result<bool> {
        let app = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let conversation = access::require_conversation(&app.db, me, id).await?;
        viewers::set(
            &app.viewers,
            app.bus.as_ref(),
            std::time::Duration::from_millis(app.config.viewing_ttl_ms),
            me,
            &conversation,
            state.into(),
        )
        .await?;
        Ok(true)
    }

    /// Replies in a conversation. Stored PENDING and pushed at once, then SENT with
    /// Facebook's mid, or FAILED with `errorCode`. Outside the messaging window it is
    /// refused before anything is stored (OUTSIDE_MESSAGING_WINDOW). Repeating a
    /// `clientMutationId` returns the first message and sends nothing.
    async fn send_message(&self, ctx: &Context<'_>, input: SendMessageInput) -> Result<Message> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let conversation_id = parse_id(&input.conversation_id, "conversationId")?;
        let conversation = access::require_conversation(&state.db, me, conversation_id).await?;
        let content =
            outgoing::content(ctx, state, input.text, input.attachment, input.file).await?;
        let message = send::send_message(
            state,
            me,
            send::SendRequest {
                conversation,
                content,
                client_mutation_id: input.client_mutation_id,
            },
        )
        .await?;
        Ok(Message::from(message))
    }

    /// Shows the customer that the Page is typing (`typing: true`), or stops it.
    async fn send_typing_indicator(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        typing: bool,
    ) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let conversation = access::require_conversation(&state.db, me, id).await?;
        send::typing(state, &conversation, typing).await?;
        Ok(true)
    }

    /// Changes a conversation's status or assignee, or marks it read (which resets
    /// `unreadCount` and tells Facebook the Page has seen it).
    async fn update_conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateConversationInput,
    ) -> Result<Conversation> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let assignee = match input.assignee_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(agent) => Some(Some(parse_id(&agent, "assigneeId")?)),
        };
        let change = conversations::Change {
            status: input.status.map(Into::into),
            assignee,
            mark_read: input.mark_read.unwrap_or(false),
            snoozed_until: input.snoozed_until,
        };
        let conversation = access::require_conversation(&state.db, me, id).await?;
        Ok(Conversation::from(
            conversations::update(state, conversation, change, Some(&actor)).await?,
        ))
    }

    /// Connects a Facebook Page (administrators only): checks the token with Facebook
    /// (`debug_token`, `/me`, `/me/permissions`), subscribes the app to the Page's events,
    /// and stores the token, which is never readable back. A token refused changes nothing:
    /// `TOKEN_EXPIRED`, `TOKEN_INVALID` (with `extensions.reason`), or `MISSING_PERMISSIONS`
    /// (with `extensions.missingPermissions`).
    async fn connect_page(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        #[graphql(secret)] access_token: String,
    ) -> Result<Page> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        me.require_admin()?;
        let app_token = pages::app_token(&state.config);
        let page = pages::connect(
            &state.db,
            &actor,
            &state.graph,
            &page_id,
            Secret::new(access_token),
            app_token.as_ref(),
        )
        .await?;
        Ok(Page::from_model(page))
    }

    /// Imports the Page's `limit` newest conversations with their recent messages and
    /// customer names.
    async fn sync_conversations(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        #[graphql(default = 5)] limit: Option<i32>,
    ) -> Result<SyncResult> {
        let state = ctx.data::<AppState>()?;
        let page = access::require_page(principal(ctx)?, &page_id)?;
        let limit = u32::try_from(limit.unwrap_or(5)).unwrap_or(0);
        let imported = sync::sync_conversations(state, &page, limit).await?;
        Ok(SyncResult {
            conversations: imported.conversations as i32,
            messages: imported.messages as i32,
            new_messages: imported.stored as i32,
        })
    }

    /// Starts importing the Page's whole history in the background; follow it with
    /// `syncJob(id)` or the `syncProgress(jobId)` subscription.
    async fn sync_full_history(&self, ctx: &Context<'_>, page_id: ID) -> Result<SyncJob> {
        let state = ctx.data::<AppState>()?;
        let page = access::require_page(principal(ctx)?, &page_id)?;
        Ok(SyncJob(sync::start_full_sync(state, &page).await?))
    }
}
