//! The composer's emoji picker: a button opening a small grid of common emoji, each
//! typed into the reply at its cursor. Reached by Tab; Escape closes it (and does
//! nothing else), giving the focus back to the button.
use dioxus::prelude::*;
use dioxus::web::WebEventExt;

use crate::web::browser;

/// The emoji offered: a fixed list, those support replies use most.
const EMOJI: [&str; 24] = [
    "😀", "😊", "😂", "😉", "😍", "🙂", "😅", "😢", "😮", "🙏", "👍", "👎", "👏", "👋", "💪", "❤️",
    "🎉", "🔥", "✅", "❌", "⭐", "📦", "🚚", "💬",
];

/// Opens the grid; a choice goes into the textarea `target`.
#[component]
pub fn EmojiPicker(target: &'static str) -> Element {
    let mut open = use_signal(|| false);
    rsx! {
        div {
            class: "emoji",
            onkeydown: move |e: KeyboardEvent| {
                if e.key() == Key::Escape && open() {
                    e.prevent_default();
                    e.stop_propagation();
                    open.set(false);
                    browser::focus("#composer-emoji");
                }
            },
            // One handler for the button and every emoji (`data-act`, `data-value`).
            onclick: move |e: MouseEvent| {
                let Some(a) = e.data().try_as_web_event().and_then(|e| browser::acted(&e)) else {
                    return;
                };
                if a.act == "emoji" {
                    open.set(false);
                    browser::insert_at_cursor(target, &a.value);
                } else {
                    open.toggle();
                    // The grid opens on its first emoji.
                    spawn(async {
                        browser::sleep_ms(0).await;
                        browser::focus(".emoji-grid button");
                    });
                }
            },
            button {
                id: "composer-emoji",
                r#type: "button",
                "data-testid": "composer-emoji",
                "data-act": "open",
                "aria-label": "Insert an emoji",
                "aria-haspopup": "true",
                "aria-expanded": "{open}",
                title: "Insert an emoji",
                "🙂"
            }
            if open() {
                div {
                    class: "emoji-grid",
                    role: "group",
                    "aria-label": "Emoji",
                    "data-testid": "emoji-picker",
                    for emoji in EMOJI {
                        button {
                            r#type: "button",
                            "data-testid": "emoji-option",
                            "data-act": "emoji",
                            "data-value": emoji,
                            {emoji}
                        }
                    }
                }
            }
        }
    }
}
