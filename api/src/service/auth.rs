//! Who is asking: agents, sign-in sessions, integration tokens, and what each may see.
//!
//! Tokens are 32 random bytes, shown once and stored only as their SHA-256, so a leaked
//! database does not hand out sessions. Passwords are argon2id PHC strings.
use std::collections::{HashMap, HashSet};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};

use entity::{agent, api_token, api_token_page, page, page_member, session};

use crate::config::Secret;
use crate::error::ApiError;
use crate::service::access::{self, VisiblePage};
use crate::time::now_ms;

/// How long a sign-in lasts.
pub const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
const SESSION_PREFIX: &str = "mfs_";
const API_TOKEN_PREFIX: &str = "mfa_";

/// ADMIN sees every Page; AGENT the Pages it is a member of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Agent => "AGENT",
        }
    }

    pub fn parse(stored: &str) -> Self {
        if stored == "ADMIN" {
            Self::Admin
        } else {
            Self::Agent
        }
    }
}

/// How the caller proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    Session { id: i64, expires_at: i64 },
    ApiToken { id: i64 },
}

/// Which credential, without what it carries: live uses are registered under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    Session(i64),
    ApiToken(i64),
}

impl Credential {
    pub fn key(&self) -> CredentialKey {
        match self {
            Self::Session { id, .. } => CredentialKey::Session(*id),
            Self::ApiToken { id } => CredentialKey::ApiToken(*id),
        }
    }
}

/// The Pages a caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Pages(HashSet<String>),
}

/// An authenticated caller: an agent, through a session or an API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub agent: agent::Model,
    pub role: Role,
    pub credential: Credential,
    pub scope: Scope,
}

impl Principal {
    /// Whether this caller may see anything of `page_id`: for `service::access`, which
    /// decides for everyone else.
    pub(in crate::service) fn can_see(&self, page_id: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Pages(pages) => pages.contains(page_id),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && matches!(self.credential, Credential::Session { .. })
    }

    /// Fails unless the caller is an administrator signed in with a session.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only an administrator may do this"))
        }
    }
}

fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token(prefix: &str) -> Result<Secret, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("no randomness: {err}")))?;
    Ok(Secret::new(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(bytes)
    )))
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
pub async fn hash_password(password: Secret) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("hashing a password: {err}")))
    })
    .await
    .map_err(|err| ApiError::Internal(err.into()))?
}

/// Checks a password against a PHC string; `None` still spends the same effort, so an
/// unknown email takes as long to refuse as a wrong password.
async fn verify_password(password: Secret, hash: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$yMOAKGuoOYePU3Zmm+xYrhqrLApDsWvUjdxN/vBhW2U";
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY.to_owned());
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// Creates the first administrator from configuration when there is no agent at all.
pub async fn ensure_first_admin(
    db: &impl ConnectionTrait,
    email: &str,
    password: &Secret,
) -> Result<bool, ApiError> {
    if agent::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    create_agent(db, email, "Administrator", Role::Admin, password.clone()).await?;
    tracing::info!(%email, "created the first administrator");
    Ok(true)
}

/// Validates and stores a new agent.
pub async fn create_agent(
    db: &impl ConnectionTrait,
    email: &str,
    name: &str,
    role: Role,
    password: Secret,
) -> Result<agent::Model, ApiError> {
    let email = normalize_email(email)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_input(
            "`name` must be 1 to 100 printable characters",
        ));
    }
    let length = password.expose().chars().count();
    if !(10..=200).contains(&length) {
        return Err(ApiError::bad_input(
            "`password` must be 10 to 200 characters",
        ));
    }
    if agent::Entity::find()
        .filter(agent::Column::Email.eq(email.as_str()))
        .count(db)
        .await?
        > 0
    {
        return Err(ApiError::bad_input("an agent with this email exists"));
    }
    let hash = hash_password(password).await?;
    Ok(agent::ActiveModel {
        id: NotSet,
        email: Set(email),
        name: Set(name.to_owned()),
        role: Set(role.as_str().to_owned()),
        password_hash: Set(Some(hash)),
        created_at: Set(now_ms()),
        deactivated_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Lower-cased, trimmed, and shaped like an address.
pub fn normalize_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(ApiError::bad_input("`email` is not a valid address"))
    }
}

