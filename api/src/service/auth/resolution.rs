//! From a credential to a [`Principal`]: which agent, with which role, seeing which Pages.
//! The one place that turns stored rows into a caller's role and scope, for one bearer
//! token or for every live connection's credential at once.
use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::{agent, api_token, api_token_page, page_member, session};

use super::tokens::{API_TOKEN_PREFIX, SESSION_PREFIX, sha256_hex};
use super::{Credential, CredentialKey, Principal, Role, Scope};
use crate::error::ApiError;
use crate::time::now_ms;

/// Resolves a bearer token to its principal; `None` when unknown, revoked or expired, or
/// when its agent was deactivated.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<Principal>, ApiError> {
    let token = token.trim();
    if token.len() > 200 {
        return Ok(None);
    }
    let hash = sha256_hex(token);
    let grant = if token.starts_with(SESSION_PREFIX) {
        session::Entity::find()
            .filter(session::Column::TokenHash.eq(hash))
            .one(db)
            .await?
            .and_then(|session| Grant::of_session(&session, now_ms()))
    } else if token.starts_with(API_TOKEN_PREFIX) {
        api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(hash))
            .one(db)
            .await?
            .and_then(|token| Grant::of_api_token(&token))
    } else {
        None
    };
    let Some(grant) = grant else {
        return Ok(None);
    };
    let key = grant.credential.key();
    Ok(resolve(db, vec![grant]).await?.remove(&key))
}

