//! The tab's unread total (title and favicon) and the optional sound and desktop
//! notification for customer messages (see `model::alerts` for when). Both choices
//! are remembered in `localStorage`; the browser's notification permission is asked
//! only when the agent turns notifications on in Settings (a click).
use std::cell::RefCell;

use dioxus::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::browser;
use super::state::AppState;
use crate::model::alerts;
use crate::model::{Message, Note, Route};

const SOUND_KEY: &str = "messengerflow.alerts.sound";
const DESKTOP_KEY: &str = "messengerflow.alerts.desktop";
/// How long an alert waits for the conversation's own event (which follows its
/// message's), so it can name the customer and see the assignee.
const SETTLE_MS: u32 = 250;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn flag(key: &str) -> bool {
    storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .is_some_and(|v| v == "on")
}

fn set_flag(key: &str, on: bool) {
    if let Some(s) = storage() {
        let _ = if on {
            s.set_item(key, "on")
        } else {
            s.remove_item(key)
        };
    }
}

/// The agent's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    pub sound: bool,
    pub desktop: bool,
}

pub fn prefs() -> Prefs {
    Prefs {
        sound: flag(SOUND_KEY),
        desktop: flag(DESKTOP_KEY),
    }
}

pub fn set_sound(on: bool) {
    set_flag(SOUND_KEY, on);
    if on {
        // Also unlocks audio in this tab (it starts on a click).
        play_sound();
    }
}

pub fn set_desktop(on: bool) {
    set_flag(DESKTOP_KEY, on);
}

/// The browser's notification permission: `granted`, `denied`, `default` (not asked
/// yet), or `unsupported`.
pub fn permission() -> &'static str {
    let supported = web_sys::window()
        .is_some_and(|w| js_sys::Reflect::has(&w, &"Notification".into()).unwrap_or(false));
    if !supported {
        return "unsupported";
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Granted => "granted",
        web_sys::NotificationPermission::Denied => "denied",
        _ => "default",
    }
}

/// Asks the browser for the permission (only while it was never answered) and says
/// what it is then.
pub async fn ask_permission() -> &'static str {
    if permission() == "default"
        && let Ok(promise) = web_sys::Notification::request_permission()
    {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    permission()
}

/// Shows the unread total in the tab's title and favicon.
pub fn show_unread(total: i64) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let title = alerts::title(total);
    if doc.title() != title {
        doc.set_title(&title);
    }
    let icon = match doc.query_selector("link[rel~='icon']").ok().flatten() {
        Some(icon) => icon,
        None => {
            let Ok(icon) = doc.create_element("link") else {
                return;
            };
            let _ = icon.set_attribute("rel", "icon");
            if let Some(head) = doc.head() {
                let _ = head.append_child(&icon);
            }
            icon
        }
    };
    let unread = total.to_string();
    if icon.get_attribute("data-unread").as_deref() != Some(unread.as_str()) {
        let svg = String::from(js_sys::encode_uri_component(&alerts::favicon_svg(total)));
        let _ = icon.set_attribute("type", "image/svg+xml");
        let _ = icon.set_attribute("href", &format!("data:image/svg+xml,{svg}"));
        let _ = icon.set_attribute("data-unread", &unread);
    }
}

thread_local! {
    static AUDIO: RefCell<Option<web_sys::AudioContext>> = const { RefCell::new(None) };
}

/// A short two-tone chime, made by Web Audio (no file to fetch).
fn play_sound() {
    AUDIO.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = web_sys::AudioContext::new().ok();
        }
        let Some(ctx) = slot.as_ref() else { return };
        let _ = ctx.resume();
        let start = ctx.current_time();
        for (i, hz) in [880.0_f32, 1320.0].into_iter().enumerate() {
            let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
                return;
            };
            let at = start + 0.12 * i as f64;
            osc.frequency().set_value(hz);
            gain.gain().set_value(0.08);
            let _ = osc.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&ctx.destination());
            let _ = osc.start_with_when(at);
            let _ = osc.stop_with_when(at + 0.1);
        }
    });
}

fn show_notification(title: &str, body: &str, conversation_id: &str, state: AppState) {
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag(&format!("conversation-{conversation_id}"));
    let Ok(n) = web_sys::Notification::new_with_options(title, &options) else {
        return;
    };
    let id = conversation_id.to_string();
    let onclick = Closure::<dyn FnMut()>::new(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.focus();
        }
        state.navigate(Route::Chat(id.clone()));
    });
    n.set_onclick(Some(onclick.as_ref().unchecked_ref()));
    // Lives as long as the notification may be clicked.
    onclick.forget();
}

/// A note just came in live: one that mentions the signed-in agent shows in the inbox
/// (until opened or dismissed), with the sound and the desktop notification the agent
/// chose, unless the conversation is open in front of them. A replay of an old one
/// (a reconnect) does not alert again.
pub fn on_note(mut state: AppState, note: &Note) {
    let me = state.me.peek().as_ref().map(|m| m.id.clone());
    let fresh = crate::model::parse_rfc3339(&note.created_at)
        .is_some_and(|t| browser::now_ms() - t < alerts::FRESH_MS);
    let known = state
        .threads
        .peek()
        .get(&note.conversation_id)
        .is_some_and(|t| t.notes.iter().any(|n| n.id == note.id));
    if !note.mentions_me(me.as_deref()) || !fresh || known {
        return;
    }
    state.mention.set(Some(note.clone()));
    let watching = browser::visible()
        && state.open_conversation_now().as_deref() == Some(note.conversation_id.as_str());
    let prefs = prefs();
    if watching {
        return;
    }
    if prefs.sound {
        play_sound();
    }
    if prefs.desktop && permission() == "granted" {
        let title = format!("{} mentioned you", note.author.1);
        show_notification(&title, &note.text, &note.conversation_id, state);
    }
}

/// A customer's message just came in live (first time seen): alerts the agent when
/// `model::alerts::alert_for` says so and the agent turned an alert on.
pub fn on_message(state: AppState, message: &Message) {
    let prefs = prefs();
    let desktop = prefs.desktop && permission() == "granted";
    if !prefs.sound && !desktop {
        return;
    }
    let listed = alerts::listed_before(&state.conversations.peek(), message);
    let message = message.clone();
    wasm_bindgen_futures::spawn_local(async move {
        browser::sleep_ms(SETTLE_MS).await;
        let conversation = state
            .conversations
            .peek()
            .get(&message.conversation_id)
            .cloned();
        let me = state.me.peek().as_ref().map(|m| m.id.clone());
        let watching = browser::visible()
            && state.open_conversation_now().as_deref() == Some(message.conversation_id.as_str());
        let Some(alert) = alerts::alert_for(
            &message,
            listed,
            conversation.as_ref(),
            me.as_deref(),
            watching,
            browser::now_ms(),
        ) else {
            return;
        };
        if prefs.sound {
            play_sound();
        }
        if desktop {
            let (title, body) = alerts::describe(alert, conversation.as_ref(), &message);
            show_notification(&title, &body, &message.conversation_id, state);
        }
    });
}
