//! Connecting a Facebook Page: check its token, subscribe the app, store the token.
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::page;

use crate::config::Secret;
use crate::error::ApiError;
use crate::facebook::graph::{Failure, GraphClient, GraphError};
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
        reconnect_reason: Set(None),
    })
    .on_conflict(
        OnConflict::column(page::Column::Id)
            .update_columns([
                page::Column::Name,
                page::Column::AccessToken,
                page::Column::NeedsReconnect,
                page::Column::ConnectedAt,
                page::Column::ReconnectReason,
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
        (_, true)
            if page.reconnect_reason.as_deref() == Some(page::RECONNECT_PERMISSION_MISSING) =>
        {
            Err(ApiError::Forbidden(
                "the Page must be reconnected: its token lacks a permission Facebook asked for",
            ))
        }
        (_, true) => Err(ApiError::Forbidden(
            "the Page must be reconnected: Facebook refused its token",
        )),
        (None, false) => Err(ApiError::Forbidden("the Page is not connected yet")),
    }
}

/// Why a Page must be reconnected, from what Facebook answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReconnectReason {
    /// Code 190: the token expired or was revoked.
    TokenRefused,
    /// Codes 200-299 (230: `pages_messaging`): the token lacks a permission.
    PermissionMissing,
}

impl ReconnectReason {
    /// The reason for a Graph error, when it is one that needs a reconnection.
    pub fn of(err: &GraphError) -> Option<Self> {
        match err.failure() {
            Failure::InvalidToken => Some(Self::TokenRefused),
            Failure::PermissionMissing => Some(Self::PermissionMissing),
            _ => None,
        }
    }

    fn stored(self) -> &'static str {
        match self {
            Self::TokenRefused => page::RECONNECT_TOKEN_REFUSED,
            Self::PermissionMissing => page::RECONNECT_PERMISSION_MISSING,
        }
    }
}

/// Flags the Page for reconnection when `err` says its token was refused or lacks a
/// permission (agents see `needsReconnect` and `reconnectReason`; sends and syncs stop
/// until an administrator connects it again). Returns whether it did.
pub async fn flag_if_needed(
    db: &impl ConnectionTrait,
    page_id: &str,
    err: &GraphError,
) -> Result<bool, ApiError> {
    let Some(reason) = ReconnectReason::of(err) else {
        return Ok(false);
    };
    tracing::warn!(page_id, ?reason, "the Page must be reconnected");
    page::Entity::update_many()
        .col_expr(page::Column::NeedsReconnect, Expr::val(true))
        .col_expr(page::Column::ReconnectReason, Expr::val(reason.stored()))
        .filter(page::Column::Id.eq(page_id))
        .exec(db)
        .await?;
    Ok(true)
}
