//! Mutations: thin resolvers over `service::auth` (sending and sync come with the Graph API).
use std::net::IpAddr;

use async_graphql::{Context, ID, MaybeUndefined, Object, Result};

use super::auth::{
    Agent, AgentPresence, AgentRole, ApiToken, ApiTokenPayload, AuthPayload, PresenceStatus,
};
use super::types::{Conversation, Message, Page, SyncJob, SyncResult};
use super::voices::ConversationPresenceState;
use super::{parse_id, principal};
use crate::bus::{BusEvent, Revocation};
use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::graph::Outgoing;
use crate::service::auth::{self, Credential};
use crate::service::presence;
use crate::service::{access, agents, conversations, pages, send, sync, viewers};
use crate::state::AppState;
use crate::time::rfc3339;

/// The client's address, set by the HTTP layer for rate limits.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

pub struct MutationRoot;

mod inputs;
pub use inputs::{AttachmentType, CreateAgentInput, SendMessageInput, UpdateConversationInput};

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
impl MutationRoot {
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
        let (token, agent) = auth::login(&state.db, &email, Secret::new(password)).await?;
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
        let me = principal(ctx)?;
        auth::logout(&state.db, me).await?;
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

    /// Creates an agent (administrators only).
    async fn create_agent(&self, ctx: &Context<'_>, input: CreateAgentInput) -> Result<Agent> {
        let state = ctx.data::<AppState>()?;
        principal(ctx)?.require_admin()?;
        let agent = auth::create_agent(
            &state.db,
            &input.email,
            &input.name,
            input.role.into(),
            Secret::new(input.password),
        )
        .await?;
        Ok(Agent(agent))
    }

    /// Lets an agent work on a Page (administrators only).
    async fn add_page_member(&self, ctx: &Context<'_>, page_id: ID, agent_id: ID) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        principal(ctx)?.require_admin()?;
        let agent_id = parse_id(&agent_id, "agentId")?;
        auth::add_page_member(&state.db, &page_id, agent_id).await?;
        Ok(true)
    }

    /// Takes an agent off a Page (administrators only); its open subscriptions close.
    async fn remove_page_member(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        agent_id: ID,
    ) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        principal(ctx)?.require_admin()?;
        let agent_id = parse_id(&agent_id, "agentId")?;
        let removed = auth::remove_page_member(&state.db, &page_id, agent_id).await?;
        if removed {
            revoke(
                state,
                Revocation {
                    agent_id: Some(agent_id),
                    ..Revocation::default()
                },
            )
            .await;
        }
        Ok(removed)
    }

    /// Deactivates an agent (administrators only): it can no longer sign in, and its
    /// sessions and API tokens stop working at once, on HTTP and on open connections
    /// (their subscriptions end). The last active administrator cannot be deactivated.
    async fn deactivate_agent(&self, ctx: &Context<'_>, id: ID) -> Result<Agent> {
        let state = ctx.data::<AppState>()?;
        principal(ctx)?.require_admin()?;
        let id = parse_id(&id, "id")?;
        let agent = agents::deactivate(&state.db, id).await?;
        revoke(
            state,
            Revocation {
                agent_id: Some(id),
                ..Revocation::default()
            },
        )
        .await;
        Ok(Agent(agent))
    }

    /// Gives an agent another role (administrators only). An ADMIN made an AGENT sees only
    /// the Pages it is a member of, at once: its subscriptions to other Pages end. The last
    /// active administrator cannot be demoted.
    async fn set_agent_role(&self, ctx: &Context<'_>, id: ID, role: AgentRole) -> Result<Agent> {
        let state = ctx.data::<AppState>()?;
        principal(ctx)?.require_admin()?;
        let id = parse_id(&id, "id")?;
        let agent = agents::set_role(&state.db, id, role.into()).await?;
        revoke(
            state,
            Revocation {
                agent_id: Some(id),
                ..Revocation::default()
            },
        )
        .await;
        Ok(Agent(agent))
    }

    /// A long-lived token for an integration, limited to `pageIds`.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        name: String,
        page_ids: Vec<ID>,
    ) -> Result<ApiTokenPayload> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let page_ids: Vec<String> = page_ids.into_iter().map(|id| id.0).collect();
        let (token, model) = auth::create_api_token(&state.db, me, &name, &page_ids).await?;
        let mut page_ids = page_ids;
        page_ids.sort();
        page_ids.dedup();
        Ok(ApiTokenPayload {
            token: token.expose().to_owned(),
            api_token: ApiToken { model, page_ids },
        })
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
        let content = match (input.text, input.attachment) {
            (Some(text), None) => Outgoing::Text(text),
            (None, Some(attachment)) => Outgoing::Attachment {
                kind: match attachment.kind {
                    AttachmentType::Image => "image",
                    AttachmentType::Audio => "audio",
                    AttachmentType::Video => "video",
                    AttachmentType::File => "file",
                }
                .to_owned(),
                url: attachment.url,
            },
            _ => {
                return Err(
                    ApiError::bad_input("give a `text` or an `attachment`, not both").into(),
                );
            }
        };
        let conversation = access::require_conversation(&state.db, me, conversation_id).await?;
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
        let me = principal(ctx)?;
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
            conversations::update(state, conversation, change, Some(me.agent.id)).await?,
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
        principal(ctx)?.require_admin()?;
        let app_token = pages::app_token(&state.config);
        let page = pages::connect(
            &state.db,
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

    /// Revokes an API token; requests and subscriptions using it stop at once. An API token
    /// may revoke only itself (FORBIDDEN otherwise).
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let id = parse_id(&id, "id")?;
        auth::revoke_api_token(&state.db, me, id).await?;
        revoke(
            state,
            Revocation {
                api_token_id: Some(id),
                ..Revocation::default()
            },
        )
        .await;
        Ok(true)
    }
}
