//! A private note, and pages of them (a conversation's, an agent's mentions).
use async_graphql::{Context, ID, Object, SimpleObject};

use entity::note;

use super::PageInfo;
use crate::error::ApiError;
use crate::graphql::auth::Agent;
use crate::graphql::voices;
use crate::service::inbox::{Cursor, Slice};
use crate::time::rfc3339;

/// What an agent wrote in a conversation for the team: never sent to the customer.
pub struct Note {
    pub model: note::Model,
    /// The event-log position that delivered it (subscriptions only).
    pub position: Option<i64>,
}

impl From<note::Model> for Note {
    fn from(model: note::Model) -> Self {
        Self {
            model,
            position: None,
        }
    }
}

#[Object]
impl Note {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The event-log position that delivered it, through a subscription (null in queries).
    async fn position(&self) -> Option<String> {
        self.position.map(|p| p.to_string())
    }

    async fn conversation_id(&self) -> ID {
        ID(self.model.conversation_id.to_string())
    }

    /// Who wrote it (for an API token, its creator).
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Agent> {
        Ok(voices::agent(ctx, Some(self.model.author_id))
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a note's author is gone")))?)
    }

    /// As written, trimmed.
    async fn text(&self) -> &str {
        &self.model.text
    }

    /// When (RFC 3339, UTC).
    async fn created_at(&self) -> String {
        rfc3339(self.model.created_at)
    }

    /// The agents it mentions (`@name`), in the order mentioned: agents who could see the
    /// Page when it was written.
    async fn mentions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Agent>> {
        let mut agents = Vec::new();
        for id in self.model.mentions() {
            if let Some(agent) = voices::agent(ctx, Some(id)).await? {
                agents.push(agent);
            }
        }
        Ok(agents)
    }
}

#[derive(SimpleObject)]
pub struct NoteEdge {
    pub cursor: String,
    pub node: Note,
}

/// Notes: a conversation's (oldest first within a page, paged back with `before`) or an
/// agent's mentions (newest first, paged on with `after`).
#[derive(SimpleObject)]
pub struct NoteConnection {
    pub edges: Vec<NoteEdge>,
    pub page_info: PageInfo,
}

impl NoteConnection {
    /// `backwards`: a conversation's notes, where `more` lies before the first.
    pub fn new(slice: Slice<note::Model>, cursor_given: bool, backwards: bool) -> Self {
        let edges: Vec<NoteEdge> = slice
            .items
            .into_iter()
            .map(|n| NoteEdge {
                cursor: Cursor {
                    time: n.created_at,
                    id: n.id,
                }
                .encode(),
                node: Note::from(n),
            })
            .collect();
        let (has_previous_page, has_next_page) = if backwards {
            (slice.more, cursor_given)
        } else {
            (cursor_given, slice.more)
        };
        let page_info = PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info }
    }
}
