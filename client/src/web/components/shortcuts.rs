//! The shortcut sheet (`?`): a dialog listing the keyboard shortcuts, closed by
//! Escape, its button or a click beside it.
use dioxus::prelude::*;

use crate::model::keys::SHEET;
use crate::web::browser;
use crate::web::state::AppState;

#[component]
pub fn ShortcutSheet(open: Signal<bool>) -> Element {
    let state = use_context::<AppState>();
    use_effect(move || {
        if open() {
            spawn(async move {
                browser::sleep_ms(0).await;
                browser::focus("#shortcut-sheet");
            });
        }
    });
    let mut close = move || {
        open.set(false);
        browser::focus_list_item(state.open_conversation_now().as_deref());
    };
    let mut close_beside = close;
    if !open() {
        return rsx! {};
    }
    rsx! {
        div { class: "sheet-backdrop", onclick: move |_| close_beside(),
            div {
                id: "shortcut-sheet",
                class: "sheet",
                role: "dialog",
                "aria-modal": "true",
                "aria-labelledby": "shortcut-sheet-title",
                tabindex: "-1",
                "data-testid": "shortcut-sheet",
                onclick: move |e| e.stop_propagation(),
                h2 { id: "shortcut-sheet-title", "Keyboard shortcuts" }
                dl { class: "shortcuts",
                    for (i, (keys, what)) in SHEET.iter().enumerate() {
                        div { key: "{i}", class: "shortcut", "data-testid": "shortcut",
                            dt {
                                for k in keys.split("  ") {
                                    kbd { "{k}" }
                                }
                            }
                            dd { "{what}" }
                        }
                    }
                }
                p { class: "muted", "Letters do nothing while you type in a field; Escape leaves it." }
                button {
                    class: "primary",
                    "data-testid": "shortcut-sheet-close",
                    onclick: move |_| close(),
                    "Close"
                }
            }
        }
    }
}
