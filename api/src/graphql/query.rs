//! Queries: thin resolvers over `service::inbox`.
use async_graphql::{Context, ID, Object, Result};

use super::parse_id;
use super::types::{
    Conversation, ConversationConnection, ConversationStatus, MessageConnection, Page,
};
use crate::error::ApiError;
use crate::service::inbox::{self, Cursor};
use crate::state::AppState;

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The Pages MessengerFlow knows.
    async fn pages(&self, ctx: &Context<'_>) -> Result<Vec<Page>> {
        let state = ctx.data::<AppState>()?;
        let pages = inbox::pages(&state.db).await?;
        Ok(pages.into_iter().map(Page::from_model).collect())
    }

    /// A Page's conversations, newest message first (a Relay connection).
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
        #[graphql(default = 5)] first: Option<i32>,
        after: Option<String>,
        status: Option<ConversationStatus>,
    ) -> Result<ConversationConnection> {
        let state = ctx.data::<AppState>()?;
        let after = after.as_deref().map(Cursor::decode).transpose()?;
        let slice = inbox::conversations(
            &state.db,
            &page_id,
            first.unwrap_or(5),
            after,
            status.map(ConversationStatus::as_str),
        )
        .await?;
        Ok(ConversationConnection::new(slice, after.is_some()))
    }

    /// One conversation, or null when there is none with this id.
    async fn conversation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Conversation>> {
        let state = ctx.data::<AppState>()?;
        let id = parse_id(&id, "id")?;
        Ok(inbox::conversation(&state.db, id).await?.map(Conversation))
    }

    /// A conversation's messages: the `last` ones before `before`, oldest first.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        #[graphql(default = 50)] last: Option<i32>,
        before: Option<String>,
    ) -> Result<MessageConnection> {
        let state = ctx.data::<AppState>()?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let before = before.as_deref().map(Cursor::decode).transpose()?;
        if inbox::conversation(&state.db, id).await?.is_none() {
            return Err(ApiError::NotFound("conversation").into());
        }
        let slice = inbox::messages(&state.db, id, last.unwrap_or(50), before).await?;
        Ok(MessageConnection::new(slice, before.is_some()))
    }
}
