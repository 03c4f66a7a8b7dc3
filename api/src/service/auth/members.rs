//! Who works on which Page: members added and removed by administrators, and the agents a
//! Page's presence is about.
use std::collections::HashSet;

use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use entity::{agent, page, page_member};

use super::Role;
use crate::error::ApiError;
use crate::service::access::VisiblePage;
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
