//! Settings: the sound and the desktop notification for customer messages (a new
//! conversation, or one assigned to me). Remembered in this browser; turning
//! notifications on asks the browser's permission, once, on that click.
use dioxus::prelude::*;

use crate::web::alerts;

#[component]
pub fn NotificationSettings() -> Element {
    let start = alerts::prefs();
    let mut sound = use_signal(|| start.sound);
    let mut desktop = use_signal(|| start.desktop);
    let mut permission = use_signal(alerts::permission);
    let blocked = desktop() && permission() != "granted";
    rsx! {
        section { class: "notifications", "aria-labelledby": "notifications-title",
            h2 { id: "notifications-title", "Alerts" }
            p { class: "muted", "For a new conversation and for messages in conversations assigned to you, unless it is open in front of you." }
            label { class: "check",
                input {
                    r#type: "checkbox",
                    "data-testid": "notify-sound",
                    checked: sound(),
                    onchange: move |e| {
                        alerts::set_sound(e.checked());
                        sound.set(e.checked());
                    },
                }
                "Play a sound"
            }
            label { class: "check",
                input {
                    r#type: "checkbox",
                    "data-testid": "notify-desktop",
                    checked: desktop(),
                    onchange: move |e| {
                        let on = e.checked();
                        alerts::set_desktop(on);
                        desktop.set(on);
                        if on {
                            spawn(async move {
                                permission.set(alerts::ask_permission().await);
                            });
                        }
                    },
                }
                "Show a desktop notification"
            }
            if blocked {
                p { class: "error", role: "status", "data-testid": "notify-permission", "data-permission": permission(),
                    match permission() {
                        "denied" => "The browser blocks notifications for this site: allow them in its site settings.",
                        "unsupported" => "This browser cannot show notifications.",
                        _ => "Waiting for the browser's permission…",
                    }
                }
            }
        }
    }
}