/// What each of these credentials is worth now, as `authenticate` would answer: a
/// credential missing from the answer no longer works (revoked, logged out, expired, its
/// agent gone or deactivated). A few queries for any number of credentials, so that every
/// live connection can be re-checked every second.
pub async fn recheck(
    db: &impl ConnectionTrait,
    keys: &[CredentialKey],
) -> Result<HashMap<CredentialKey, Principal>, ApiError> {
    let sessions: Vec<i64> = keys
        .iter()
        .filter_map(|key| match key {
            CredentialKey::Session(id) => Some(*id),
            CredentialKey::ApiToken(_) => None,
        })
        .collect();
    let tokens: Vec<i64> = keys
        .iter()
        .filter_map(|key| match key {
            CredentialKey::ApiToken(id) => Some(*id),
            CredentialKey::Session(_) => None,
        })
        .collect();
    let now = now_ms();
    let mut grants = Vec::with_capacity(keys.len());
    for chunk in sessions.chunks(IN_LIST_MAX) {
        let found = session::Entity::find()
            .filter(session::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        grants.extend(found.iter().filter_map(|s| Grant::of_session(s, now)));
    }
    for chunk in tokens.chunks(IN_LIST_MAX) {
        let found = api_token::Entity::find()
            .filter(api_token::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        grants.extend(found.iter().filter_map(Grant::of_api_token));
    }
    resolve(db, grants).await
}

/// Ids per `IN (...)` list: well under SQLite's and PostgreSQL's limits on parameters.
const IN_LIST_MAX: usize = 500;

/// A credential that is itself still valid (not revoked, not expired), before its agent
/// and Pages are looked at.
struct Grant {
    credential: Credential,
    agent_id: i64,
}

impl Grant {
    fn of_session(session: &session::Model, now: i64) -> Option<Self> {
        (session.revoked_at.is_none() && session.expires_at > now).then_some(Self {
            credential: Credential::Session {
                id: session.id,
                expires_at: session.expires_at,
            },
            agent_id: session.agent_id,
        })
    }

    fn of_api_token(token: &api_token::Model) -> Option<Self> {
        token.revoked_at.is_none().then_some(Self {
            credential: Credential::ApiToken { id: token.id },
            agent_id: token.agent_id,
        })
    }
}

/// The principals of valid credentials: their active agents, with the Pages each may see.
/// This is the one place that turns stored rows into a caller's role and scope.
async fn resolve(
    db: &impl ConnectionTrait,
    grants: Vec<Grant>,
) -> Result<HashMap<CredentialKey, Principal>, ApiError> {
    let agents = active_agents(db, &grants).await?;
    // Members' Pages, for the agents who are not administrators.
    let members: Vec<i64> = agents
        .values()
        .filter(|a| Role::parse(&a.role) != Role::Admin)
        .map(|a| a.id)
        .collect();
    let memberships = pages_of::<page_member::Entity>(
        db,
        page_member::Column::AgentId,
        page_member::Column::PageId,
        &members,
    )
    .await?;
    let tokens: Vec<i64> = grants
        .iter()
        .filter_map(|g| match g.credential {
            Credential::ApiToken { id } if agents.contains_key(&g.agent_id) => Some(id),
            _ => None,
        })
        .collect();
    let mut granted = pages_of::<api_token_page::Entity>(
        db,
        api_token_page::Column::TokenId,
        api_token_page::Column::PageId,
        &tokens,
    )
    .await?;
    let mut principals = HashMap::with_capacity(grants.len());
    for grant in grants {
        let Some(agent) = agents.get(&grant.agent_id) else {
            continue;
        };
        let role = Role::parse(&agent.role);
        let agent_scope = match role {
            Role::Admin => Scope::All,
            Role::Agent => Scope::Pages(memberships.get(&agent.id).cloned().unwrap_or_default()),
        };
        let scope = match grant.credential {
            Credential::Session { .. } => agent_scope,
            Credential::ApiToken { id } => {
                token_scope(granted.remove(&id).unwrap_or_default(), agent_scope)
            }
        };
        principals.insert(
            grant.credential.key(),
            Principal {
                agent: agent.clone(),
                role,
                credential: grant.credential,
                scope,
            },
        );
    }
    Ok(principals)
}

/// The agents of `grants` that are still active, by id.
async fn active_agents(
    db: &impl ConnectionTrait,
    grants: &[Grant],
) -> Result<HashMap<i64, agent::Model>, ApiError> {
    let agent_ids: Vec<i64> = grants
        .iter()
        .map(|g| g.agent_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut agents = HashMap::new();
    for chunk in agent_ids.chunks(IN_LIST_MAX) {
        let found = agent::Entity::find()
            .filter(agent::Column::Id.is_in(chunk.iter().copied()))
            .filter(agent::Column::DeactivatedAt.is_null())
            .all(db)
            .await?;
        agents.extend(found.into_iter().map(|a| (a.id, a)));
    }
    Ok(agents)
}

/// The Pages of each of `ids`, from a table of `(key, page)` pairs: an agent's
/// memberships, or the Pages an API token was made for.
async fn pages_of<E: EntityTrait>(
    db: &impl ConnectionTrait,
    key: E::Column,
    page: E::Column,
    ids: &[i64],
) -> Result<HashMap<i64, HashSet<String>>, ApiError> {
    let mut pages: HashMap<i64, HashSet<String>> = HashMap::new();
    for chunk in ids.chunks(IN_LIST_MAX) {
        let rows = E::find()
            .select_only()
            .column(key)
            .column(page)
            .filter(key.is_in(chunk.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?;
        for (id, page_id) in rows {
            pages.entry(id).or_default().insert(page_id);
        }
    }
    Ok(pages)
}

/// What an API token may see: the Pages it was made for, never more than its creator
/// may see now.
fn token_scope(pages: HashSet<String>, creator: Scope) -> Scope {
    Scope::Pages(match creator {
        Scope::All => pages,
        Scope::Pages(mine) => pages.intersection(&mine).cloned().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn an_api_token_sees_its_pages_that_its_creator_still_sees() {
        let made_for = pages(&["1", "2"]);

        let of_admin = token_scope(made_for.clone(), Scope::All);
        let of_member = token_scope(made_for, Scope::Pages(pages(&["2", "3"])));

        assert_eq!(of_admin, Scope::Pages(pages(&["1", "2"])));
        assert_eq!(of_member, Scope::Pages(pages(&["2"])));
    }
}
