//! One component per screen.
mod access;
mod chat;
mod emoji;
mod inbox;
mod labels;
mod login;
mod notes;
mod notifications;
mod search;
mod settings;
mod shortcuts;
mod story;
mod team;
mod topbar;
mod viewer;

pub use chat::Chat;
pub use inbox::Inbox;
pub use login::Login;
pub use notes::mention_notice;
pub use settings::Settings;
pub use shortcuts::ShortcutSheet;
pub use topbar::TopBar;
pub use viewer::ImageViewer;

use dioxus::prelude::*;

/// A customer's picture, or their initials when there is none or it fails to load.
#[component]
pub fn Avatar(name: String, initials: String, picture: Option<String>) -> Element {
    let mut broken = use_signal(|| false);
    match picture {
        Some(url) if !broken() => rsx! {
            img {
                class: "avatar",
                src: "{url}",
                alt: "",
                referrerpolicy: "no-referrer",
                onerror: move |_| broken.set(true),
            }
        },
        _ => rsx! { span { class: "avatar initials", "aria-hidden": "true", "{initials}" } },
    }
}
