//! Settings: the connected Pages and their state, connecting a Page, and full
//! history sync with live progress; for administrators also the teammates and the API
//! tokens (`team`).
use dioxus::prelude::*;

use crate::model::{Page, SyncJob, SyncStatus};
use crate::web::state::AppState;
use crate::web::{actions, live};

#[component]
pub fn Settings() -> Element {
    let state = use_context::<AppState>();
    // A Page's state may have changed since sign-in (a refused token).
    use_hook(move || {
        spawn(async move {
            let _ = actions::reload_pages(state).await;
        });
    });
    let pages = state.pages.read().clone();
    let admin = super::access::is_admin(&state);
    rsx! {
        section { class: "settings", "data-testid": "settings", "aria-labelledby": "settings-title",
            h1 { id: "settings-title", "Settings" }
            super::notifications::NotificationSettings {}
            h2 { "Pages" }
            if pages.is_empty() && admin {
                p { class: "muted", "No Page is connected yet." }
            } else if pages.is_empty() {
                super::access::NoPageHelp {}
            }
            ul { class: "page-list",
                for p in pages.iter() {
                    PageRow { key: "{p.id}", page: p.clone() }
                }
            }
            // Administrators only (the server refuses it to agents: FORBIDDEN).
            if admin {
                ConnectPage {}
                super::team::Administration {}
            }
        }
    }
}

#[component]
fn PageRow(page: Page) -> Element {
    let state = use_context::<AppState>();
    let mut error = use_signal(|| None::<String>);
    let job: Option<SyncJob> = state
        .sync_jobs
        .read()
        .iter()
        .find(|j| j.page_id == page.id)
        .cloned();
    let running = job
        .as_ref()
        .is_some_and(|j| j.status == SyncStatus::RUNNING);
    let admin = super::access::is_admin(&state);
    let (state_key, state_text) = if page.needs_reconnect && page.permission_missing {
        (
            "needs-reconnect",
            if admin {
                "Needs reconnection: its token lacks a permission (such as pages_messaging); reconnect granting it"
            } else {
                "Needs reconnection: its token lacks a permission; ask an administrator to reconnect it"
            },
        )
    } else if page.needs_reconnect {
        (
            "needs-reconnect",
            if admin {
                "Needs reconnection: Facebook refused its token"
            } else {
                "Needs reconnection: Facebook refused its token; ask an administrator to reconnect it"
            },
        )
    } else if page.connected {
        ("connected", "Connected")
    } else {
        ("disconnected", "Not connected")
    };
    let page_id = page.id.clone();
    rsx! {
        li { class: "page-row", "data-testid": "page-row", "data-page-id": "{page.id}",
            div { class: "page-head",
                strong { "{page.label()}" }
                span { class: "muted", " {page.id}" }
                span {
                    class: "page-state {state_key}",
                    "data-testid": "page-state",
                    "data-state": state_key,
                    "{state_text}"
                }
            }
            div { class: "page-sync",
                button {
                    "data-testid": "sync-full-history",
                    disabled: running || !page.connected,
                    onclick: move |_| {
                        let page_id = page_id.clone();
                        error.set(None);
                        // Not tied to this screen: the progress goes on while the
                        // agent is elsewhere, and is there on coming back.
                        wasm_bindgen_futures::spawn_local(async move {
                            match actions::start_full_sync(state, page_id).await {
                                Ok(job) => {
                                    if let Some(token) = state.token.peek().clone() {
                                        live::follow_sync(state, token, job.id).await;
                                    }
                                }
                                // The row may be gone by now.
                                Err(e) => {
                                    if let Ok(mut slot) = error.try_write() {
                                        *slot = Some(e.to_string());
                                    }
                                }
                            }
                        });
                    },
                    if running { "Syncing…" } else { "Sync full history" }
                }
                if let Some(job) = job {
                    SyncProgress { job }
                }
            }
            if let Some(e) = error() {
                p { class: "error", role: "alert", "{e}" }
            }
        }
    }
}

/// The job's progress: conversations imported out of the total the server counted
/// first (it only grows while the job runs), so the bar moves steadily. Until the total
/// is known the bar stays empty and says it is counting.
#[component]
fn SyncProgress(job: SyncJob) -> Element {
    let done = job.status != SyncStatus::RUNNING;
    let now = job.conversations;
    let max = match job.total {
        _ if done => now.max(1),
        Some(total) => total.max(now).max(1),
        None => now + 1,
    };
    let percent = if done && job.status == SyncStatus::DONE {
        100
    } else {
        now * 100 / max
    };
    let text = match job.status {
        SyncStatus::DONE => format!(
            "Done: {} conversations, {} messages",
            job.conversations, job.messages
        ),
        SyncStatus::FAILED => format!(
            "Failed after {} conversations: {}",
            job.conversations,
            job.error.clone().unwrap_or_default()
        ),
        _ => match job.total {
            Some(total) => format!(
                "{} of {total} conversations, {} messages so far",
                job.conversations, job.messages
            ),
            None => "Counting conversations…".to_string(),
        },
    };
    rsx! {
        div { class: "sync",
            div {
                class: "progress",
                role: "progressbar",
                "data-testid": "sync-progress",
                "data-status": job.status.as_str(),
                "aria-label": "History sync",
                "aria-valuemin": "0",
                "aria-valuemax": "{max}",
                "aria-valuenow": "{now}",
                "aria-valuetext": "{text}",
                div { class: "bar {job.status.as_str().to_ascii_lowercase()}", width: "{percent}%" }
            }
            p { class: "muted", "data-testid": "sync-status", "{text}" }
        }
    }
}

#[component]
fn ConnectPage() -> Element {
    let state = use_context::<AppState>();
    let mut page_id = use_signal(String::new);
    let mut token = use_signal(String::new);
    let mut result = use_signal(|| None::<Result<String, String>>);
    let mut busy = use_signal(|| false);
    rsx! {
        form {
            class: "connect",
            "aria-labelledby": "connect-title",
            onsubmit: move |e| {
                e.prevent_default();
                let id = page_id.peek().trim().to_string();
                let t = token.peek().trim().to_string();
                if id.is_empty() || t.is_empty() {
                    return;
                }
                busy.set(true);
                spawn(async move {
                    match actions::connect_page(state, id.clone(), t).await {
                        Ok(()) => {
                            token.set(String::new());
                            result.set(Some(Ok(format!("Page {id} connected."))));
                        }
                        Err(e) => result.set(Some(Err(e.to_string()))),
                    }
                    busy.set(false);
                });
            },
            h2 { id: "connect-title", "Connect a Page" }
            p { class: "muted", "A Page access token from Facebook; it is checked with Facebook and never shown again." }
            label { r#for: "connect-page-id", "Page id" }
            input { id: "connect-page-id", "data-testid": "connect-page-id", required: true, value: "{page_id}", oninput: move |e| page_id.set(e.value()) }
            label { r#for: "connect-page-token", "Page access token" }
            input { id: "connect-page-token", "data-testid": "connect-page-token", r#type: "password", autocomplete: "off", required: true, value: "{token}", oninput: move |e| token.set(e.value()) }
            button { class: "primary", r#type: "submit", "data-testid": "connect-page-submit", disabled: busy(), "Connect" }
            match result() {
                Some(Ok(text)) => rsx! { p { class: "ok", role: "status", "data-testid": "connect-result", "{text}" } },
                Some(Err(text)) => rsx! { p { class: "error", role: "alert", "data-testid": "connect-error", "{text}" } },
                None => rsx! {},
            }
        }
    }
}
