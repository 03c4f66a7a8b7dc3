//! Saved replies: `savedReplies`, `createSavedReply`, `updateSavedReply`,
//! `deleteSavedReply`; thin resolvers over `service::saved_replies`.
use async_graphql::{Context, ID, Object, Result};
use sea_orm::TransactionTrait;

use entity::saved_reply;

use super::{actor, parse_id, principal};
use crate::error::ApiError;
use crate::service::{access, inbox, saved_replies};
use crate::state::AppState;
use crate::time::now_ms;

/// A Page's canned answer, inserted in the composer by typing `/` and its shortcut. The
/// text is as written: the inbox fills in `{{customer.first_name}}` and `{{agent.name}}`.
pub struct SavedReply(pub saved_reply::Model);

#[Object]
impl SavedReply {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// 1 to 30 letters, digits, `-` or `_`, without the `/`; unique on its Page whatever
    /// the case.
    async fn shortcut(&self) -> &str {
        &self.0.shortcut
    }

    /// 1 to 2000 characters.
    async fn text(&self) -> &str {
        &self.0.text
    }
}

#[derive(Default)]
pub struct SavedReplyQuery;

#[Object]
impl SavedReplyQuery {
    /// The Page's saved replies, by shortcut; empty for a Page the caller may not see.
    async fn saved_replies(&self, ctx: &Context<'_>, page_id: ID) -> Result<Vec<SavedReply>> {
        let state = ctx.data::<AppState>()?;
        let Some(page) = access::page(principal(ctx)?, &page_id)? else {
            return Ok(Vec::new());
        };
        Ok(saved_replies::list(&state.db, &page)
            .await?
            .into_iter()
            .map(SavedReply)
            .collect())
    }
}

#[derive(Default)]
pub struct SavedReplyMutation;

#[Object]
impl SavedReplyMutation {
    /// Creates a saved reply on a Page (any agent of the Page). At most 500 per Page.
    /// Live: SAVED_REPLY_CHANGED.
    async fn create_saved_reply(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        shortcut: String,
        text: String,
    ) -> Result<SavedReply> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let page = access::require_page(me, &page_id)?;
        if inbox::page(&state.db, page.id()).await?.is_none() {
            return Err(ApiError::NotFound("page").into());
        }
        let txn = state.db.begin().await?;
        let written =
            saved_replies::create(&txn, &actor, &page, &shortcut, &text, now_ms()).await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(SavedReply(written.value))
    }

    /// Changes a saved reply's shortcut or text (an argument left out stays as it is).
    /// Live: SAVED_REPLY_CHANGED.
    async fn update_saved_reply(
        &self,
        ctx: &Context<'_>,
        id: ID,
        shortcut: Option<String>,
        text: Option<String>,
    ) -> Result<SavedReply> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let found = access::require_saved_reply(&state.db, me, id).await?;
        let txn = state.db.begin().await?;
        let written =
            saved_replies::update(&txn, &actor, found, shortcut.as_deref(), text.as_deref())
                .await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(SavedReply(written.value))
    }

    /// Deletes a saved reply. Live: SAVED_REPLY_DELETED.
    async fn delete_saved_reply(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let found = access::require_saved_reply(&state.db, me, id).await?;
        let txn = state.db.begin().await?;
        let written = saved_replies::delete(&txn, &actor, found).await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(true)
    }
}
