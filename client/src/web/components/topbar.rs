//! The bar above every screen: Page picker, presence, connection state, settings,
//! sign-out.
use dioxus::prelude::*;

use crate::model::{PresenceStatus, Route, alerts};
use crate::web::state::AppState;
use crate::web::{actions, alerts as tab};

#[component]
pub fn TopBar() -> Element {
    let mut state = use_context::<AppState>();
    // The tab's title and favicon carry the unread total, live.
    use_effect(move || {
        let page_id = state.page_id.read();
        tab::show_unread(alerts::unread_total(
            &state.pages.read(),
            page_id.as_deref(),
        ));
    });
    use_drop(|| tab::show_unread(0));
    let pages = state.pages.read().clone();
    let page_id = state.page_id.read().clone().unwrap_or_default();
    let connection_state = *state.connection.read();
    let connection = connection_state.as_str();
    let connection_label = connection_state.label();
    let me = state.me.read().clone();
    let presence = state.presence.read().clone();
    let on_settings = *state.route.read() == Route::Settings;
    rsx! {
        header { class: "topbar",
            a { class: "brand", href: "#/", "MessengerFlow" }
            if pages.len() > 1 {
                label { class: "sr-only", r#for: "page-select", "Page" }
                select {
                    id: "page-select",
                    "data-testid": "page-select",
                    value: "{page_id}",
                    onchange: move |e| {
                        let v = e.value();
                        // Labels are the Page's own: the new Page's come with its feed.
                        state.label_filter.set(None);
                        state.labels.set(Default::default());
                        state.page_id.set(Some(v));
                        state.navigate(Route::Inbox);
                    },
                    for p in pages.iter() {
                        option { value: "{p.id}", selected: p.id == page_id, "{p.label()}" }
                    }
                }
            } else if let Some(p) = pages.first() {
                span { class: "page-name", "data-testid": "page-name", "{p.label()}" }
            }
            ul { class: "presence", "data-testid": "presence", "aria-label": "Agents",
                for p in presence.iter() {
                    li {
                        key: "{p.agent.id}",
                        class: "presence-agent",
                        "data-testid": "presence-agent",
                        "data-agent-id": "{p.agent.id}",
                        "data-status": p.status.as_str(),
                        title: "{p.agent.name}: {presence_label(p.status)}",
                        span { class: "dot {p.status.as_str().to_ascii_lowercase()}", "aria-hidden": "true" }
                        span { class: "presence-name", "{p.agent.name}" }
                        span { class: "sr-only", " ({presence_label(p.status)})" }
                    }
                }
            }
            span {
                class: "connection {connection}",
                "data-testid": "connection-state",
                "data-state": connection,
                role: "status",
                "{connection_label}"
            }
            a {
                class: if on_settings { "nav-link active" } else { "nav-link" },
                href: "#/settings",
                "data-testid": "settings-link",
                "aria-current": if on_settings { "page" } else { "false" },
                "Settings"
            }
            if let Some(me) = me {
                span { class: "me", title: "{me.email}", "{me.name}" }
                label { class: "sr-only", r#for: "presence-self", "My presence" }
                select {
                    id: "presence-self",
                    "data-testid": "presence-self",
                    onchange: move |e| {
                        if let Some(status) = PresenceStatus::parse(&e.value()) {
                            spawn(async move {
                                let _ = actions::set_presence(state, status).await;
                            });
                        }
                    },
                    for s in [PresenceStatus::ONLINE, PresenceStatus::AWAY, PresenceStatus::OFFLINE] {
                        option {
                            value: s.as_str(),
                            selected: presence.iter().any(|p| p.agent.id == me.id && p.status == s),
                            {presence_label(s)}
                        }
                    }
                }
            }
            button {
                class: "ghost",
                "data-testid": "sign-out",
                onclick: move |_| {
                    spawn(actions::sign_out(state));
                },
                "Sign out"
            }
        }
    }
}

fn presence_label(s: PresenceStatus) -> &'static str {
    match s {
        PresenceStatus::ONLINE => "online",
        PresenceStatus::AWAY => "away",
        _ => "offline",
    }
}
