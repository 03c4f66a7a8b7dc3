//! Mutations: thin resolvers over `service::auth` (sending and sync come with the Graph API).
use std::net::IpAddr;

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::auth::{
    Agent, AgentPresence, AgentRole, ApiToken, ApiTokenPayload, AuthPayload, PresenceStatus,
};
use super::{parse_id, principal};
use crate::bus::{BusEvent, Revocation};
use crate::config::Secret;
use crate::service::auth::{self, Credential};
use crate::service::presence;
use crate::state::AppState;
use crate::time::rfc3339;

/// The client's address, set by the HTTP layer for rate limits.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

pub struct MutationRoot;

#[derive(InputObject)]
pub struct CreateAgentInput {
    pub email: String,
    pub name: String,
    pub role: AgentRole,
    /// 10 to 200 characters.
    #[graphql(secret)]
    pub password: String,
}

/// Tells the Pages' agents that an agent's presence changed.
pub async fn publish_presence(state: &AppState, agent_id: i64, status: presence::Status) {
    let event = BusEvent::PresenceChanged { agent_id, status };
    if let Err(err) = state.bus.publish(vec![event]).await {
        tracing::error!(error = %err, "publishing a presence change failed");
    }
}

async fn revoke(state: &AppState, revocation: Revocation) {
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
        state.limits.login(ip, &email)?;
        let (token, agent) = auth::login(&state.db, &email, Secret::new(password)).await?;
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

    /// Appear AWAY or OFFLINE by choice; ONLINE follows the connection again.
    async fn set_presence(
        &self,
        ctx: &Context<'_>,
        status: PresenceStatus,
    ) -> Result<AgentPresence> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        if let Some(changed) = state.presence.choose(me.agent.id, status.into()) {
            publish_presence(state, me.agent.id, changed).await;
        }
        Ok(AgentPresence {
            agent: Agent(me.agent.clone()),
            status: state.presence.status(me.agent.id).into(),
        })
    }

    /// Revokes an API token; requests and subscriptions using it stop at once.
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
