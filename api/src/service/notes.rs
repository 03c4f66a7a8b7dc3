//! Private notes: what agents write in a conversation for each other. A note is stored
//! and announced (NOTE_ADDED in the Page's event log) like any change, and never goes to
//! Facebook: nothing here knows the Graph API.
//!
//! `@name` mentions an agent who may see the Page (active, a member or an administrator):
//! the whole name first (the longest that matches, case-insensitive, its words separated
//! by one space), else a first name (the name's first word) that only one such agent has.
//! The mention must end the name: `@Sam` in `@Samantha` mentions nobody, and an `@` inside
//! a word (an email address) is no mention. Anyone else, and the author, is not mentioned.
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};

use entity::{agent, note, note_mention};

use crate::bus::Change;
use crate::error::ApiError;
use crate::service::access::VisibleConversation;
use crate::service::auth::{self, Principal, Scope};
use crate::service::inbox::{Cursor, Slice, check_page_size};
use crate::service::outbox::Written;

/// Longest note, in characters after trimming.
pub const MAX_NOTE_CHARS: usize = 4000;
/// Most agents one note mentions.
const MAX_MENTIONS: usize = 50;

/// The note's text as stored: trimmed, 1 to [`MAX_NOTE_CHARS`] characters, without
/// control characters other than line breaks and tabs.
pub fn check_text(text: &str) -> Result<&str, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_input("`text` must not be empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(ApiError::bad_input(format!(
            "`text` has {chars} characters; a note has at most {MAX_NOTE_CHARS}"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApiError::bad_input(
            "`text` must not contain control characters",
        ));
    }
    Ok(text)
}

/// How many characters of `text` spell `name` (case-insensitive), if it does and the
/// name ends there (end of text, or a character that cannot continue a name).
fn spelled(text: &str, name: &str) -> Option<usize> {
    let mut chars = text.chars();
    let mut count = 0;
    for wanted in name.chars() {
        let got = chars.next()?;
        if !got.to_lowercase().eq(wanted.to_lowercase()) {
            return None;
        }
        count += 1;
    }
    match chars.next() {
        Some(next) if next.is_alphanumeric() || next == '_' || next == '-' => None,
        _ => (count > 0).then_some(count),
    }
}

