//! Reactions and edits: what a customer does to a message already sent. They change a
//! stored message (in the writer's turn, like the other changes to existing rows) and are
//! announced as its MESSAGE_UPDATED; they never create one.
//!
//! Exactly once, whatever Facebook repeats or reorders:
//! - an edit applies only when its `num_edit` is higher than the message's `edit_count`:
//!   a repeated edit, or an older one arriving late, changes nothing;
//! - each person has one reaction per message, kept with the time of the event that set
//!   it; an event no newer than that (a repeat, a late older one) changes nothing, and an
//!   unreact keeps its time (the entry stays, without an emoji), so a late older react
//!   cannot bring the reaction back;
//! - a reaction or an edit of a message MessengerFlow does not store (sent before the Page
//!   was connected and not imported, or of another Page) is dropped: there is nothing to
//!   show it on. Facebook sends a message before what is done to it.
use std::collections::HashMap;

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use entity::{conversation, message};

use super::plan::Outcome;
use crate::facebook::events::{Direction, Edit, Reaction};

/// Messages looked up per statement (2 parameters each).
const CHUNK: usize = 200;

/// One person's reaction to a message, as stored in `messages.reactions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReaction {
    /// Who reacted: the customer's PSID.
    pub by: String,
    /// None: taken back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    /// Facebook's time of the event that set it, ms.
    pub at: i64,
}

/// The reactions stored on `message`, those taken back included.
pub fn reactions_of(message: &message::Model) -> Vec<StoredReaction> {
    message
        .reactions
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// Applies the group's edits, then its reactions (each the group's latest per key, in key
/// order), to the messages they name; what changed goes into `outcome`.
pub async fn apply(
    db: &impl ConnectionTrait,
    reactions: &[&Reaction],
    edits: &[&Edit],
    outcome: &mut Outcome,
) -> Result<(), DbErr> {
    use message::Column as M;
    for edit in edits {
        let edited = message::Entity::update_many()
            .col_expr(M::Text, Expr::value(edit.text.clone()))
            .col_expr(M::EditCount, Expr::value(edit.num_edit))
            .col_expr(M::EditedAt, Expr::value(edit.timestamp))
            .filter(M::PageId.eq(edit.page_id.as_str()))
            .filter(M::Mid.eq(edit.mid.as_str()))
            .filter(M::Direction.eq(Direction::Inbound))
            .filter(M::EditCount.lt(edit.num_edit))
            .exec_with_returning(db)
            .await?;
        for message in edited {
            outcome
                .conversations
                .extend(preview_edited(db, &message).await?);
            outcome.updated.push(message);
        }
    }
    for chunk in reactions.chunks(CHUNK) {
        let mut named = Condition::any();
        for r in chunk {
            named = named.add(
                Condition::all()
                    .add(M::PageId.eq(r.page_id.as_str()))
                    .add(M::Mid.eq(r.mid.as_str())),
            );
        }
        let mut stored: HashMap<(String, String), message::Model> = message::Entity::find()
            .filter(named)
            .all(db)
            .await?
            .into_iter()
            .map(|m| ((m.page_id.clone(), m.mid.clone()), m))
            .collect();
        let mut changed: Vec<(i64, Vec<StoredReaction>)> = Vec::new();
        for r in chunk {
            let Some(message) = stored.get_mut(&(r.page_id.clone(), r.mid.clone())) else {
                continue;
            };
            let mut list = reactions_of(message);
            if merge(&mut list, r) {
                message.reactions = serde_json::to_string(&list).ok();
                match changed.iter_mut().find(|(id, _)| *id == message.id) {
                    Some(entry) => entry.1 = list,
                    None => changed.push((message.id, list)),
                }
            }
        }
        for (id, list) in changed {
            let updated = message::Entity::update_many()
                .col_expr(M::Reactions, Expr::value(serde_json::to_string(&list).ok()))
                .filter(M::Id.eq(id))
                .exec_with_returning(db)
                .await?;
            outcome.updated.extend(updated);
        }
    }
    Ok(())
}

/// Sets `r` in `list` unless what is there is as new or newer; whether it changed.
fn merge(list: &mut Vec<StoredReaction>, r: &Reaction) -> bool {
    let entry = StoredReaction {
        by: r.psid.clone(),
        emoji: r.emoji.clone(),
        reaction: r.reaction.clone(),
        at: r.timestamp,
    };
    match list.iter_mut().find(|s| s.by == r.psid) {
        Some(current) if current.at >= r.timestamp => false,
        Some(current) => {
            *current = entry;
            true
        }
        None => {
            list.push(entry);
            true
        }
    }
}

/// An edited message that is its conversation's last one gives the list its new text.
async fn preview_edited(
    db: &impl ConnectionTrait,
    message: &message::Model,
) -> Result<Vec<conversation::Model>, DbErr> {
    use conversation::Column as C;
    conversation::Entity::update_many()
        .col_expr(C::LastMessageText, Expr::value(message.text.clone()))
        .filter(C::Id.eq(message.conversation_id))
        .filter(C::LastTimestamp.eq(message.timestamp))
        .exec_with_returning(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaction(psid: &str, emoji: Option<&str>, at: i64) -> Reaction {
        Reaction {
            page_id: "1".into(),
            psid: psid.into(),
            mid: "m".into(),
            emoji: emoji.map(Into::into),
            reaction: None,
            timestamp: at,
        }
    }

    #[test]
    fn a_reaction_holds_until_a_newer_event_of_the_same_person() {
        let mut list = Vec::new();
        assert!(merge(&mut list, &reaction("9", Some("❤️"), 10)));
        assert!(
            !merge(&mut list, &reaction("9", Some("❤️"), 10)),
            "a repeat"
        );
        assert!(
            !merge(&mut list, &reaction("9", Some("😮"), 5)),
            "an older one"
        );
        assert!(merge(&mut list, &reaction("9", None, 20)), "taken back");
        assert!(
            !merge(&mut list, &reaction("9", Some("❤️"), 15)),
            "a late react"
        );
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].emoji, None);
        assert!(
            merge(&mut list, &reaction("8", Some("👍"), 1)),
            "another person"
        );
        assert_eq!(list.len(), 2);
    }
}
