//! The conversation list: newest first, live, filtered, and driven by the keyboard
//! (Up/Down or j/k move, Enter opens).
//!
//! The first page is the five newest (the fast first load); then further pages come at
//! once until the column is full, and again whenever the end of the list scrolls near
//! (scrolling, a resize, the list shown again after a chat on a narrow screen), so no
//! half-empty column waits behind a button. "Load more" stays at the end of the list
//! for the keyboard and as a fallback.
use std::rc::Rc;

use dioxus::prelude::*;

use super::Avatar;
use crate::model::parse_rfc3339;
use crate::model::{AssigneeChoice, Conversation, ConversationStatus, Route, relative_time};
use crate::web::actions;
use crate::web::browser;
use crate::web::state::AppState;

/// The scrolling list's element id.
const LIST_ID: &str = "conversation-list";
/// More is loaded when the list's end is closer than this below its visible part
/// (about four conversations), so scrolling rarely reaches the end before it.
const NEAR_END_PX: i32 = 300;

/// Loads further pages while the list's end is near (or the column is not full) and
/// there are more. One runs at a time: `busy` says one is under way.
async fn fill(state: AppState, mut busy: Signal<bool>, mut error: Signal<Option<String>>) {
    if *busy.peek() {
        return;
    }
    let mut loading = false;
    loop {
        // Let the last page render before measuring.
        browser::sleep_ms(0).await;
        let more = {
            let list = state.conversations.peek();
            list.loaded && list.has_next
        };
        if !more || !browser::near_end(LIST_ID, NEAR_END_PX) || (!loading && *busy.peek()) {
            break;
        }
        if !loading {
            loading = true;
            busy.set(true);
        }
        match actions::load_more_conversations(state).await {
            Ok(()) => {
                if error.peek().is_some() {
                    error.set(None);
                }
            }
            Err(e) => {
                error.set(Some(e.to_string()));
                break;
            }
        }
    }
    if loading {
        busy.set(false);
    }
}

