//! The browser side: the Dioxus app and everything it needs from the browser.
use dioxus::prelude::*;

mod actions;
mod alerts;
mod api;
mod browser;
mod components;
mod keyboard;
mod live;
mod state;

use crate::model::{ListFilter, Route};
use components::{
    Chat, ImageViewer, Inbox, Login, Settings, ShortcutSheet, TopBar, mention_notice,
};
use state::{AppState, Connection};

pub fn launch() {
    dioxus::launch(App);
}

#[component]
fn App() -> Element {
    let state = use_context_provider(AppState::new);
    use_hook(move || {
        let mut route = state.route;
        browser::on_hash_change(move |hash| {
            let parsed = Route::parse(&hash);
            if *route.peek() != parsed {
                route.set(parsed);
            }
        });
    });
    // Relative times ("5m") and the window indicator follow the clock.
    use_future(move || async move {
        let mut now = state.now_ms;
        loop {
            browser::sleep_ms(15_000).await;
            now.set(browser::now_ms());
        }
    });
    let token = state.token.read().clone();
    match token {
        None => rsx! { Login {} },
        // In a keyed list, so another session mounts afresh (see `components::Chat`).
        Some(token) => rsx! {
            for token in std::iter::once(token) {
                Workspace { key: "{token}", token }
            }
        },
    }
}

/// Everything behind sign-in.
#[component]
fn Workspace(token: String) -> Element {
    let state = use_context::<AppState>();
    let mut load_error = use_signal(|| None::<String>);
    let mut session_loaded = use_signal(|| false);
    // The Page and filter the list was last loaded for (not reactive).
    let mut listed = use_hook(|| CopyValue::new(None::<(Option<String>, ListFilter)>));
    let mut session = use_resource(move || async move {
        match actions::load_session(state).await {
            Ok(()) => {
                load_error.set(None);
                // The first list in the same task: not a render and an effect later.
                listed.set(Some((state.page_id.peek().clone(), state.list_filter())));
                if let Err(e) = actions::load_conversations(state).await {
                    load_error.set(Some(e.to_string()));
                }
                session_loaded.set(true);
            }
            Err(e) => load_error.set(Some(e.to_string())),
        }
    });
    // A new Page or filter starts the list again.
    use_effect(move || {
        let page = state.page_id.read().clone();
        let _filter = state.status_filter.read();
        let _assignee = state.assignee_filter.read();
        let _ending_soon = state.ending_soon.read();
        let _label = state.label_filter.read();
        if !session_loaded() {
            return;
        }
        let selection = Some((page, state.list_filter()));
        if *listed.peek() == selection {
            return;
        }
        listed.set(selection);
        spawn(async move {
            if let Err(e) = actions::load_conversations(state).await {
                load_error.set(Some(e.to_string()));
            }
        });
    });
    // The keyboard shortcuts, for as long as the session lasts.
    let sheet = use_signal(|| false);
    let mut shortcut_error = use_signal(|| None::<String>);
    let resolve = use_coroutine(move |mut ids: UnboundedReceiver<String>| async move {
        use futures::StreamExt;
        while let Some(id) = ids.next().await {
            let resolved = Some(crate::model::ConversationStatus::RESOLVED);
            match actions::update_conversation(state, id, resolved, None, false).await {
                Ok(()) => shortcut_error.set(None),
                Err(e) => shortcut_error.set(Some(e.to_string())),
            }
        }
    });
    use_hook(move || std::rc::Rc::new(keyboard::listen(state, sheet, resolve)));
    let route = state.route.read().clone();
    let page_id = state.page_id.read().clone();
    let chat_open = matches!(route, Route::Chat(_));
    rsx! {
        div { class: "app",
            TopBar {}
            if let Some(e) = load_error() {
                div { class: "banner error", role: "alert", "data-testid": "load-error",
                    "Could not load the inbox: {e} "
                    button { onclick: move |_| session.restart(), "Try again" }
                }
            }
            if let Some(e) = shortcut_error() {
                div { class: "banner error", role: "alert", "data-testid": "shortcut-error",
                    "Could not resolve the conversation: {e}"
                }
            }
            ShortcutSheet { open: sheet }
            ImageViewer {}
            {mention_notice(state)}
            // In a keyed list, so another Page starts its own feed (see `components::Chat`).
            for page_id in page_id.into_iter() {
                Live { key: "{page_id}", token: token.clone(), page_id }
            }
            if route == Route::Settings {
                main { class: "body", Settings {} }
            } else {
                main { class: if chat_open { "body chat-open" } else { "body" },
                    Inbox {}
                    Chat {}
                }
            }
        }
    }
}

/// Holds the live feed of one Page; remounted when the Page or the session changes.
#[component]
fn Live(token: String, page_id: String) -> Element {
    let mut state = use_context::<AppState>();
    use_future(move || live::run(state, token.clone(), page_id.clone()));
    use_drop(move || state.connection.set(Connection::Idle));
    rsx! {}
}
