//! Sign-in.
use dioxus::prelude::*;

use crate::ops::{Login as LoginOp, LoginAnswer, login};
use crate::web::api;
use crate::web::state::AppState;

#[component]
pub fn Login() -> Element {
    let state = use_context::<AppState>();
    let mut email = use_signal(String::new);
    let mut password = use_signal(String::new);
    let mut error = use_signal(|| None::<String>);
    let mut busy = use_signal(|| false);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        if busy() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn(async move {
            let vars = login::Variables {
                email: email.peek().trim().to_string(),
                password: password.peek().clone(),
            };
            match api::call_as::<LoginOp, LoginAnswer>(None, vars).await {
                Ok(data) => {
                    password.set(String::new());
                    state.sign_in(data.login.token, data.login.agent.into());
                }
                Err(e) => {
                    let text = match e.code.as_str() {
                        "UNAUTHENTICATED" | "BAD_USER_INPUT" => {
                            "Wrong email or password.".to_string()
                        }
                        "RATE_LIMITED" => "Too many attempts; wait a minute.".to_string(),
                        _ => format!("Sign-in failed: {e}"),
                    };
                    error.set(Some(text));
                    busy.set(false);
                }
            }
        });
    };
    rsx! {
        main { class: "login",
            form { class: "login-card", onsubmit: submit, "aria-labelledby": "login-title",
                h1 { id: "login-title", "MessengerFlow" }
                p { class: "muted", "Sign in to your team's inbox" }
                label { r#for: "login-email", "Email" }
                input {
                    id: "login-email",
                    "data-testid": "login-email",
                    r#type: "email",
                    autocomplete: "username",
                    required: true,
                    autofocus: true,
                    value: "{email}",
                    oninput: move |e| email.set(e.value()),
                }
                label { r#for: "login-password", "Password" }
                input {
                    id: "login-password",
                    "data-testid": "login-password",
                    r#type: "password",
                    autocomplete: "current-password",
                    required: true,
                    value: "{password}",
                    oninput: move |e| password.set(e.value()),
                }
                if let Some(e) = error() {
                    p { class: "error", role: "alert", "data-testid": "login-error", "{e}" }
                }
                button {
                    class: "primary",
                    r#type: "submit",
                    "data-testid": "login-submit",
                    disabled: busy(),
                    if busy() { "Signing in…" } else { "Sign in" }
                }
            }
        }
    }
}
