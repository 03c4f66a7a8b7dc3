//! `search`: customer names and message texts of the Pages the caller may see
//! (`service::search` says what matches and in which order).
use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::principal;
use super::types::{Conversation, Message, PageInfo};
use crate::service::search::{self, After, PageSet, Query};
use crate::state::AppState;

/// The search query (merged into `QueryRoot`).
#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Customer names and message texts of every Page the caller may see (or of `pageId`
    /// alone): conversations whose customer's name matches first, newest first, then
    /// messages, the most recently stored first. Every word of `query` must match the
    /// start of a word, ignoring case and Latin accents (`cafe` finds "Café"); anything
    /// but letters and digits separates words. `query` holds at most 200 characters and 8
    /// words; `first` is 1 to 50; `after` an `endCursor` of the same search. A Page the
    /// caller may not see is NOT_FOUND, as one that does not exist.
    #[graphql(complexity = "super::cost::connection(first, 20, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        page_id: Option<ID>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<SearchConnection> {
        let state = ctx.data::<AppState>()?;
        let pages = PageSet::of(principal(ctx)?, page_id.as_ref().map(|id| id.as_str()))?;
        let query = Query::parse(&query)?;
        let after_given = after.is_some();
        let after = after.as_deref().map(After::decode).transpose()?;
        let results = search::search(&state.db, &pages, &query, first.unwrap_or(20), after).await?;
        Ok(SearchConnection::new(results, after_given))
    }
}

/// Where a snippet matched the query, in characters (Unicode code points) of `snippet`.
#[derive(SimpleObject)]
pub struct TextRange {
    pub start: i32,
    pub length: i32,
}

/// One hit: a conversation (its customer's name matched) or a message of it.
#[derive(SimpleObject)]
pub struct SearchHit {
    pub conversation: Conversation,
    /// The message that matched; null when the customer's name did.
    pub message: Option<Message>,
    /// The text that matched (the name, or up to 120 characters of the message around its
    /// first match, with "…" where it was cut).
    pub snippet: String,
    /// The matching words in `snippet`.
    pub highlights: Vec<TextRange>,
}

#[derive(SimpleObject)]
pub struct SearchHitEdge {
    pub cursor: String,
    pub node: SearchHit,
}

#[derive(SimpleObject)]
pub struct SearchConnection {
    pub edges: Vec<SearchHitEdge>,
    pub page_info: PageInfo,
}

impl SearchConnection {
    fn new(results: search::Results, after_given: bool) -> Self {
        let edges: Vec<SearchHitEdge> = results
            .hits
            .into_iter()
            .map(|hit| SearchHitEdge {
                cursor: hit.cursor.encode(),
                node: SearchHit {
                    conversation: Conversation::from(hit.conversation),
                    message: hit.message.map(Message::from),
                    snippet: hit.snippet,
                    highlights: hit
                        .highlights
                        .into_iter()
                        .map(|r| TextRange {
                            start: i32::try_from(r.start).unwrap_or(i32::MAX),
                            length: i32::try_from(r.length).unwrap_or(i32::MAX),
                        })
                        .collect(),
                },
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: results.more,
            has_previous_page: after_given,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info }
    }
}
