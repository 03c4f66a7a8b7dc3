//! Administration as mutations: agents, Page memberships, API tokens. Each change is
//! audited in its transaction (`service::audit`); a revocation also ends live uses.
use async_graphql::{Context, ID, Object, Result};

use super::inputs::CreateAgentInput;
use super::revoke;
use crate::bus::Revocation;
use crate::config::Secret;
use crate::graphql::auth::{Agent, AgentRole, ApiToken, ApiTokenPayload, ResetPasswordPayload};
use crate::graphql::{actor, parse_id};
use crate::service::agents;
use crate::service::auth::{self, Credential};
use crate::state::AppState;

#[derive(Default)]
pub struct AdminMutation;

/// The Revocation that makes every live use of an agent re-check.
fn of_agent(agent_id: i64) -> Revocation {
    Revocation {
        agent_id: Some(agent_id),
        ..Revocation::default()
    }
}

#[Object]
impl AdminMutation {
    /// Creates an agent (administrators only).
    async fn create_agent(&self, ctx: &Context<'_>, input: CreateAgentInput) -> Result<Agent> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        me.require_admin()?;
        let txn = crate::db::begin_write(&state.db).await?;
        let agent = auth::create_agent(
            &txn,
            &actor,
            &input.email,
            &input.name,
            input.role.into(),
            Secret::new(input.password),
        )
        .await?;
        txn.commit().await?;
        Ok(Agent(agent))
    }

    /// Lets an agent work on a Page (administrators only).
    async fn add_page_member(&self, ctx: &Context<'_>, page_id: ID, agent_id: ID) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        me.require_admin()?;
        let agent_id = parse_id(&agent_id, "agentId")?;
        let txn = crate::db::begin_write(&state.db).await?;
        auth::add_page_member(&txn, &actor, &page_id, agent_id).await?;
        txn.commit().await?;
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
        let (me, actor) = actor(ctx)?;
        me.require_admin()?;
        let agent_id = parse_id(&agent_id, "agentId")?;
        let txn = crate::db::begin_write(&state.db).await?;
        let removed = auth::remove_page_member(&txn, &actor, &page_id, agent_id).await?;
        txn.commit().await?;
        if removed {
            revoke(state, of_agent(agent_id)).await;
        }
        Ok(removed)
    }

    /// Deactivates an agent (administrators only): it can no longer sign in, and its
    /// sessions and API tokens stop working at once, on HTTP and on open connections
    /// (their subscriptions end). The last active administrator cannot be deactivated.
    async fn deactivate_agent(&self, ctx: &Context<'_>, id: ID) -> Result<Agent> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        me.require_admin()?;
        let id = parse_id(&id, "id")?;
        let agent = agents::deactivate(&state.db, &actor, id).await?;
        revoke(state, of_agent(id)).await;
        Ok(Agent(agent))
    }

    /// Gives an agent another role (administrators only). An ADMIN made an AGENT sees only
    /// the Pages it is a member of, at once: its subscriptions to other Pages end. The last
    /// active administrator cannot be demoted.
    async fn set_agent_role(&self, ctx: &Context<'_>, id: ID, role: AgentRole) -> Result<Agent> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        me.require_admin()?;
        let id = parse_id(&id, "id")?;
        let agent = agents::set_role(&state.db, &actor, id, role.into()).await?;
        revoke(state, of_agent(id)).await;
        Ok(Agent(agent))
    }

    /// Gives an agent a new password (administrators only): `password` (10 to 200
    /// characters) as chosen, or without it a generated one, answered once in `password`
    /// for the administrator to hand on. Every session of the agent ends at once (its
    /// subscriptions too), except the caller's own when administrators reset their own
    /// password; its API tokens go on. A deactivated agent's is refused (BAD_USER_INPUT).
    async fn reset_agent_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(secret)] password: Option<String>,
    ) -> Result<ResetPasswordPayload> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        me.require_admin()?;
        let id = parse_id(&id, "id")?;
        let keep = match me.credential {
            Credential::Session { id: session, .. } if me.agent.id == id => Some(session),
            _ => None,
        };
        let password = password.map(Secret::new);
        let (agent, generated) =
            agents::reset_password(&state.db, &actor, id, password, keep).await?;
        revoke(state, of_agent(id)).await;
        Ok(ResetPasswordPayload {
            agent: Agent(agent),
            password: generated.map(|secret| secret.expose().to_owned()),
        })
    }

    /// A long-lived token for an integration, limited to `pageIds`.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        name: String,
        page_ids: Vec<ID>,
    ) -> Result<ApiTokenPayload> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let page_ids: Vec<String> = page_ids.into_iter().map(|id| id.0).collect();
        let (token, model) =
            auth::create_api_token(&state.db, me, &actor, &name, &page_ids).await?;
        let mut page_ids = page_ids;
        page_ids.sort();
        page_ids.dedup();
        Ok(ApiTokenPayload {
            token: token.expose().to_owned(),
            api_token: ApiToken { model, page_ids },
        })
    }

    /// Revokes an API token; requests and subscriptions using it stop at once. An API token
    /// may revoke only itself (FORBIDDEN otherwise).
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let txn = crate::db::begin_write(&state.db).await?;
        auth::revoke_api_token(&txn, me, &actor, id).await?;
        txn.commit().await?;
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
