//! Signing in and out: a session token for a right email and password, revoked on logout.
//! Each sign-in, failed sign-in and sign-out is audited (the email tried, never the
//! password).
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use entity::{agent, session};

use super::accounts::normalize_email;
use super::passwords::verify_password;
use super::tokens::{SESSION_PREFIX, new_token, sha256_hex};
use super::{Credential, Principal};
use crate::config::Secret;
use crate::error::ApiError;
use crate::service::audit::{self, Action, Actor, Entry, Object, Origin};
use crate::time::now_ms;

/// How long a sign-in lasts.
pub const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;

/// Signs in: a new session token (shown once) and the agent. The session and its
/// SIGN_IN entry commit together; a refusal is audited as SIGN_IN_FAILED with the email
/// tried (and the agent, when the email is one's).
pub async fn login(
    db: &DatabaseConnection,
    email: &str,
    password: Secret,
    origin: Origin,
) -> Result<(Secret, agent::Model), ApiError> {
    let found = match normalize_email(email) {
        Ok(normalized) => {
            agent::Entity::find()
                .filter(agent::Column::Email.eq(normalized.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let hash = found.as_ref().and_then(|a| a.password_hash.clone());
    let invalid = "invalid email or password";
    if !verify_password(password, hash).await {
        return Err(refused(db, email, origin, found.as_ref(), invalid).await);
    }
    let Some(agent) = found else {
        return Err(refused(db, email, origin, None, invalid).await);
    };
    // Said only to whoever knows the password.
    if agent.deactivated_at.is_some() {
        let why = "this agent was deactivated; ask an administrator";
        return Err(refused(db, email, origin, Some(&agent), why).await);
    }
    let token = new_token(SESSION_PREFIX)?;
    let now = now_ms();
    let txn = crate::db::begin_write(db).await?;
    session::ActiveModel {
        id: NotSet,
        agent_id: Set(agent.id),
        token_hash: Set(sha256_hex(token.expose())),
        expires_at: Set(now + SESSION_TTL_MS),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let entry = Entry::new(Action::SignIn).on(Object::agent(&agent));
    audit::record(&txn, &Actor::agent(&agent, origin), entry).await?;
    txn.commit().await?;
    Ok((token, agent))
}

/// Audits a refused sign-in; the error to answer (or the database's, when the entry
/// could not be written).
async fn refused(
    db: &DatabaseConnection,
    email: &str,
    origin: Origin,
    agent: Option<&agent::Model>,
    why: &'static str,
) -> ApiError {
    let mut entry = Entry::new(Action::SignInFailed);
    if let Some(agent) = agent {
        entry = entry.on(Object::agent(agent));
    }
    match audit::record(db, &Actor::anonymous(email, origin), entry).await {
        Ok(()) => ApiError::Unauthenticated(why),
        Err(err) => err.into(),
    }
}

/// Ends the caller's session (an API token is revoked with `revoke_api_token`), audited
/// as SIGN_OUT.
pub async fn logout(
    db: &impl ConnectionTrait,
    principal: &Principal,
    actor: &Actor,
) -> Result<(), ApiError> {
    if let Credential::Session { id, .. } = principal.credential {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::val(now_ms()))
            .filter(session::Column::Id.eq(id))
            .exec(db)
            .await?;
        let entry = Entry::new(Action::SignOut).on(Object::agent(&principal.agent));
        audit::record(db, actor, entry).await?;
    }
    Ok(())
}

/// Ends every session of `agent_id` but `keep` (a password reset by the agent itself
/// keeps the session it was made from). Returns how many ended.
pub async fn end_sessions(
    db: &impl ConnectionTrait,
    agent_id: i64,
    keep: Option<i64>,
) -> Result<u64, ApiError> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::val(now_ms()))
        .filter(session::Column::AgentId.eq(agent_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    Ok(update.exec(db).await?.rows_affected)
}
