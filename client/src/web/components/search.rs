//! The search box above the conversation list, and its hits in the list's place: the
//! customer, the matching text with its words marked, and when. Opening a message hit
//! opens its conversation scrolled to that message (`AppState::focus_message`).
use dioxus::prelude::*;

use crate::model::search::{Hit, segments};
use crate::model::{Route, parse_rfc3339, relative_time};
use crate::web::actions;
use crate::web::state::AppState;

#[component]
pub fn SearchBox() -> Element {
    let mut state = use_context::<AppState>();
    let mut text = use_signal(String::new);
    let searching = !state.search.read().query.is_empty();
    let mut clear = move || {
        text.set(String::new());
        state.search.set(Default::default());
    };
    // Another Page picked: its own search (not the first Page chosen after sign-in).
    let mut shown_page = use_signal(|| state.page_id.peek().clone());
    use_effect(move || {
        let page = state.page_id.read().clone();
        if *shown_page.peek() != page {
            let switched = shown_page.peek().is_some();
            shown_page.set(page);
            if switched {
                clear();
            }
        }
    });
    rsx! {
        form {
            class: "search",
            role: "search",
            onsubmit: move |e| {
                e.prevent_default();
                let q = text.peek().trim().to_owned();
                if q.is_empty() {
                    clear();
                } else {
                    spawn(async move {
                        let _ = actions::search(state, Some(q)).await;
                    });
                }
            },
            label { class: "sr-only", r#for: "search-input", "Search messages and customers" }
            input {
                id: "search-input",
                "data-testid": "search-input",
                r#type: "search",
                placeholder: "Search messages and customers",
                maxlength: "200",
                value: "{text}",
                oninput: move |e| text.set(e.value()),
                onkeydown: move |e| {
                    if e.key() == Key::Escape {
                        clear();
                    }
                },
            }
            if searching {
                button { r#type: "button", class: "ghost", "data-testid": "search-clear", onclick: move |_| clear(), "Clear" }
            }
        }
    }
}

#[component]
pub fn SearchResults() -> Element {
    let mut state = use_context::<AppState>();
    let search = state.search.read().clone();
    let now = *state.now_ms.read();
    let empty = search.hits.is_empty();
    rsx! {
        ul { class: "conversation-list search-results", "data-testid": "search-results",
            "aria-label": "Search results for {search.query}",
            "aria-busy": if search.loading { "true" } else { "false" },
            for (i, hit) in search.hits.into_iter().enumerate() {
                li { key: "{i}",
                    button {
                        class: "conversation-item search-hit",
                        "data-testid": "search-hit",
                        "data-conversation-id": "{hit.conversation_id}",
                        "data-message-id": hit.message_id.clone().unwrap_or_default(),
                        onclick: {
                            let (conversation, message) = (hit.conversation_id.clone(), hit.message_id.clone());
                            move |_| {
                                state.focus_message.set(message.clone().map(|m| (conversation.clone(), m)));
                                state.navigate(Route::Chat(conversation.clone()));
                            }
                        },
                        span { class: "item-main",
                            span { class: "item-top",
                                span { class: "customer-name", "{hit.customer}" }
                                span { class: "item-time", {when(&hit, now)} }
                            }
                            span { class: "last-message snippet", "data-testid": "search-snippet",
                                for (j, (run, marked)) in segments(&hit.snippet, &hit.highlights).into_iter().enumerate() {
                                    if marked {
                                        mark { key: "{j}", "{run}" }
                                    } else {
                                        span { key: "{j}", "{run}" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if let Some(e) = &search.error {
                li { class: "error", role: "alert", "data-testid": "search-error", "{e}" }
            } else if search.loading && empty {
                li { class: "empty", "Searching…" }
            } else if empty {
                li { class: "empty", "data-testid": "search-empty", "Nothing matches “{search.query}”." }
            }
            if search.has_next {
                li { class: "more",
                    button {
                        class: "load-more",
                        "data-testid": "search-more",
                        disabled: search.loading,
                        onclick: move |_| {
                            spawn(async move {
                                let _ = actions::search(state, None).await;
                            });
                        },
                        if search.loading { "Loading…" } else { "More results" }
                    }
                }
            }
        }
    }
}

/// When a message hit was written; "Customer" for a name hit.
fn when(hit: &Hit, now: i64) -> String {
    match &hit.timestamp {
        Some(t) => parse_rfc3339(t)
            .map(|t| relative_time(t, now))
            .unwrap_or_default(),
        None => "Customer".to_owned(),
    }
}
