//! Private notes in the inbox: a note in the thread (its own colour and label, so it is
//! never taken for a message the customer saw), and the notice that someone mentioned
//! the signed-in agent.
use dioxus::prelude::*;

use crate::model::{Note, Route, parse_rfc3339, time};
use crate::web::state::AppState;

/// What every note says of itself.
pub const NOTE_LABEL: &str = "Note, only your team sees this";

/// A private note in the thread: "Note, only your team sees this", the text, who wrote
/// it and whom it mentions.
pub fn note_line(note: Note, me: Option<&str>, tz: i64) -> Element {
    let clock = parse_rfc3339(&note.created_at)
        .map(|t| time::clock(t, tz))
        .unwrap_or_default();
    let mentions_me = me
        .as_deref()
        .is_some_and(|me| note.mentions.iter().any(|(id, _)| id == me));
    let author = if me.as_deref() == Some(note.author.0.as_str()) {
        "You".to_string()
    } else {
        note.author.1.clone()
    };
    rsx! {
        div {
            key: "note-{note.id}",
            class: "note-item",
            role: "note",
            "data-testid": "note-item",
            "data-note-id": "{note.id}",
            "data-author-id": "{note.author.0}",
            "data-mentions-me": if mentions_me { "true" } else { "false" },
            p { class: "note-label", "data-testid": "note-label", "{NOTE_LABEL}" }
            p { class: "note-text", "data-testid": "note-text", "{note.text}" }
            div { class: "message-meta",
                span { "data-testid": "note-author", "{author} · " }
                time { datetime: "{note.created_at}", "{clock}" }
                if !note.mentions.is_empty() {
                    span { class: "note-mentions", "data-testid": "note-mentions", " · mentions {note.mentioned()}" }
                }
            }
        }
    }
}

/// "Alice mentioned you": the latest mention of the signed-in agent, live, until it is
/// opened or dismissed.
pub fn mention_notice(mut state: AppState) -> Element {
    let Some(note) = state.mention.read().clone() else {
        return rsx! {};
    };
    let id = note.conversation_id.clone();
    rsx! {
        div {
            class: "mention-notice",
            role: "status",
            "data-testid": "mention-notification",
            "data-conversation-id": "{id}",
            "data-note-id": "{note.id}",
            p { strong { "{note.author.1} mentioned you" } }
            p { class: "mention-text", "{note.text}" }
            div { class: "mention-actions",
                button {
                    class: "primary",
                    "data-testid": "mention-open",
                    onclick: move |_| {
                        state.mention.set(None);
                        state.navigate(Route::Chat(id.clone()));
                    },
                    "Open"
                }
                button {
                    class: "ghost",
                    "data-testid": "mention-dismiss",
                    onclick: move |_| state.mention.set(None),
                    "Dismiss"
                }
            }
        }
    }
}
