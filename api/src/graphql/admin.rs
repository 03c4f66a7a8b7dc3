//! Administration as queries: the agents, the API tokens and the audit log.
use async_graphql::{Context, Object, Result};

use super::auth::{Agent, ApiToken};
use super::principal;
use super::types::AuditEntryConnection;
use crate::service::inbox::Cursor;
use crate::service::{agents, audit, auth};
use crate::state::AppState;

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Every agent, deactivated ones too (`active: false`), by name. Administrators only
    /// (FORBIDDEN otherwise; an agent sees its Pages' agents with `pageAgents`).
    async fn agents(&self, ctx: &Context<'_>) -> Result<Vec<Agent>> {
        let state = ctx.data::<AppState>()?;
        principal(ctx)?.require_admin()?;
        Ok(agents::list(&state.db)
            .await?
            .into_iter()
            .map(Agent)
            .collect())
    }

    /// API tokens, newest first, revoked ones too: every token for an administrator, its
    /// own for an agent. Signed-in agents only (an API token is FORBIDDEN). The secret
    /// itself is shown once, by `createApiToken`, never here.
    async fn api_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ApiToken>> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        Ok(auth::list_api_tokens(&state.db, me)
            .await?
            .into_iter()
            .map(|(model, page_ids)| ApiToken { model, page_ids })
            .collect())
    }

    /// The audit log, newest first (a Relay connection; `first` 1 to 100, `after` an
    /// `endCursor` of this list). Administrators only (FORBIDDEN otherwise).
    #[graphql(complexity = "super::cost::connection(first, 50, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<AuditEntryConnection> {
        let state = ctx.data::<AppState>()?;
        principal(ctx)?.require_admin()?;
        let after = after
            .as_deref()
            .map(|text| Cursor::decode_kind(text, Some(audit::CURSOR_KIND)))
            .transpose()?;
        let slice = audit::list(&state.db, first.unwrap_or(50), after).await?;
        Ok(AuditEntryConnection::new(slice, after.is_some()))
    }
}
