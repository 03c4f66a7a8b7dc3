//! The signed-in inbox's keyboard shortcuts (the rules are `model::keys`): one listener
//! on the document, so they work wherever the focus is, and never while typing in a
//! field (except Escape).
use dioxus::prelude::*;

use super::browser::{self, KeyListener};
use super::state::AppState;
use crate::model::Route;
use crate::model::keys::{self, KeyPress, Shortcut};

/// Listens until dropped. `sheet` is whether the shortcut sheet is open; `resolve`
/// receives the id of a conversation to resolve.
pub fn listen(state: AppState, mut sheet: Signal<bool>, resolve: Coroutine<String>) -> KeyListener {
    browser::on_key_down(move |e| {
        if e.default_prevented() || e.is_composing() {
            return;
        }
        let key = e.key();
        let press = KeyPress {
            key: &key,
            alt: e.alt_key(),
            ctrl: e.ctrl_key(),
            meta: e.meta_key(),
            in_field: browser::is_field(e.target()),
            nothing_focused: browser::nothing_focused(),
        };
        let Some(shortcut) = keys::shortcut(&press) else {
            return;
        };
        let open = state.open_conversation_now();
        let mut viewer = state.viewer;
        if viewer.peek().is_some() {
            // The enlarged image is modal too: Escape closes it.
            if shortcut == Shortcut::Escape {
                e.prevent_default();
                viewer.set(None);
            }
            return;
        }
        if *sheet.peek() {
            // The sheet is modal: Escape (or `?` again) closes it, nothing else acts.
            if matches!(shortcut, Shortcut::Escape | Shortcut::Help) {
                e.prevent_default();
                sheet.set(false);
                browser::focus_list_item(open.as_deref());
            }
            return;
        }
        let handled = match shortcut {
            Shortcut::Reply if open.is_some() => {
                browser::focus("#composer-input");
                true
            }
            Shortcut::Resolve => match open {
                Some(id) => {
                    resolve.send(id);
                    true
                }
                None => false,
            },
            Shortcut::Next | Shortcut::Previous => {
                let step = if shortcut == Shortcut::Next { 1 } else { -1 };
                let from = open.or_else(browser::focused_conversation);
                match keys::step_in(&browser::listed_conversations(), from.as_deref(), step) {
                    Some(id) => {
                        browser::focus_list_item(Some(&id));
                        state.navigate(Route::Chat(id));
                        true
                    }
                    None => false,
                }
            }
            Shortcut::Escape => {
                if open.is_some() {
                    state.navigate(Route::Inbox);
                }
                browser::focus_list_item(open.as_deref());
                true
            }
            Shortcut::Help => {
                sheet.set(true);
                true
            }
            Shortcut::FocusList => {
                browser::focus_list_item(open.as_deref());
                true
            }
            Shortcut::Reply => false,
        };
        if handled {
            e.prevent_default();
        }
    })
}
