//! Who works on which Page: members added and removed by administrators, and the agents a
//! Page's presence is about.
use std::collections::HashSet;

use sea_orm::ActiveValue::Set;
use sea_orm::TryInsertResult;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entity::{agent, page, page_member};

use super::Role;
use crate::error::ApiError;
use crate::service::access::VisiblePage;
use crate::service::audit::{self, Action, Actor, Entry, Object};
use crate::time::now_ms;

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

/// Adds an agent to a Page (administrators only), audited when it was not a member yet.
pub async fn add_page_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
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
    let Some(member) = agent::Entity::find_by_id(agent_id).one(db).await? else {
        return Err(ApiError::NotFound("agent"));
    };
    let added = page_member::Entity::insert(page_member::ActiveModel {
        page_id: Set(page_id.to_owned()),
        agent_id: Set(agent_id),
        created_at: Set(now_ms()),
    })
    .on_conflict_do_nothing_on([page_member::Column::PageId, page_member::Column::AgentId])
    .exec_without_returning(db)
    .await?;
    if matches!(added, TryInsertResult::Inserted(n) if n > 0) {
        let entry = Entry::new(Action::PageMemberAdded)
            .on(Object::agent(&member))
            .page(page_id);
        audit::record(db, actor, entry).await?;
    }
    Ok(())
}

/// Removes an agent from a Page (administrators only). True when it was a member (and
/// then audited).
pub async fn remove_page_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    page_id: &str,
    agent_id: i64,
) -> Result<bool, ApiError> {
    validate_page_id(page_id)?;
    let result = page_member::Entity::delete_many()
        .filter(page_member::Column::PageId.eq(page_id))
        .filter(page_member::Column::AgentId.eq(agent_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(false);
    }
    let object = match agent::Entity::find_by_id(agent_id).one(db).await? {
        Some(member) => Object::agent(&member),
        None => Object::new(audit::ObjectKind::Agent, agent_id, None),
    };
    let entry = Entry::new(Action::PageMemberRemoved)
        .on(object)
        .page(page_id);
    audit::record(db, actor, entry).await?;
    Ok(true)
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

/// The Pages each of `agent_ids` is a member of, by agent (sorted Page ids).
pub async fn memberships(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<String>>, sea_orm::DbErr> {
    let rows = page_member::Entity::find()
        .filter(page_member::Column::AgentId.is_in(agent_ids.iter().copied()))
        .order_by_asc(page_member::Column::PageId)
        .all(db)
        .await?;
    let mut by_agent: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for row in rows {
        by_agent.entry(row.agent_id).or_default().push(row.page_id);
    }
    Ok(by_agent)
}
