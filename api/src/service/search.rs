//! Search over customer names and message texts (issue 15, point 4). The indexes are kept
//! by triggers (migration `m20261202_000031_search`): FTS5 on SQLite, GIN over `tsvector` on
//! PostgreSQL. What matches, on both:
//!
//! - a query is split into words at anything that is not a letter or a digit (so quotes,
//!   operators and punctuation mean nothing: the query language cannot be reached);
//! - every word must match (AND), as the start of a word of the text: `mess` finds
//!   "message" and "messenger"; a one-character word must match a whole word;
//! - case is ignored, and so are accents of Latin scripts (`cafe` finds "Café");
//! - scripts written without spaces (Chinese, Japanese, Thai) match from the start of a run
//!   of letters only.
//!
//! Hits come in two runs, each newest first: conversations whose customer's name matches
//! (newest conversation first), then messages (the most recently stored first). A query is
//! bounded: at most `MAX_QUERY_CHARS` characters and `MAX_TERMS` words, and a page of at
//! most `MAX_PAGE` hits, each answered by an index in rowid order with a LIMIT.
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement, Value,
};

use entity::{conversation, message};

use crate::error::ApiError;
use crate::service::auth::{Principal, validate_page_id};
use crate::service::inbox::Cursor;

mod snippet;
pub use snippet::Range;
use snippet::{fold, snippet};

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_TERMS: usize = 8;
pub const MAX_PAGE: i32 = 50;

const CONVERSATION_CURSOR: &str = "search-conversation";
const MESSAGE_CURSOR: &str = "search-message";

/// A parsed query: its words, as typed (each a run of letters and digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    terms: Vec<String>,
}

impl Query {
    /// Reads what an agent typed; BAD_USER_INPUT naming `query` when it is empty of words,
    /// too long or has too many words.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::bad_input(format!(
                "`query` must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let terms: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if terms.is_empty() {
            return Err(ApiError::bad_input(
                "`query` must hold at least one word (letters or digits)",
            ));
        }
        if terms.len() > MAX_TERMS {
            return Err(ApiError::bad_input(format!(
                "`query` must hold at most {MAX_TERMS} words"
            )));
        }
        Ok(Self { terms })
    }

    fn is_prefix(term: &str) -> bool {
        term.chars().count() > 1
    }

    /// An FTS5 match expression: the words of column `column`, and the Page filter.
    fn fts5(&self, column: &str, pages: &PageSet) -> String {
        let words: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                // Terms hold letters and digits only: no quote can end the string.
                let star = if Self::is_prefix(t) { "*" } else { "" };
                format!("{column} : \"{t}\"{star}")
            })
            .collect();
        let mut expression = words.join(" AND ");
        if let PageSet::Some(pages) = pages {
            let pages: Vec<String> = pages.iter().map(|p| format!("page : \"p{p}\"")).collect();
            expression = format!("({}) AND ({expression})", pages.join(" OR "));
        }
        expression
    }

    /// A `to_tsquery` text: each word a prefix (`:*`), all required.
    fn tsquery(&self) -> String {
        self.terms
            .iter()
            .map(|t| {
                if Self::is_prefix(t) {
                    format!("'{t}':*")
                } else {
                    format!("'{t}'")
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The words folded as the indexes fold them (lowercase, Latin accents removed), for
    /// highlighting.
    fn folded_terms(&self) -> Vec<(String, bool)> {
        self.terms
            .iter()
            .map(|t| (fold(t), Self::is_prefix(t)))
            .collect()
    }
}

/// Which Pages a search covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageSet {
    /// Every Page (an administrator's search without `pageId`).
    All,
    Some(Vec<String>),
}

impl PageSet {
    /// `page_id` when given (NOT_FOUND unless `me` may see it, as for a Page that does not
    /// exist), else every Page `me` may see.
    pub fn of(me: &Principal, page_id: Option<&str>) -> Result<Self, ApiError> {
        if let Some(page_id) = page_id {
            validate_page_id(page_id)?;
            if !me.can_see(page_id) {
                return Err(ApiError::NotFound("page"));
            }
            return Ok(Self::Some(vec![page_id.to_owned()]));
        }
        Ok(match me.visible_pages() {
            None => Self::All,
            Some(pages) => Self::Some(pages),
        })
    }

    fn contains(&self, page_id: &str) -> bool {
        match self {
            Self::All => true,
            Self::Some(pages) => pages.iter().any(|p| p == page_id),
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Self::Some(pages) if pages.is_empty())
    }
}

/// Where a page of hits starts: after a conversation hit, or after a message hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    Conversation(i64),
    Message(i64),
}

impl After {
    pub fn encode(self) -> String {
        match self {
            Self::Conversation(id) => Cursor { time: 0, id }.encode_kind(CONVERSATION_CURSOR),
            Self::Message(id) => Cursor { time: 0, id }.encode_kind(MESSAGE_CURSOR),
        }
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        Cursor::decode_kind(text, Some(CONVERSATION_CURSOR))
            .map(|c| Self::Conversation(c.id))
            .or_else(|_| {
                Cursor::decode_kind(text, Some(MESSAGE_CURSOR)).map(|c| Self::Message(c.id))
            })
    }
}

/// One hit: a conversation by its customer's name, or a message with its conversation.
#[derive(Clone, Debug)]
pub struct Hit {
    pub conversation: conversation::Model,
    pub message: Option<message::Model>,
    pub snippet: String,
    pub highlights: Vec<Range>,
    pub cursor: After,
}

#[derive(Debug)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub more: bool,
}