#[component]
pub fn Inbox() -> Element {
    let mut state = use_context::<AppState>();
    let mut loading_more = use_signal(|| false);
    let mut error = use_signal(|| None::<String>);
    // After every change of the list (a page, a live event, a reset) and of the route
    // (the list shown again on a narrow screen): fill the column if it is not full.
    use_effect(move || {
        let _list = state.conversations.read();
        let _route = state.route.read();
        spawn(fill(state, loading_more, error));
    });
    // A window listener runs outside the Dioxus runtime, where `spawn` panics (and the
    // whole app stops): it only signals this coroutine, which fills the column.
    let refill = use_coroutine(move |mut resized: UnboundedReceiver<()>| async move {
        use futures::StreamExt;
        while resized.next().await.is_some() {
            fill(state, loading_more, error).await;
        }
    });
    use_hook(move || Rc::new(browser::on_window("resize", move || refill.send(()))));
    let list = state.conversations.read().clone();
    let no_page = state.page_id.read().is_none();
    let filter = *state.status_filter.read();
    let assignee = state.assignee_filter.read().clone();
    let ending_soon = *state.ending_soon.read();
    let agents = state.presence.read().clone();
    let open = state.open_conversation();
    let now = *state.now_ms.read();
    // The server filtered the list; "ending soon" also drops the windows that closed
    // since (the clock moves on between loads).
    let list_filter = state.list_filter();
    let shown: Vec<Conversation> = list
        .items
        .iter()
        .filter(|c| !ending_soon || list_filter.matches(c, now))
        .cloned()
        .collect();
    let ids: Vec<String> = shown.iter().map(|c| c.id.clone()).collect();

    let mut load_more = move || {
        if loading_more() || !state.conversations.peek().has_next {
            return;
        }
        loading_more.set(true);
        spawn(async move {
            match actions::load_more_conversations(state).await {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e.to_string())),
            }
            loading_more.set(false);
        });
    };
    // After sign-in (or a reload) the keyboard starts in the list: j/k work at once.
    let mut focused_once = use_signal(|| false);
    use_effect(move || {
        let ready = {
            let list = state.conversations.read();
            list.loaded && !list.items.is_empty()
        };
        if !ready || *focused_once.peek() {
            return;
        }
        focused_once.set(true);
        spawn(async move {
            browser::sleep_ms(0).await;
            if browser::nothing_focused() {
                browser::focus_list_item(state.open_conversation_now().as_deref());
            }
        });
    });
    let keys = ids.clone();
    let onkeydown = move |e: KeyboardEvent| {
        // With a modifier these are other shortcuts (Alt+Down: the next conversation).
        let m = e.modifiers();
        if m.alt() || m.ctrl() || m.meta() {
            return;
        }
        let key = e.key().to_string();
        let step: i64 = match key.as_str() {
            "ArrowDown" | "j" => 1,
            "ArrowUp" | "k" => -1,
            _ => return,
        };
        e.prevent_default();
        let focused = focused_conversation();
        let at = focused
            .and_then(|id| keys.iter().position(|k| *k == id))
            .map_or(0, |i| {
                (i as i64 + step).clamp(0, keys.len() as i64 - 1) as usize
            });
        if let Some(id) = keys.get(at) {
            browser::focus(&format!("[data-conversation-id=\"{id}\"]"));
        }
        if step > 0 && at + 1 >= keys.len() {
            load_more();
        }
    };

    rsx! {
        section { class: "inbox", "data-testid": "inbox", "aria-label": "Conversations",
            div { class: "filters",
                label { class: "sr-only", r#for: "filter-status", "Status" }
                select {
                    id: "filter-status",
                    "data-testid": "filter-status",
                    onchange: move |e| {
                        state.status_filter.set(ConversationStatus::parse(&e.value()));
                    },
                    option { value: "", selected: filter.is_none(), "All statuses" }
                    for s in ConversationStatus::ALL.iter() {
                        option { value: s.as_str(), selected: filter == Some(*s), "{s.label()}" }
                    }
                }
                label { class: "sr-only", r#for: "filter-assignee", "Assignee" }
                select {
                    id: "filter-assignee",
                    "data-testid": "filter-assignee",
                    onchange: move |e| state.assignee_filter.set(AssigneeChoice::parse(&e.value())),
                    option { value: "", selected: assignee == AssigneeChoice::All, "Everyone" }
                    option { value: "me", selected: assignee == AssigneeChoice::Mine, "Mine" }
                    option { value: "unassigned", selected: assignee == AssigneeChoice::Unassigned, "Unassigned" }
                    for p in agents.iter() {
                        option {
                            value: AssigneeChoice::Agent(p.agent.id.clone()).value(),
                            selected: assignee == AssigneeChoice::Agent(p.agent.id.clone()),
                            "{p.agent.name}"
                        }
                    }
                }
                button {
                    class: if ending_soon { "toggle on" } else { "toggle" },
                    "data-testid": "filter-ending-soon",
                    "aria-pressed": if ending_soon { "true" } else { "false" },
                    title: "Open conversations whose 24-hour reply window closes within 4 hours, soonest first",
                    onclick: move |_| {
                        let on = !*state.ending_soon.peek();
                        state.ending_soon.set(on);
                    },
                    "Ending soon"
                }
                {super::labels::filter(state)}
            }
            if let Some(e) = error() {
                p { class: "error", role: "alert", "{e}" }
            }
            ul {
                class: "conversation-list",
                id: LIST_ID,
                "data-testid": "conversation-list",
                "aria-label": if ending_soon { "Conversations, reply window closing soonest first" } else { "Conversations, newest first" },
                "aria-busy": if loading_more() { "true" } else { "false" },
                onkeydown,
                onscroll: move |_| {
                    spawn(fill(state, loading_more, error));
                },
                for c in shown.iter() {
                    ConversationItem {
                        key: "{c.id}",
                        conversation: c.clone(),
                        selected: open.as_deref() == Some(c.id.as_str()),
                        now,
                    }
                }
                if list.loaded && shown.is_empty() && no_page {
                    li { super::access::NoPageHelp {} }
                } else if list.loaded && shown.is_empty() {
                    li { class: "empty", "data-testid": "inbox-empty",
                        {list_filter.empty_text()}
                    }
                }
                if !list.loaded {
                    li { class: "empty", "Loading…" }
                }
                if list.loaded && list.has_next {
                    li { class: "more",
                        button {
                            class: "load-more",
                            "data-testid": "load-more",
                            disabled: loading_more(),
                            onclick: move |_| load_more(),
                            if loading_more() { "Loading…" } else { "Load more" }
                        }
                    }
                }
            }
        }
    }
}

/// The conversation whose item has the keyboard focus, if any.
fn focused_conversation() -> Option<String> {
    let el = web_sys::window()?.document()?.active_element()?;
    el.closest("[data-conversation-id]")
        .ok()
        .flatten()?
        .get_attribute("data-conversation-id")
}

#[component]
fn ConversationItem(conversation: Conversation, selected: bool, now: i64) -> Element {
    let state = use_context::<AppState>();
    let c = conversation;
    let time = parse_rfc3339(&c.last_timestamp)
        .map(|t| relative_time(t, now))
        .unwrap_or_default();
    let window = c.window(now);
    let id = c.id.clone();
    let unread = c.unread_count;
    rsx! {
        li {
            button {
                class: if selected { "conversation-item selected" } else { "conversation-item" },
                "data-testid": "conversation-item",
                "data-conversation-id": "{c.id}",
                "data-status": c.status.as_str(),
                "data-unread": "{unread}",
                "aria-current": if selected { "true" } else { "false" },
                onclick: move |_| state.navigate(Route::Chat(id.clone())),
                Avatar { name: c.customer_label(), initials: c.initials(), picture: c.customer_picture.clone() }
                span { class: "item-main",
                    span { class: "item-top",
                        span { class: "customer-name", "data-testid": "customer-name", "{c.customer_label()}" }
                        time { class: "item-time", datetime: "{c.last_timestamp}", title: "{c.last_timestamp}", "{time}" }
                    }
                    span { class: "item-bottom",
                        span { class: "last-message", "data-testid": "last-message",
                            {c.last_message_text.clone().unwrap_or_default()}
                        }
                        if unread > 0 {
                            span { class: "unread-badge", "data-testid": "unread-badge", "aria-label": "{unread} unread", "{unread}" }
                        }
                    }
                    span { class: "item-meta",
                        span { class: "status-chip {c.status.as_str().to_ascii_lowercase()}", "data-testid": "conversation-status-chip", "{c.status.label()}" }
                        span { class: "item-window {window.state()} {window.urgency()}", "data-window": window.state(), "data-urgency": window.urgency(), {short_window(window)} }
                        if let Some(a) = &c.assignee {
                            span { class: "assignee", "→ {a.name}" }
                        }
                    }
                    {super::labels::chips(&state, &c)}
                }
            }
        }
    }
}

fn short_window(w: crate::model::Window) -> String {
    use crate::model::{Window, format_left};
    match w {
        Window::Standard { left_ms, .. } => format!("{} to reply", format_left(left_ms)),
        Window::HumanAgent { left_ms } => format!("agent {}", format_left(left_ms)),
        Window::Closed => "window closed".into(),
        Window::Unknown => String::new(),
    }
}
