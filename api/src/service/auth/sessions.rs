//! Signing in and out: a session token for a right email and password, revoked on logout.
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::{agent, session};

use super::accounts::normalize_email;
use super::passwords::verify_password;
use super::tokens::{SESSION_PREFIX, new_token, sha256_hex};
use super::{Credential, Principal};
use crate::config::Secret;
use crate::error::ApiError;
use crate::time::now_ms;

/// How long a sign-in lasts.
pub const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;

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
