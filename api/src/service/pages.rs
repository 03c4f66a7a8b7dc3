//! Connecting a Facebook Page: check its token, subscribe the app, store the token.
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use entity::page;

use crate::config::{Config, Secret};
use crate::error::{ApiError, PageTokenProblem, TokenInvalid};
use crate::facebook::graph::{Failure, GraphClient, GraphError, TokenInfo, codes};
use crate::service::audit::{self, Action, Actor, Entry, Object, ObjectKind};
use crate::service::auth::validate_page_id;
use crate::time::now_ms;

/// The permissions a Page token must carry, and what each is for:
/// `pages_messaging` (the Send API and the Conversations API), `pages_manage_metadata`
/// (`subscribed_apps`: the webhooks), `pages_read_engagement` (reading the Page's
/// conversations and customers' profiles).
pub const REQUIRED_PERMISSIONS: &[&str] = &[
    "pages_messaging",
    "pages_manage_metadata",
    "pages_read_engagement",
];

/// The app access token `{app-id}|{app-secret}` that `debug_token` is asked with, when both
/// are configured.
pub fn app_token(config: &Config) -> Option<Secret> {
    let id = config.fb_app_id.as_deref()?;
    let secret = config.fb_app_secret.as_ref()?;
    Some(Secret::new(format!("{id}|{}", secret.expose())))
}

/// Checks `token` (`debug_token`, `/me`, `/me/permissions`), subscribes the app to the
/// Page's events, and stores the token (never readable back through the API). A token that
/// is expired, invalid, of another Page or short of a permission is refused with a code
/// saying which, and nothing changes.
pub async fn connect(
    db: &DatabaseConnection,
    actor: &Actor,
    graph: &GraphClient,
    page_id: &str,
    token: Secret,
    app_token: Option<&Secret>,
) -> Result<page::Model, ApiError> {
    validate_page_id(page_id)?;
    if token.expose().trim().is_empty() || token.expose().len() > 1024 {
        return Err(ApiError::bad_input(
            "`accessToken` is not a Page access token",
        ));
    }
    let inspected = inspect(graph, page_id, &token, app_token).await?;
    let identity = graph.me(&token).await.map_err(refused)?;
    if identity.id != page_id {
        return Err(other_page());
    }
    check_permissions(graph, &token, inspected.as_ref()).await?;
    graph
        .subscribe_app(page_id, &token)
        .await
        .map_err(|err| ApiError::GraphApi(err.to_string()))?;
    let now = now_ms();
    // The Page and its PAGE_CONNECTED entry commit together.
    let txn = crate::db::begin_write(db).await?;
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
    .exec_without_returning(&txn)
    .await?;
    let object = Object::new(ObjectKind::Page, page_id, identity.name.clone());
    let entry = Entry::new(Action::PageConnected).on(object).page(page_id);
    audit::record(&txn, actor, entry).await?;
    let connected = page::Entity::find_by_id(page_id.to_owned())
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("page"))?;
    txn.commit().await?;
    tracing::info!(page_id, name = ?identity.name, "page connected");
    Ok(connected)
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

fn other_page() -> ApiError {
    ApiError::bad_input("this access token belongs to another Page")
}

/// What a 190 answer's subcode says about the token.
fn token_problem(subcode: Option<i64>) -> PageTokenProblem {
    match subcode {
        Some(463) => PageTokenProblem::Expired,
        Some(460) => PageTokenProblem::Invalid(TokenInvalid::PasswordChanged),
        Some(458) => PageTokenProblem::Invalid(TokenInvalid::AppRemoved),
        Some(466) => PageTokenProblem::Invalid(TokenInvalid::Invalidated),
        Some(467) => PageTokenProblem::Invalid(TokenInvalid::LoggedOut),
        _ => PageTokenProblem::Invalid(TokenInvalid::Unrecognised),
    }
}

/// A Graph error of a call made with the Page token.
fn refused(err: GraphError) -> ApiError {
    match err {
        GraphError::Api {
            code: codes::INVALID_TOKEN,
            subcode,
            ..
        } => ApiError::PageToken(token_problem(subcode)),
        other => ApiError::GraphApi(other.to_string()),
    }
}

/// `debug_token`: refuses an invalid, expired, non-Page or other Page's token. `None` when
/// Facebook could not be asked (the call failed for another reason, or our app token was
/// refused): the checks that follow still catch a bad token, with less detail.
async fn inspect(
    graph: &GraphClient,
    page_id: &str,
    token: &Secret,
    app_token: Option<&Secret>,
) -> Result<Option<TokenInfo>, ApiError> {
    let info = match graph.debug_token(token, app_token.unwrap_or(token)).await {
        Ok(info) => info,
        Err(err) if err.is_invalid_token() && app_token.is_none() => return Err(refused(err)),
        Err(err) => {
            tracing::warn!(error = %err, "debug_token failed; checking the Page token without it");
            return Ok(None);
        }
    };
    if !info.is_valid {
        let subcode = info.error.as_ref().and_then(|e| e.subcode);
        return Err(ApiError::PageToken(token_problem(subcode)));
    }
    if info.kind.as_deref().is_some_and(|kind| kind != "PAGE") {
        return Err(ApiError::PageToken(PageTokenProblem::Invalid(
            TokenInvalid::NotAPageToken,
        )));
    }
    if info.profile_id.as_deref().is_some_and(|id| id != page_id) {
        return Err(other_page());
    }
    Ok(Some(info))
}

/// Every permission of [`REQUIRED_PERMISSIONS`] granted, from `/me/permissions` (or
/// `debug_token`'s scopes when Graph does not answer it); otherwise `MISSING_PERMISSIONS`
/// naming each one missing.
async fn check_permissions(
    graph: &GraphClient,
    token: &Secret,
    inspected: Option<&TokenInfo>,
) -> Result<(), ApiError> {
    let (granted, declined): (Vec<String>, Vec<String>) = match graph.permissions(token).await {
        Ok(list) => {
            let with = |status: &str| {
                list.iter()
                    .filter(|p| p.status == status)
                    .map(|p| p.permission.clone())
                    .collect()
            };
            (with("granted"), with("declined"))
        }
        Err(err) if err.is_invalid_token() => return Err(refused(err)),
        Err(err) => match inspected {
            Some(info) => (info.scopes.clone(), Vec::new()),
            None => {
                tracing::warn!(error = %err, "the Page token's permissions could not be read");
                return Ok(());
            }
        },
    };
    let missing: Vec<(String, bool)> = REQUIRED_PERMISSIONS
        .iter()
        .filter(|needed| !granted.iter().any(|g| g == *needed))
        .map(|needed| ((*needed).to_owned(), declined.iter().any(|d| d == needed)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::PageToken(PageTokenProblem::MissingPermissions(
            missing,
        )))
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
