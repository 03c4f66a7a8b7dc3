//! Integrations' API tokens: created by a signed-in agent for some of its Pages, revoked by
//! their owner, an administrator, or themselves.
use std::collections::BTreeSet;

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use entity::{api_token, api_token_page, page};

use super::tokens::{API_TOKEN_PREFIX, new_token, sha256_hex};
use super::{Credential, Principal};
use crate::config::Secret;
use crate::error::ApiError;
use crate::service::access;
use crate::service::audit::{self, Action, Actor, Entry, Object};
use crate::time::now_ms;

/// A token for an integration, limited to `page_ids` (all of which the caller must see).
pub async fn create_api_token(
    db: &DatabaseConnection,
    principal: &Principal,
    actor: &Actor,
    name: &str,
    page_ids: &[String],
) -> Result<(Secret, api_token::Model), ApiError> {
    if !matches!(principal.credential, Credential::Session { .. }) {
        return Err(ApiError::Forbidden(
            "API tokens are created by a signed-in agent",
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_input(
            "`name` must be 1 to 100 printable characters",
        ));
    }
    if page_ids.is_empty() || page_ids.len() > 100 {
        return Err(ApiError::bad_input("`pageIds` must name 1 to 100 Pages"));
    }
    for page_id in page_ids {
        let visible = access::page(principal, page_id)?;
        let exists = page::Entity::find_by_id(page_id.clone()).count(db).await? > 0;
        if !exists || visible.is_none() {
            return Err(ApiError::NotFound("page"));
        }
    }
    let token = new_token(API_TOKEN_PREFIX)?;
    let txn = crate::db::begin_write(db).await?;
    let model = api_token::ActiveModel {
        id: NotSet,
        agent_id: Set(principal.agent.id),
        name: Set(name.to_owned()),
        token_hash: Set(sha256_hex(token.expose())),
        revoked_at: Set(None),
        created_at: Set(now_ms()),
    }
    .insert(&txn)
    .await?;
    let unique: BTreeSet<&String> = page_ids.iter().collect();
    let scope: Vec<&str> = unique.iter().map(|id| id.as_str()).collect();
    let entry = Entry::new(Action::ApiTokenCreated)
        .on(Object::api_token(&model))
        .change(None, Some(scope.join(",")));
    audit::record(&txn, actor, entry).await?;
    api_token_page::Entity::insert_many(unique.into_iter().map(|page_id| {
        api_token_page::ActiveModel {
            token_id: Set(model.id),
            page_id: Set(page_id.clone()),
        }
    }))
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok((token, model))
}

/// Revokes an API token of the caller's (any, for an administrator). An integration may
/// revoke its own token, never another: a leaked token must not be able to cut off the
/// other integrations. Revoking a revoked token changes (and audits) nothing.
pub async fn revoke_api_token(
    db: &impl ConnectionTrait,
    principal: &Principal,
    actor: &Actor,
    id: i64,
) -> Result<api_token::Model, ApiError> {
    if let Credential::ApiToken { id: own } = principal.credential
        && own != id
    {
        return Err(ApiError::Forbidden(
            "an API token may revoke only itself; sign in to revoke other tokens",
        ));
    }
    let found = api_token::Entity::find_by_id(id).one(db).await?;
    let Some(token) = found.filter(|t| principal.is_admin() || t.agent_id == principal.agent.id)
    else {
        return Err(ApiError::NotFound("API token"));
    };
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let object = Object::api_token(&token);
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(now_ms()));
    let revoked = active.update(db).await?;
    audit::record(db, actor, Entry::new(Action::ApiTokenRevoked).on(object)).await?;
    Ok(revoked)
}

/// The API tokens the caller may administer, newest first, each with its Pages: every
/// token for an administrator, its own for an agent (revoked ones too). An API token
/// lists none (FORBIDDEN): a leaked one must not learn of the others.
pub async fn list_api_tokens(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<Vec<(api_token::Model, Vec<String>)>, ApiError> {
    if !matches!(principal.credential, Credential::Session { .. }) {
        return Err(ApiError::Forbidden(
            "API tokens are listed by a signed-in agent",
        ));
    }
    let mut query = api_token::Entity::find().order_by_desc(api_token::Column::Id);
    if !principal.is_admin() {
        query = query.filter(api_token::Column::AgentId.eq(principal.agent.id));
    }
    let tokens = query.all(db).await?;
    let ids: Vec<i64> = tokens.iter().map(|t| t.id).collect();
    let mut pages: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for chunk in ids.chunks(500) {
        let rows = api_token_page::Entity::find()
            .filter(api_token_page::Column::TokenId.is_in(chunk.iter().copied()))
            .order_by_asc(api_token_page::Column::PageId)
            .all(db)
            .await?;
        for row in rows {
            pages.entry(row.token_id).or_default().push(row.page_id);
        }
    }
    Ok(tokens
        .into_iter()
        .map(|t| {
            let page_ids = pages.remove(&t.id).unwrap_or_default();
            (t, page_ids)
        })
        .collect())
}
