//! What a customer does to a message after sending it: reacts to it (or takes the
//! reaction back), or edits it. From Meta's `message_reactions` and `message_edits` webhook
//! references.
use super::raw::{RawEdit, RawReaction};
use super::valid_id;

/// Longest emoji accepted (bytes): a flag or a family with skin tones is about 35.
const MAX_EMOJI_LEN: usize = 64;
/// Longest reaction name (`smile`, `love`, ..., `other`).
const MAX_REACTION_NAME_LEN: usize = 32;
/// Longest edited text accepted: far above Messenger's own limit.
const MAX_EDIT_CHARS: usize = 20_000;
/// Highest `num_edit` accepted: Messenger allows five edits; anything far above is noise.
const MAX_NUM_EDIT: i32 = 1000;

/// A customer reacted to a message of the Page (`emoji` set), or took the reaction back
/// (`emoji` absent). One reaction per person and message, the latest by `timestamp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub page_id: String,
    /// Who reacted (the customer's PSID).
    pub psid: String,
    /// The message reacted to.
    pub mid: String,
    pub emoji: Option<String>,
    /// Facebook's name for it: smile, angry, sad, wow, love, like, dislike, other.
    pub reaction: Option<String>,
    /// ms since the epoch, Facebook's time.
    pub timestamp: i64,
}

/// A customer edited a message: its new text, and how many times it was edited so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub page_id: String,
    pub psid: String,
    pub mid: String,
    pub text: String,
    pub num_edit: i32,
    /// ms since the epoch, Facebook's time.
    pub timestamp: i64,
}

pub(super) fn reaction(
    page_id: String,
    psid: String,
    raw: RawReaction,
    timestamp: i64,
) -> Result<Reaction, String> {
    let mid = raw
        .mid
        .and_then(valid_id)
        .ok_or("reaction without a valid mid")?;
    let react = match raw.action.as_deref() {
        Some("react") => true,
        Some("unreact") => false,
        _ => return Err("reaction without action react or unreact".into()),
    };
    let emoji = match raw.emoji {
        Some(e) if e.is_empty() || e.len() > MAX_EMOJI_LEN || e.chars().any(char::is_control) => {
            return Err("reaction with an invalid emoji".into());
        }
        other => other,
    };
    if react && emoji.is_none() {
        return Err("react without an emoji".into());
    }
    let reaction = raw
        .reaction
        .filter(|r| r.len() <= MAX_REACTION_NAME_LEN && r.bytes().all(|b| b.is_ascii_graphic()));
    Ok(Reaction {
        page_id,
        psid,
        mid,
        emoji: if react { emoji } else { None },
        reaction: if react { reaction } else { None },
        timestamp,
    })
}

pub(super) fn edit(
    page_id: String,
    psid: String,
    raw: RawEdit,
    timestamp: i64,
) -> Result<Edit, String> {
    let mid = raw
        .mid
        .and_then(valid_id)
        .ok_or("edit without a valid mid")?;
    let text = raw.text.ok_or("edit without text")?;
    if text.chars().count() > MAX_EDIT_CHARS {
        return Err("edit with a text over 20,000 characters".into());
    }
    let num_edit = raw
        .num_edit
        .and_then(|n| n.0.trim().parse::<i32>().ok())
        .filter(|n| (1..=MAX_NUM_EDIT).contains(n))
        .ok_or("edit without a valid num_edit")?;
    Ok(Edit {
        page_id,
        psid,
        mid,
        text,
        num_edit,
        timestamp,
    })
}
