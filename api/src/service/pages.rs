//! Connecting a Facebook Page: check its token, subscribe the app, store the token.
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait};

use entity::page;

use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::graph::GraphClient;
use crate::service::auth::validate_page_id;
use crate::time::now_ms;

/// Checks `token` with `/me`, subscribes the app to the Page's events, and stores the
/// token (never readable back through the API).
pub async fn connect(
    db: &impl ConnectionTrait,
    graph: &GraphClient,
    page_id: &str,
    token: Secret,
) -> Result<page::Model, ApiError> {
    validate_page_id(page_id)?;
    if token.expose().trim().is_empty() || token.expose().len() > 1024 {
        return Err(ApiError::bad_input(
            "`accessToken` is not a Page access token",
        ));
    }
    let identity = graph.me(&token).await.map_err(|err| {
        if err.is_invalid_token() {
            ApiError::bad_input("Facebook refused this access token")
        } else {
            ApiError::GraphApi(err.to_string())
        }
    })?;
    if identity.id != page_id {
        return Err(ApiError::bad_input(
            "this access token belongs to another Page",
        ));
    }
    graph
        .subscribe_app(page_id, &token)
        .await
        .map_err(|err| ApiError::GraphApi(err.to_string()))?;
    let now = now_ms();
    page::Entity::insert(page::ActiveModel {
        id: Set(page_id.to_owned()),
        name: Set(identity.name.clone()),
        created_at: Set(now),
        access_token: Set(Some(token.expose().to_owned())),
        needs_reconnect: Set(false),
        connected_at: Set(Some(now)),
    })
    .on_conflict(
        OnConflict::column(page::Column::Id)
            .update_columns([
                page::Column::Name,
                page::Column::AccessToken,
                page::Column::NeedsReconnect,
                page::Column::ConnectedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    tracing::info!(page_id, name = ?identity.name, "page connected");
    page::Entity::find_by_id(page_id.to_owned())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("page"))
}

/// The Page's token, if it is connected and Facebook has not refused it.
pub async fn token(db: &impl ConnectionTrait, page_id: &str) -> Result<Secret, ApiError> {
    let page = page::Entity::find_by_id(page_id.to_owned())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("page"))?;
    match (page.access_token, page.needs_reconnect) {
        (Some(token), false) => Ok(Secret::new(token)),
        (_, true) => Err(ApiError::Forbidden(
            "the Page must be reconnected: Facebook refused its token",
        )),
        (None, false) => Err(ApiError::Forbidden("the Page is not connected yet")),
    }
}
