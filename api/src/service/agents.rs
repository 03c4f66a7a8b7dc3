//! Administering agents: listing them, deactivating, changing roles and resetting
//! passwords, never leaving the inbox without an active administrator. Each change is
//! audited in its transaction.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use entity::{agent, api_token, session};

use crate::config::Secret;
use crate::error::ApiError;
use crate::service::audit::{self, Action, Actor, Entry, Object};
use crate::service::auth::{self, Role};
use crate::time::now_ms;

/// Every agent, deactivated ones too, by name (administrators only: the resolver checks).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<agent::Model>, ApiError> {
    Ok(agent::Entity::find()
        .order_by_asc(agent::Column::Name)
        .order_by_asc(agent::Column::Id)
        .all(db)
        .await?)
}

/// Deactivates an agent: it can no longer sign in, and its sessions and API tokens are
/// revoked. Deactivating a deactivated agent changes nothing.
pub async fn deactivate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<agent::Model, ApiError> {
    let txn = lock_administrators(db).await?;
    let target = find(&txn, id).await?;
    if target.deactivated_at.is_some() {
        return Ok(target);
    }
    let now = now_ms();
    agent::Entity::update_many()
        .col_expr(agent::Column::DeactivatedAt, Expr::val(now))
        .filter(agent::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::val(now))
        .filter(session::Column::AgentId.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::val(now))
        .filter(api_token::Column::AgentId.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    require_an_administrator(&txn, "deactivated").await?;
    let updated = find(&txn, id).await?;
    let entry = Entry::new(Action::AgentDeactivated).on(Object::agent(&updated));
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Gives an agent another role. An administrator made an AGENT sees only the Pages it is
/// a member of.
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    role: Role,
) -> Result<agent::Model, ApiError> {
    let txn = lock_administrators(db).await?;
    let target = find(&txn, id).await?;
    if Role::parse(&target.role) == role {
        return Ok(target);
    }
    agent::Entity::update_many()
        .col_expr(agent::Column::Role, Expr::val(role.as_str()))
        .filter(agent::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    require_an_administrator(&txn, "demoted").await?;
    let updated = find(&txn, id).await?;
    let entry = Entry::new(Action::AgentRoleChanged)
        .on(Object::agent(&updated))
        .change(Some(target.role), Some(role.as_str().to_owned()));
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Gives an agent a new password: `password` as an administrator chose it, or, without
/// one, a generated one (returned, to be shown once). Every session of the agent ends but
/// `keep` (the caller's own, when administrators reset their own password); its API
/// tokens go on. A deactivated agent's password is not reset.
pub async fn reset_password(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    password: Option<Secret>,
    keep: Option<i64>,
) -> Result<(agent::Model, Option<Secret>), ApiError> {
    let (new, generated) = match password {
        Some(given) => {
            auth::check_password(&given)?;
            (given, None)
        }
        None => {
            let made = auth::generate_password()?;
            (made.clone(), Some(made))
        }
    };
    let target = agent::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("agent"))?;
    if target.deactivated_at.is_some() {
        return Err(ApiError::bad_input(
            "this agent is deactivated: its password cannot be reset",
        ));
    }
    let how = if generated.is_some() {
        "GENERATED"
    } else {
        "CHOSEN"
    };
    let hash = auth::hash_password(new).await?;
    let txn = crate::db::begin_write(db).await?;
    agent::Entity::update_many()
        .col_expr(agent::Column::PasswordHash, Expr::val(hash))
        .filter(agent::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    auth::end_sessions(&txn, id, keep).await?;
    let entry = Entry::new(Action::AgentPasswordReset)
        .on(Object::agent(&target))
        .change(None, Some(how.to_owned()));
    audit::record(&txn, actor, entry).await?;
    txn.commit().await?;
    Ok((target, generated))
}

/// A transaction that has locked the active administrators' rows, so that two
/// administrators demoting (or deactivating) each other at once cannot both succeed: the
/// second waits for the first and then counts what it left. A write as the first statement
/// also takes SQLite's write lock up front, instead of upgrading a read lock later.
async fn lock_administrators(db: &DatabaseConnection) -> Result<DatabaseTransaction, ApiError> {
    let txn = crate::db::begin_write(db).await?;
    agent::Entity::update_many()
        .col_expr(agent::Column::Role, Expr::col(agent::Column::Role))
        .filter(agent::Column::Role.eq(Role::Admin.as_str()))
        .filter(agent::Column::DeactivatedAt.is_null())
        .exec(&txn)
        .await?;
    Ok(txn)
}

async fn find(txn: &DatabaseTransaction, id: i64) -> Result<agent::Model, ApiError> {
    agent::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("agent"))
}

/// Fails (and so rolls back the change) when no active administrator would be left.
async fn require_an_administrator(txn: &DatabaseTransaction, what: &str) -> Result<(), ApiError> {
    let left = agent::Entity::find()
        .filter(agent::Column::Role.eq(Role::Admin.as_str()))
        .filter(agent::Column::DeactivatedAt.is_null())
        .count(txn)
        .await?;
    if left == 0 {
        return Err(ApiError::bad_input(format!(
            "the last active administrator cannot be {what}: make another agent ADMIN first"
        )));
    }
    Ok(())
}