/// Signs in: a new session token (shown once) and the agent.
pub async fn login(
    db: &impl ConnectionTrait,
    email: &str,
    password: Secret,
) -> Result<(Secret, agent::Model), ApiError> {
    let invalid = || ApiError::Unauthenticated("invalid email or password");
    let email = normalize_email(email).map_err(|_| invalid())?;
    let found = agent::Entity::find()
        .filter(agent::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    let hash = found.as_ref().and_then(|a| a.password_hash.clone());
    if !verify_password(password, hash).await {
        return Err(invalid());
    }
    let agent = found.ok_or_else(invalid)?;
    // Said only to whoever knows the password.
    if agent.deactivated_at.is_some() {
        return Err(ApiError::Unauthenticated(
            "this agent was deactivated; ask an administrator",
        ));
    }
    let token = new_token(SESSION_PREFIX)?;
    let now = now_ms();
    session::ActiveModel {
        id: NotSet,
        agent_id: Set(agent.id),
        token_hash: Set(sha256_hex(token.expose())),
        expires_at: Set(now + SESSION_TTL_MS),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok((token, agent))
}

/// Ends the caller's session (an API token is revoked with `revoke_api_token`).
pub async fn logout(db: &impl ConnectionTrait, principal: &Principal) -> Result<(), ApiError> {
    if let Credential::Session { id, .. } = principal.credential {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::val(now_ms()))
            .filter(session::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

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
#[expect(clippy::too_many_lines, reason = "still to split (issue 13)")]
async fn resolve(
    db: &impl ConnectionTrait,
    grants: Vec<Grant>,
) -> Result<HashMap<CredentialKey, Principal>, ApiError> {
    let agent_ids: Vec<i64> = grants
        .iter()
        .map(|g| g.agent_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut agents: HashMap<i64, agent::Model> = HashMap::new();
    for chunk in agent_ids.chunks(IN_LIST_MAX) {
        let found = agent::Entity::find()
            .filter(agent::Column::Id.is_in(chunk.iter().copied()))
            .filter(agent::Column::DeactivatedAt.is_null())
            .all(db)
            .await?;
        agents.extend(found.into_iter().map(|a| (a.id, a)));
    }
    // Members' Pages, for the agents who are not administrators.
    let members: Vec<i64> = agents
        .values()
        .filter(|a| Role::parse(&a.role) != Role::Admin)
        .map(|a| a.id)
        .collect();
    let mut memberships: HashMap<i64, HashSet<String>> = HashMap::new();
    for chunk in members.chunks(IN_LIST_MAX) {
        let rows = page_member::Entity::find()
            .select_only()
            .column(page_member::Column::AgentId)
            .column(page_member::Column::PageId)
            .filter(page_member::Column::AgentId.is_in(chunk.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?;
        for (agent_id, page_id) in rows {
            memberships.entry(agent_id).or_default().insert(page_id);
        }
    }
    let tokens: Vec<i64> = grants
        .iter()
        .filter_map(|g| match g.credential {
            Credential::ApiToken { id } if agents.contains_key(&g.agent_id) => Some(id),
            _ => None,
        })
        .collect();
    let mut granted: HashMap<i64, HashSet<String>> = HashMap::new();
    for chunk in tokens.chunks(IN_LIST_MAX) {
        let rows = api_token_page::Entity::find()
            .select_only()
            .column(api_token_page::Column::TokenId)
            .column(api_token_page::Column::PageId)
            .filter(api_token_page::Column::TokenId.is_in(chunk.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?;
        for (token_id, page_id) in rows {
            granted.entry(token_id).or_default().insert(page_id);
        }
    }
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
            // Never more than its creator may see now.
            Credential::ApiToken { id } => {
                let pages = granted.remove(&id).unwrap_or_default();
                Scope::Pages(match agent_scope {
                    Scope::All => pages,
                    Scope::Pages(mine) => pages.intersection(&mine).cloned().collect(),
                })
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

/// A token for an integration, limited to `page_ids` (all of which the caller must see).
pub async fn create_api_token(
    db: &DatabaseConnection,
    principal: &Principal,
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
    let txn = db.begin().await?;
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
    let unique: HashSet<&String> = page_ids.iter().collect();
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
/// other integrations.
pub async fn revoke_api_token(
    db: &impl ConnectionTrait,
    principal: &Principal,
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
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(now_ms()));
    Ok(active.update(db).await?)
}

/// Facebook Page ids are digits; ours in tests too. Anything else is refused early.
pub fn validate_page_id(page_id: &str) -> Result<(), ApiError> {
    let ok = !page_id.is_empty()
        && page_id.len() <= 64
        && page_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input("`pageId` is not a valid Page id"))
    }
}

/// Adds an agent to a Page (administrators only).
pub async fn add_page_member(
    db: &impl ConnectionTrait,
    page_id: &str,
    agent_id: i64,
) -> Result<(), ApiError> {
    validate_page_id(page_id)?;
    if page::Entity::find_by_id(page_id.to_owned())
        .count(db)
        .await?
        == 0
    {
        return Err(ApiError::NotFound("page"));
    }
    if agent::Entity::find_by_id(agent_id).count(db).await? == 0 {
        return Err(ApiError::NotFound("agent"));
    }
    page_member::Entity::insert(page_member::ActiveModel {
        page_id: Set(page_id.to_owned()),
        agent_id: Set(agent_id),
        created_at: Set(now_ms()),
    })
    .on_conflict_do_nothing_on([page_member::Column::PageId, page_member::Column::AgentId])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Removes an agent from a Page (administrators only). True when it was a member.
pub async fn remove_page_member(
    db: &impl ConnectionTrait,
    page_id: &str,
    agent_id: i64,
) -> Result<bool, ApiError> {
    validate_page_id(page_id)?;
    let result = page_member::Entity::delete_many()
        .filter(page_member::Column::PageId.eq(page_id))
        .filter(page_member::Column::AgentId.eq(agent_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The agents who work on a Page: its members and every administrator.
pub async fn page_agents(
    db: &impl ConnectionTrait,
    page: &VisiblePage,
) -> Result<Vec<agent::Model>, ApiError> {
    let page_id = page.id();
    let members: HashSet<i64> = page_member::Entity::find()
        .select_only()
        .column(page_member::Column::AgentId)
        .filter(page_member::Column::PageId.eq(page_id))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(agent::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|a| members.contains(&a.id) || Role::parse(&a.role) == Role::Admin)
        .collect())
}