/// Up to `first` hits after `after`.
pub async fn search(
    db: &impl ConnectionTrait,
    pages: &PageSet,
    query: &Query,
    first: i32,
    after: Option<After>,
) -> Result<Results, ApiError> {
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(ApiError::bad_input(format!(
            "`first` must be between 1 and {MAX_PAGE}"
        )));
    }
    let wanted = first as usize;
    if pages.is_empty() {
        return Ok(Results {
            hits: Vec::new(),
            more: false,
        });
    }
    let mut hits = Vec::new();
    let message_after = match after {
        None | Some(After::Conversation(_)) => {
            let before = match after {
                Some(After::Conversation(id)) => id,
                _ => i64::MAX,
            };
            let ids =
                matching_ids(db, Index::Conversations, pages, query, before, wanted + 1).await?;
            if ids.len() > wanted {
                hits = conversation_hits(db, pages, query, &ids[..wanted]).await?;
                return Ok(Results { hits, more: true });
            }
            hits = conversation_hits(db, pages, query, &ids).await?;
            i64::MAX
        }
        Some(After::Message(id)) => id,
    };
    let room = wanted - hits.len();
    let ids = matching_ids(db, Index::Messages, pages, query, message_after, room + 1).await?;
    let more = ids.len() > room;
    let ids = &ids[..ids.len().min(room)];
    hits.extend(message_hits(db, pages, query, ids).await?);
    Ok(Results { hits, more })
}

#[derive(Clone, Copy)]
enum Index {
    Conversations,
    Messages,
}

/// The ids of matching rows below `before`, highest first, at most `limit`.
async fn matching_ids(
    db: &impl ConnectionTrait,
    index: Index,
    pages: &PageSet,
    query: &Query,
    before: i64,
    limit: usize,
) -> Result<Vec<i64>, ApiError> {
    let backend = db.get_database_backend();
    let limit = limit as i64;
    let statement = match backend {
        DatabaseBackend::Sqlite => {
            let (table, column) = match index {
                Index::Conversations => ("conversation_search", "name"),
                Index::Messages => ("message_search", "body"),
            };
            Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid < ? \
                     ORDER BY rowid DESC LIMIT ?"
                ),
                [
                    query.fts5(column, pages).into(),
                    before.into(),
                    limit.into(),
                ],
            )
        }
        _ => {
            let (table, column) = match index {
                Index::Conversations => ("conversations", "customer_name"),
                Index::Messages => ("messages", "text"),
            };
            let mut values: Vec<Value> = vec![query.tsquery().into(), before.into()];
            let page_filter = match pages {
                PageSet::All => String::new(),
                PageSet::Some(pages) => {
                    let placeholders: Vec<String> = pages
                        .iter()
                        .enumerate()
                        .map(|(i, _)| format!("${}", i + 3))
                        .collect();
                    values.extend(pages.iter().map(|p| Value::from(p.clone())));
                    format!(" AND page_id IN ({})", placeholders.join(", "))
                }
            };
            let limit_at = values.len() + 1;
            values.push(limit.into());
            Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id FROM {table} \
                     WHERE mf_search_vector({column}) @@ mf_search_query($1) AND id < $2{page_filter} \
                     ORDER BY id DESC LIMIT ${limit_at}"
                ),
                values,
            )
        }
    };
    let rows = db.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| row.try_get_by_index::<i64>(0).map_err(ApiError::from))
        .collect()
}

async fn conversation_hits(
    db: &impl ConnectionTrait,
    pages: &PageSet,
    query: &Query,
    ids: &[i64],
) -> Result<Vec<Hit>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: HashMap<i64, conversation::Model> = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let terms = query.folded_terms();
    Ok(ids
        .iter()
        .filter_map(|id| found.remove(id))
        // The index's Page filter, checked again on the row itself.
        .filter(|c| pages.contains(&c.page_id))
        .map(|conversation| {
            let name = conversation.customer_name.clone().unwrap_or_default();
            let (snippet, highlights) = snippet(&name, &terms);
            Hit {
                cursor: After::Conversation(conversation.id),
                conversation,
                message: None,
                snippet,
                highlights,
            }
        })
        .collect())
}

async fn message_hits(
    db: &impl ConnectionTrait,
    pages: &PageSet,
    query: &Query,
    ids: &[i64],
) -> Result<Vec<Hit>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut messages: HashMap<i64, message::Model> = message::Entity::find()
        .filter(message::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let conversation_ids: Vec<i64> = messages.values().map(|m| m.conversation_id).collect();
    let conversations: HashMap<i64, conversation::Model> = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(conversation_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let terms = query.folded_terms();
    Ok(ids
        .iter()
        .filter_map(|id| messages.remove(id))
        .filter(|m| pages.contains(&m.page_id))
        .filter_map(|message| {
            let conversation = conversations.get(&message.conversation_id)?.clone();
            let (snippet, highlights) = snippet(message.text.as_deref().unwrap_or(""), &terms);
            Some(Hit {
                cursor: After::Message(message.id),
                conversation,
                message: Some(message),
                snippet,
                highlights,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests;
