//! Agents as accounts: the first administrator from configuration, new agents with a
//! checked name, email and password.
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

use entity::agent;

use super::Role;
use super::passwords::hash_password;
use crate::config::Secret;
use crate::error::ApiError;
use crate::service::audit::{self, Action, Actor, Entry, Object};
use crate::time::now_ms;

/// Creates the first administrator from configuration when there is no agent at all
/// (audited as created by nobody: MessengerFlow itself).
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    email: &str,
    password: &Secret,
) -> Result<bool, ApiError> {
    if agent::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let txn = crate::db::begin_write(db).await?;
    let nobody = Actor::default();
    create_agent(
        &txn,
        &nobody,
        email,
        "Administrator",
        Role::Admin,
        password.clone(),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(%email, "created the first administrator");
    Ok(true)
}

/// Validates and stores a new agent, and audits it as `actor`'s.
pub async fn create_agent(
    db: &impl ConnectionTrait,
    actor: &Actor,
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
    check_password(&password)?;
    if agent::Entity::find()
        .filter(agent::Column::Email.eq(email.as_str()))
        .count(db)
        .await?
        > 0
    {
        return Err(ApiError::bad_input("an agent with this email exists"));
    }
    let hash = hash_password(password).await?;
    let created = agent::ActiveModel {
        id: NotSet,
        email: Set(email),
        name: Set(name.to_owned()),
        role: Set(role.as_str().to_owned()),
        password_hash: Set(Some(hash)),
        created_at: Set(now_ms()),
        deactivated_at: Set(None),
    }
    .insert(db)
    .await?;
    let entry = Entry::new(Action::AgentCreated)
        .on(Object::agent(&created))
        .change(None, Some(role.as_str().to_owned()));
    audit::record(db, actor, entry).await?;
    Ok(created)
}

/// Checks a new password: 10 to 200 characters.
pub fn check_password(password: &Secret) -> Result<(), ApiError> {
    let length = password.expose().chars().count();
    if (10..=200).contains(&length) {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "`password` must be 10 to 200 characters",
        ))
    }
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