/// The agents `text` mentions, among `agents` (those who may see the Page), in the order
/// first mentioned, without `author`. See the module's documentation for the rules.
pub fn find_mentions(text: &str, agents: &[agent::Model], author: i64) -> Vec<i64> {
    let names: Vec<(i64, String)> = agents
        .iter()
        .filter(|a| a.deactivated_at.is_none())
        .map(|a| {
            (
                a.id,
                a.name.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .filter(|(_, name)| !name.is_empty())
        .collect();
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && !previous.is_some_and(|p| p.is_alphanumeric() || p == '@');
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        if let Some(id) = mentioned(rest, &names)
            && id != author
            && !found.contains(&id)
            && found.len() < MAX_MENTIONS
        {
            found.push(id);
        }
    }
    found
}

/// Whom the text right after an `@` names: the longest whole name (when only one agent
/// has it), else a first name only one agent has.
fn mentioned(rest: &str, names: &[(i64, String)]) -> Option<i64> {
    let only = |matches: Vec<(usize, i64)>| -> Option<i64> {
        let longest = matches.iter().map(|(len, _)| *len).max()?;
        let mut ids: Vec<i64> = matches
            .into_iter()
            .filter(|(len, _)| *len == longest)
            .map(|(_, id)| id)
            .collect();
        ids.dedup();
        (ids.len() == 1).then(|| ids[0])
    };
    let whole: Vec<(usize, i64)> = names
        .iter()
        .filter_map(|(id, name)| spelled(rest, name).map(|len| (len, *id)))
        .collect();
    if !whole.is_empty() {
        return only(whole);
    }
    let first: Vec<(usize, i64)> = names
        .iter()
        .filter_map(|(id, name)| {
            let word = name.split(' ').next()?;
            spelled(rest, word).map(|len| (len, *id))
        })
        .collect();
    only(first)
}

/// Adds a note by `author_id` to the conversation, in the caller's transaction, with
/// its mentions; returns it with its NOTE_ADDED change for `outbox.commit`.
///
/// Its first statement writes (the note), so the transaction holds the write lock before
/// it reads the Page's agents: on SQLite a transaction that reads first and then writes
/// fails with SQLITE_BUSY_SNAPSHOT when another writer (a webhook) committed between the
/// two, which no busy timeout waits out.
pub async fn add(
    db: &impl ConnectionTrait,
    conversation: &VisibleConversation,
    author_id: i64,
    text: &str,
    now: i64,
) -> Result<Written<note::Model>, ApiError> {
    let text = check_text(text)?;
    let mut stored = note::ActiveModel {
        id: NotSet,
        page_id: Set(conversation.model().page_id.clone()),
        conversation_id: Set(conversation.id()),
        author_id: Set(author_id),
        text: Set(text.to_owned()),
        mention_ids: Set(String::new()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let agents = auth::page_agents(db, &conversation.page()).await?;
    let mentions = find_mentions(text, &agents, author_id);
    if !mentions.is_empty() {
        let ids: Vec<String> = mentions.iter().map(i64::to_string).collect();
        let mut with_mentions: note::ActiveModel = stored.into();
        with_mentions.mention_ids = Set(ids.join(","));
        stored = with_mentions.update(db).await?;
        note_mention::Entity::insert_many(mentions.iter().map(|agent_id| {
            note_mention::ActiveModel {
                note_id: Set(stored.id),
                agent_id: Set(*agent_id),
                page_id: Set(stored.page_id.clone()),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(Written {
        changes: vec![Change::NoteAdded(stored.clone())],
        value: stored,
    })
}

/// A conversation's notes: the `last` ones before the cursor, oldest first. Only for a
/// conversation the caller reached through `service::access` (a `Conversation`'s field).
pub async fn list(
    db: &impl ConnectionTrait,
    conversation_id: i64,
    last: i32,
    before: Option<Cursor>,
) -> Result<Slice<note::Model>, ApiError> {
    let limit = check_page_size(last, "last")?;
    let mut query = note::Entity::find().filter(note::Column::ConversationId.eq(conversation_id));
    if let Some(cursor) = before {
        // Ids grow with time: the id alone orders the notes.
        query = query.filter(note::Column::Id.lt(cursor.id));
    }
    let mut items = query
        .order_by(note::Column::Id, Order::Desc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    items.reverse();
    Ok(Slice { items, more })
}

/// The notes that mention the caller (for an API token, its creator), on the Pages it
/// may see now, newest first: `first` after the cursor.
pub async fn mentions(
    db: &impl ConnectionTrait,
    me: &Principal,
    first: i32,
    after: Option<Cursor>,
) -> Result<Slice<note::Model>, ApiError> {
    use note_mention::Column as M;
    let limit = check_page_size(first, "first")?;
    let mut query = note_mention::Entity::find()
        .select_only()
        .column(M::NoteId)
        .filter(M::AgentId.eq(me.agent.id));
    if let Scope::Pages(pages) = &me.scope {
        query = query.filter(M::PageId.is_in(pages.iter().cloned()));
    }
    if let Some(cursor) = after {
        query = query.filter(M::NoteId.lt(cursor.id));
    }
    let mut ids: Vec<i64> = query
        .order_by(M::NoteId, Order::Desc)
        .limit(limit + 1)
        .into_tuple()
        .all(db)
        .await?;
    let more = ids.len() as u64 > limit;
    ids.truncate(limit as usize);
    if ids.is_empty() {
        return Ok(Slice {
            items: Vec::new(),
            more,
        });
    }
    let items = note::Entity::find()
        .filter(note::Column::Id.is_in(ids))
        .order_by(note::Column::Id, Order::Desc)
        .all(db)
        .await?;
    Ok(Slice { items, more })
}

#[cfg(test)]
mod tests {
    use super::{MAX_NOTE_CHARS, check_text, find_mentions};
    use entity::agent;

    fn agent(id: i64, name: &str) -> agent::Model {
        agent::Model {
            id,
            email: format!("{id}@example.com"),
            name: name.to_owned(),
            role: "AGENT".to_owned(),
            password_hash: None,
            created_at: 0,
            deactivated_at: None,
        }
    }

    fn team() -> Vec<agent::Model> {
        vec![
            agent(1, "Alice Martin"),
            agent(2, "Sam Lee"),
            agent(3, "Sam Ray"),
            agent(4, "Bo"),
            agent(5, "Zoë  Kraus"),
        ]
    }

    #[test]
    fn a_first_name_or_the_whole_name_mentions_an_agent() {
        let team = team();
        assert_eq!(find_mentions("@alice can you look?", &team, 9), [1]);
        assert_eq!(find_mentions("ask @Alice Martin.", &team, 9), [1]);
        assert_eq!(
            find_mentions("@Sam Ray and @sam lee, @Bo", &team, 9),
            [3, 2, 4]
        );
        assert_eq!(find_mentions("(@ZOË kraus)", &team, 9), [5]);
        assert_eq!(find_mentions("@Zoë!", &team, 9), [5]);
    }

    #[test]
    fn what_names_nobody_alone_is_no_mention() {
        let team = team();
        // A first name two agents share, a longer word, an email address, the author,
        // a stranger.
        assert!(find_mentions("@Sam please", &team, 9).is_empty());
        assert!(find_mentions("@Alicia @Bob @Bo_ @Bo-x", &team, 9).is_empty());
        assert!(find_mentions("write to bo@example.com or @@Bo", &team, 9).is_empty());
        assert!(find_mentions("@Alice note to self", &team, 1).is_empty());
        assert!(find_mentions("@Carol", &team, 9).is_empty());
        let mut gone = team.clone();
        gone[0].deactivated_at = Some(1);
        assert!(find_mentions("@Alice", &gone, 9).is_empty());
    }

    #[test]
    fn each_agent_is_mentioned_once() {
        assert_eq!(find_mentions("@Bo @bo @Bo Bo", &team(), 9), [4]);
    }

    #[test]
    fn a_note_is_trimmed_and_bounded() {
        assert_eq!(check_text("  hi \n").ok(), Some("hi"));
        assert!(check_text(" \n\t ").is_err());
        assert!(check_text(&"é".repeat(MAX_NOTE_CHARS)).is_ok());
        assert!(check_text(&"é".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(check_text("a\0b").is_err());
        assert!(check_text("line\nline\ttab").is_ok());
    }
}
