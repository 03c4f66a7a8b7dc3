//! Private notes' resolvers: `addNote` and `mentions` (a conversation's notes are
//! `Conversation.notes`). Thin, over `service::notes`.
use async_graphql::{Context, ID, Object, Result};
use sea_orm::TransactionTrait;

use super::types::{Note, NoteConnection};
use super::{parse_id, principal};
use crate::service::inbox::Cursor;
use crate::service::{access, notes};
use crate::state::AppState;
use crate::time::now_ms;

/// The notes' queries (merged into `QueryRoot`).
#[derive(Default)]
pub struct NotesQuery;

#[Object]
impl NotesQuery {
    /// The notes that mention the signed-in agent (for an API token, its creator), on the
    /// Pages the caller may see, newest first: `first` (1 to 100) after the cursor `after`.
    #[graphql(complexity = "super::cost::connection(first, 20, child_complexity)")]
    async fn mentions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<NoteConnection> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let after = after.as_deref().map(Cursor::decode).transpose()?;
        let slice = notes::mentions(&state.db, me, first.unwrap_or(20), after).await?;
        Ok(NoteConnection::new(slice, after.is_some(), false))
    }
}

/// The notes' mutations (merged into `MutationRoot`).
#[derive(Default)]
pub struct NotesMutation;

#[Object]
impl NotesMutation {
    /// Adds a private note to a conversation, for the Page's agents only: it is never sent
    /// to Facebook, so the messaging window does not apply. `text` is trimmed, 1 to 4000
    /// characters; `@name` mentions an agent of the Page (see the README's "Private
    /// notes"). Every agent of the Page gets it as NOTE_ADDED on `pageEvents`.
    async fn add_note(&self, ctx: &Context<'_>, conversation_id: ID, text: String) -> Result<Note> {
        let state = ctx.data::<AppState>()?;
        let me = principal(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        notes::check_text(&text)?;
        let conversation = access::require_conversation(&state.db, me, id).await?;
        let txn = state.db.begin().await?;
        let written = notes::add(&txn, &conversation, me.agent.id, &text, now_ms()).await?;
        state.outbox.commit(txn, written.changes).await?;
        Ok(Note::from(written.value))
    }
}
