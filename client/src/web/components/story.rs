//! The customer panel beside the chat: who the customer is, when they first and last
//! wrote, how much was said each way, their other conversations on this Page and how they
//! came (ads, m.me links, the chat plugin). It reloads whenever the live feed brings a
//! referral.
use dioxus::prelude::*;

use super::Avatar;
use crate::model::story::Story;
use crate::model::story::contact_time;
use crate::model::{self, Route};
use crate::ops::{ConversationFields, customer_story};
use crate::web::api;
use crate::web::browser;
use crate::web::state::AppState;

#[component]
pub fn StoryPanel(id: String) -> Element {
    let mut state = use_context::<AppState>();
    let mut copied = use_signal(|| false);
    let mut story = use_signal(|| None::<Result<Story, String>>);
    // Loads on opening, and again whenever the live feed brings a referral (the effect
    // reads `referrals_seen`, so it runs again on each).
    use_effect(move || {
        let _ = state.referrals_seen.read();
        let conversation_id = id.clone();
        spawn(async move {
            let body = api::body(
                customer_story::QUERY,
                customer_story::OPERATION_NAME,
                serde_json::json!({ "conversationId": conversation_id }),
            );
            let answer = state.gql_body(body).await;
            story.set(Some(match answer {
                Ok(data) => Story::from_json(&data["customerStory"])
                    .ok_or_else(|| "Unreadable answer".into()),
                Err(e) => Err(e.to_string()),
            }));
        });
    });
    let now = *state.now_ms.read();
    let tz = browser::timezone_offset_minutes();
    let body = match &*story.read() {
        None => rsx! { p { class: "muted", "Loading…" } },
        Some(Err(e)) => rsx! { p { class: "story-error", role: "alert", "{e}" } },
        Some(Ok(s)) => {
            let label = s.label();
            let psid = s.psid.clone();
            let others: Vec<model::Conversation> = s
                .other_conversations
                .iter()
                .filter_map(|c| serde_json::from_value::<ConversationFields>(c.clone()).ok())
                .map(Into::into)
                .collect();
            rsx! {
                div { class: "story-who",
                    Avatar { name: label.clone(), initials: label.chars().take(1).collect::<String>(), picture: s.picture_url.clone() }
                    h3 { "{label}" }
                }
                dl { class: "story-facts",
                    dt { "PSID" }
                    dd { class: "story-psid",
                        code { "data-testid": "story-psid", "{s.psid}" }
                        button {
                            class: "ghost",
                            "data-testid": "story-copy-psid",
                            onclick: move |_| {
                                let psid = psid.clone();
                                spawn(async move { copied.set(browser::copy(&psid).await) });
                            },
                            if copied() { "Copied" } else { "Copy" }
                        }
                    }
                    dt { "First contact" }
                    dd { {contact_time(s.first_contact_at.as_deref(), now, tz)} }
                    dt { "Last contact" }
                    dd { {contact_time(s.last_contact_at.as_deref(), now, tz)} }
                    dt { "Messages" }
                    dd { "{s.inbound_count} from them · {s.outbound_count} to them" }
                }
                h4 { "How they came" }
                ul { class: "story-list",
                    for r in s.referrals.iter() {
                        li { key: "{r.id}", "data-testid": "story-referral",
                            strong { {r.title()} }
                            span { {r.details(contact_time(Some(&r.at), now, tz))} }
                            if let Some(url) = r.page_link() {
                                a { href: "{url}", target: "_blank", rel: "noopener noreferrer nofollow", "{url}" }
                            }
                        }
                    }
                    if s.referrals.is_empty() {
                        li { class: "muted", "Facebook has not said." }
                    }
                }
                h4 { "Other conversations" }
                ul { class: "story-list",
                    for c in others.iter() {
                        li { key: "{c.id}",
                            button {
                                class: "ghost story-other",
                                "data-testid": "story-other",
                                onclick: {
                                    let id = c.id.clone();
                                    move |_| state.navigate(Route::Chat(id.clone()))
                                },
                                "{c.status.label()} · {c.last_message_text.clone().unwrap_or_default()}"
                            }
                        }
                    }
                    if others.is_empty() {
                        li { class: "muted", "None on this Page." }
                    }
                }
            }
        }
    };
    rsx! {
        aside { id: "customer-panel", class: "story", "data-testid": "customer-panel", "aria-label": "Customer",
            header { class: "story-head",
                h2 { "Customer" }
                button {
                    class: "ghost",
                    "data-testid": "customer-panel-close",
                    "aria-label": "Close the customer panel",
                    onclick: move |_| state.story_open.set(false),
                    "✕"
                }
            }
            {body}
        }
    }
}
