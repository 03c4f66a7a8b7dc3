//! What the signed-in agent's role changes on screen: administrators connect Pages;
//! an agent who is a member of no Page is told what to ask an administrator for.
use dioxus::prelude::*;

use crate::model::AgentRole;
use crate::web::state::AppState;

/// Whether the signed-in agent is an administrator (the server refuses administrator
/// actions to the others with FORBIDDEN; the UI does not offer them).
pub fn is_admin(state: &AppState) -> bool {
    state
        .me
        .read()
        .as_ref()
        .is_some_and(|m| m.role == AgentRole::ADMIN)
}

/// Shown instead of an empty inbox when there is no Page to show.
#[component]
pub fn NoPageHelp() -> Element {
    let state = use_context::<AppState>();
    let admin = is_admin(&state);
    let email = state
        .me
        .read()
        .as_ref()
        .map(|m| m.email.clone())
        .unwrap_or_default();
    rsx! {
        div { class: "no-page", "data-testid": "no-page-help", role: "status",
            if admin {
                p { strong { "No Page is connected yet." } }
                p { "Connect your Facebook Page in " a { href: "#/settings", "Settings" } " with its Page access token; its conversations then appear here." }
            } else {
                p { strong { "You are not a member of any Page yet." } }
                p {
                    "Ask an administrator of MessengerFlow to add you to your team's Page. "
                    "Give them the email you sign in with, "
                    strong { "{email}" }
                    "; the Page's conversations appear here as soon as they have."
                }
            }
        }
    }
}
