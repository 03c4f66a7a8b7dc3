//! A Facebook Page, and the customer writing to it.
use async_graphql::{Context, ID, Object, SimpleObject};

use entity::page;

use crate::graphql::loaders::{self, EventHead, Loaders, PageId, UnreadTotal};

/// A Facebook Page connected to (or seen by) MessengerFlow.
pub struct Page {
    id: String,
    loaded: Option<page::Model>,
}

impl Page {
    pub fn from_model(model: page::Model) -> Self {
        Self {
            id: model.id.clone(),
            loaded: Some(model),
        }
    }

    /// A Page known by id only; its other fields are read when asked for.
    pub fn by_id(id: String) -> Self {
        Self { id, loaded: None }
    }

    async fn model(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<page::Model>> {
        if let Some(model) = &self.loaded {
            return Ok(Some(model.clone()));
        }
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .load_one(PageId(self.id.clone()))
            .await
            .map_err(loaders::internal)?)
    }
}

#[Object]
impl Page {
    /// Facebook's Page id.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// Whether an access token is stored (replies and sync need one).
    async fn connected(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self
            .model(ctx)
            .await?
            .is_some_and(|p| p.access_token.is_some()))
    }

    /// Facebook refused the token (expired or revoked) or found it lacking a permission:
    /// an administrator must reconnect (`reconnectReason` says which).
    async fn needs_reconnect(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.model(ctx).await?.is_some_and(|p| p.needs_reconnect))
    }

    /// Why the Page needs reconnecting; null when it does not.
    async fn reconnect_reason(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ReconnectReason>> {
        Ok(self.model(ctx).await?.and_then(|p| {
            p.needs_reconnect.then(|| {
                if p.reconnect_reason.as_deref() == Some(page::RECONNECT_PERMISSION_MISSING) {
                    ReconnectReason::PermissionMissing
                } else {
                    ReconnectReason::TokenRefused
                }
            })
        }))
    }

    /// The Page's latest event-log position ("0" before its first event). Subscribe with
    /// `after` set to it to receive every change from now on, even across reconnects.
    async fn event_position(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let loaders = ctx.data::<Loaders>()?;
        let head = loaders
            .load_one(EventHead(self.id.clone()))
            .await
            .map_err(loaders::internal)?;
        Ok(head.unwrap_or(0).to_string())
    }

    /// Unread messages over all the Page's conversations (the sum of their
    /// `unreadCount`), loaded in a list or not. Live: every `pageEvents` event carries
    /// it as `unreadTotal`.
    async fn unread_total(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        unread_total(ctx, &self.id).await
    }

    /// The Page's name, once known (from connecting it or a sync).
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if let Some(model) = &self.loaded {
            return Ok(model.name.clone());
        }
        Ok(self.model(ctx).await?.and_then(|p| p.name))
    }
}

/// The unread total of Page `page_id` now (see `Page.unreadTotal`).
pub async fn unread_total(ctx: &Context<'_>, page_id: &str) -> async_graphql::Result<i64> {
    let loaders = ctx.data::<Loaders>()?;
    let total = loaders
        .load_one(UnreadTotal(page_id.to_owned()))
        .await
        .map_err(loaders::internal)?;
    Ok(total.unwrap_or(0))
}

/// Why a Page must be reconnected.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReconnectReason {
    /// Facebook refused the token (code 190: expired, revoked, password changed).
    TokenRefused,
    /// The token lacks a permission Facebook asked for (codes 200-299, such as 230:
    /// `pages_messaging`); reconnect granting it.
    PermissionMissing,
}

/// The person writing to the Page.
#[derive(SimpleObject)]
pub struct Customer {
    /// The page-scoped id Facebook gives the customer.
    pub psid: ID,
    pub name: Option<String>,
    /// Profile picture URL (Facebook's URLs expire).
    pub picture_url: Option<String>,
}
