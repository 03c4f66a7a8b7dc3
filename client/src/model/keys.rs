//! The inbox's keyboard shortcuts: which key press means what, and the sheet that lists
//! them (`?`). Plain Rust, so the rules are tested on the host.

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// `r`: focus the reply box of the open conversation.
    Reply,
    /// `e`: resolve the open conversation.
    Resolve,
    /// `J` or Alt+Down: open the next conversation of the list.
    Next,
    /// `K` or Alt+Up: open the previous conversation of the list.
    Previous,
    /// Escape: close the sheet, or leave the chat (and any field) for the list.
    Escape,
    /// `?`: the shortcut sheet.
    Help,
    /// `j`, `k`, Up or Down with nothing focused: into the list, where they move.
    FocusList,
}

/// A key press as the browser reports it.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyPress<'a> {
    /// `KeyboardEvent.key`.
    pub key: &'a str,
    pub alt: bool,
    pub ctrl: bool,
    pub meta: bool,
    /// The focus is in a text field, a select or an editable element: typing there
    /// is never a shortcut, except Escape.
    pub in_field: bool,
    /// Nothing has the focus (the page's body).
    pub nothing_focused: bool,
}

/// The shortcut a key press means, if any.
pub fn shortcut(k: &KeyPress) -> Option<Shortcut> {
    if k.key == "Escape" {
        return Some(Shortcut::Escape);
    }
    if k.in_field || k.ctrl || k.meta {
        return None;
    }
    if k.alt {
        return match k.key {
            "ArrowDown" => Some(Shortcut::Next),
            "ArrowUp" => Some(Shortcut::Previous),
            _ => None,
        };
    }
    match k.key {
        "r" => Some(Shortcut::Reply),
        "e" => Some(Shortcut::Resolve),
        "J" => Some(Shortcut::Next),
        "K" => Some(Shortcut::Previous),
        "?" => Some(Shortcut::Help),
        "j" | "k" | "ArrowDown" | "ArrowUp" if k.nothing_focused => Some(Shortcut::FocusList),
        _ => None,
    }
}

/// The sheet's lines: the keys, and what they do.
pub const SHEET: &[(&str, &str)] = &[
    ("j  ↓", "Move down the conversation list"),
    ("k  ↑", "Move up the conversation list"),
    ("Enter", "Open the conversation"),
    ("J  Alt+↓", "Open the next conversation"),
    ("K  Alt+↑", "Open the previous conversation"),
    ("r", "Reply: focus the reply box"),
    ("Enter", "In the reply box: send (Shift+Enter: new line)"),
    ("e", "Resolve the open conversation"),
    ("Esc", "Back to the list (and out of the reply box)"),
    ("?", "This list of shortcuts"),
];

/// The id `step` places from `current` in `ids` (clamped to the ends); the first when
/// `current` is not among them.
pub fn step_in(ids: &[String], current: Option<&str>, step: i64) -> Option<String> {
    if ids.is_empty() {
        return None;
    }
    let last = ids.len() as i64 - 1;
    let at = match current.and_then(|c| ids.iter().position(|id| id == c)) {
        Some(i) => (i as i64 + step).clamp(0, last),
        None => 0,
    };
    ids.get(at as usize).cloned()
}
