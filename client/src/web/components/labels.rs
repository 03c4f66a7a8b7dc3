//! Labels: the chips on a conversation (in the list and the chat header), the inbox's
//! filter, and the chat header's picker, which puts the Page's labels on or off the
//! conversation. Creating, renaming, recolouring and deleting them is the API's
//! (`createLabel`, `updateLabel`, `deleteLabel`); every chip follows them live.
use dioxus::prelude::*;

use crate::model::Conversation;
use crate::web::actions;
use crate::web::state::AppState;

/// A conversation's labels, as the Page has them now (a plain function, not a component:
/// its caller re-renders with the labels it reads). The colours are set as style
/// properties (CSSOM), which the Content Security Policy allows, unlike a `style` attribute.
pub fn chips(state: &AppState, c: &Conversation) -> Element {
    let labels = state.labels.read().of(c);
    if labels.is_empty() {
        return rsx! {};
    }
    rsx! {
        span { class: "labels", "data-testid": "conversation-labels",
            for l in labels {
                span {
                    class: "label-chip",
                    "data-testid": "label-chip",
                    "data-label-id": "{l.id}",
                    border_color: "{l.color}",
                    span { class: "dot", background_color: "{l.color}" }
                    "{l.name}"
                }
            }
        }
    }
}

/// The inbox's label filter ("" = every label), asked of the server; once there are labels.
pub fn filter(mut state: AppState) -> Element {
    let labels = state.labels.read().items.clone();
    let chosen = state.label_filter.read().clone().unwrap_or_default();
    if labels.is_empty() && chosen.is_empty() {
        return rsx! {};
    }
    rsx! {
        select {
            "data-testid": "filter-label",
            "aria-label": "Label",
            onchange: move |e| {
                let v = e.value();
                state.label_filter.set((!v.is_empty()).then_some(v));
            },
            option { value: "", selected: chosen.is_empty(), "All labels" }
            for l in labels {
                option { value: "{l.id}", selected: chosen == l.id, "{l.name}" }
            }
        }
    }
}

/// The chat header's picker: a checkbox per label of the Page, sent at once, and a field
/// for a new label (in the next colour of the palette).
#[component]
pub fn LabelPicker(conversation: Conversation) -> Element {
    let state = use_context::<AppState>();
    let mut open = use_signal(|| false);
    let mut error = use_signal(|| None::<String>);
    let labels = state.labels.read().clone();
    let carried = labels.of(&conversation);
    rsx! {
        div { class: "snooze label-picker",
            button {
                class: "ghost",
                "data-testid": "label-picker",
                "aria-haspopup": "true",
                "aria-expanded": if open() { "true" } else { "false" },
                onclick: move |_| open.toggle(),
                "Labels"
            }
            if open() {
                div { class: "snooze-options", role: "menu", "data-testid": "label-menu",
                    for l in labels.items.iter() {
                        label { key: "{l.id}", class: "label-option",
                            input {
                                r#type: "checkbox",
                                "data-testid": "label-option",
                                "data-label-id": "{l.id}",
                                checked: carried.iter().any(|c| c.id == l.id),
                                onchange: {
                                    let (c, id) = (conversation.clone(), l.id.clone());
                                    move |e: FormEvent| {
                                        let ids = state.labels.peek().toggled(&c, &id, e.checked());
                                        let c = c.clone();
                                        spawn(async move {
                                            let done = actions::set_labels(state, c, ids).await;
                                            error.set(done.err().map(|e| e.to_string()));
                                        });
                                    }
                                },
                            }
                            span {
                                class: "label-chip",
                                border_color: "{l.color}",
                                span { class: "dot", background_color: "{l.color}" }
                                "{l.name}"
                            }
                        }
                    }
                    if let Some(e) = error() {
                        p { class: "error", role: "alert", "data-testid": "label-error", "{e}" }
                    }
                }
            }
        }
    }
}
