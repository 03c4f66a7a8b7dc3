//! Labels: `labels`, `createLabel`, `updateLabel`, `deleteLabel`,
//! `setConversationLabels`; thin resolvers over `service::labels`.
use async_graphql::{Context, ID, Object, Result};
use sea_orm::TransactionTrait;

use entity::label;

use super::types::Conversation;
use super::{actor, parse_id, principal};
use crate::error::ApiError;
use crate::service::{access, inbox, labels};
use crate::state::AppState;
use crate::time::now_ms;

/// A Page's label, put on its conversations.
pub struct Label(pub label::Model);

#[Object]
impl Label {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// 1 to 40 characters; unique on its Page whatever the case.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// `#rrggbb`.
    async fn color(&self) -> &str {
        &self.0.color
    }
}

#[derive(Default)]
pub struct LabelQuery;

#[Object]
impl LabelQuery {
    /// The Page's labels, by name; empty for a Page the caller may not see.
    async fn labels(&self, ctx: &Context<'_>, page_id: ID) -> Result<Vec<Label>> {
        let state = ctx.data::<AppState>()?;
        let Some(page) = access::page(principal(ctx)?, &page_id)? else {
            return Ok(Vec::new());
        };
        Ok(labels::list(&state.db, &page)
            .await?
            .into_iter()
            .map(Label)
            .collect())
    }
}

#[derive(Default)]
pub struct LabelMutation;

#[Object]
impl LabelMutation {
    /// Creates a label on a Page (any agent of the Page). `name`: 1 to 40 characters,
    /// unique on the Page whatever the case; `color`: `#rrggbb` (default #6b7280). At most
    /// 200 labels per Page. Live: LABEL_CHANGED.
    async fn create_label(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        name: String,
        color: Option<String>,
    ) -> Result<Label> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let page = access::require_page(me, &page_id)?;
        // A Page id nothing was ever stored for has no labels either (an administrator
        // sees every id).
        if inbox::page(&state.db, page.id()).await?.is_none() {
            return Err(ApiError::NotFound("page").into());
        }
        let txn = state.db.begin().await?;
        let written =
            labels::create(&txn, &actor, &page, &name, color.as_deref(), now_ms()).await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(Label(written.value))
    }

    /// Renames or recolours a label (an argument left out stays as it is). Live:
    /// LABEL_CHANGED, and each conversation carrying it shows the new name.
    async fn update_label(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: Option<String>,
        color: Option<String>,
    ) -> Result<Label> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let found = access::require_label(&state.db, me, id).await?;
        let txn = state.db.begin().await?;
        let written =
            labels::update(&txn, &actor, found, name.as_deref(), color.as_deref()).await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(Label(written.value))
    }

    /// Deletes a label and takes it off every conversation. Live: LABEL_DELETED.
    async fn delete_label(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let id = parse_id(&id, "id")?;
        let found = access::require_label(&state.db, me, id).await?;
        let txn = state.db.begin().await?;
        let written = labels::delete(&txn, &actor, found).await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(true)
    }

    /// Puts exactly these labels (of the conversation's Page, at most 20) on a
    /// conversation; `[]` takes them all off. Live: CONVERSATION_UPDATED.
    async fn set_conversation_labels(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        label_ids: Vec<ID>,
    ) -> Result<Conversation> {
        let state = ctx.data::<AppState>()?;
        let (me, actor) = actor(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let label_ids = label_ids
            .iter()
            .map(|l| parse_id(l, "labelIds"))
            .collect::<Result<Vec<i64>, ApiError>>()?;
        if label_ids.len() > 100 {
            return Err(ApiError::bad_input(format!(
                "`labelIds`: a conversation carries at most {} labels",
                labels::MAX_PER_CONVERSATION
            ))
            .into());
        }
        let conversation = access::require_conversation(&state.db, me, id).await?;
        let txn = state.db.begin().await?;
        let written =
            labels::set_for_conversation(&txn, &actor, &conversation, label_ids, now_ms()).await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(Conversation::from(written.value))
    }
}
