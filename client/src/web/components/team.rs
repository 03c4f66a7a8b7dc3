//! Settings for administrators: the teammates (create, role, Pages, password, deactivate)
//! and the API tokens (create, shown once, revoke).
//!
//! Small in the wasm by construction (the first version of this screen weighed 21 KB
//! gzipped): one component holds the screen in one signal ([`Screen`]) and has two
//! handlers, a click and a submit, shared by every row and both forms: each control
//! names what it does in `data-act`, its row the agent or token in `data-id`, read from
//! the element clicked (`browser::acted`). Every change is one [`Change`]; its request is
//! the operation's generated document with its variables as JSON, sent through one
//! shared future (`AppState::gql_body`); both lists are then asked for again in one
//! request (`Team`) and read from the JSON.
use dioxus::html::FormValue;
use dioxus::prelude::*;
use dioxus::web::WebEventExt;
use serde_json::{Value, json};

use crate::model::{AgentRole, Page};
use crate::ops::*;
use crate::web::api;
use crate::web::browser;
use crate::web::state::AppState;

/// A change an administrator asks for.
#[derive(Clone)]
enum Change {
    /// Email, name, role, password.
    CreateAgent([String; 4]),
    Role(String, AgentRole),
    /// Adds (`true`) or removes the agent from the Page.
    Member(String, String, bool),
    Deactivate(String),
    ResetPassword(String),
    CreateToken(String, Vec<String>),
    Revoke(String),
}

impl Change {
    fn of_tokens(&self) -> bool {
        matches!(self, Self::CreateToken(..) | Self::Revoke(_))
    }

    /// The row whose confirmation it waits for, if it asks first.
    fn asks(&self) -> Option<&str> {
        match self {
            Self::Deactivate(id) | Self::ResetPassword(id) | Self::Revoke(id) => Some(id),
            _ => None,
        }
    }

    /// Its request, and the secret to show once: what it is, and where the answer has
    /// it (`""`: the value given, a password the administrator chose).
    fn request(self) -> (String, Option<(String, &'static str, String)>) {
        let (query, operation, variables) = match &self {
            Self::CreateAgent([email, name, role, password]) => (
                create_agent::QUERY,
                create_agent::OPERATION_NAME,
                json!({ "input": { "email": email, "name": name, "role": role, "password": password } }),
            ),
            Self::Role(id, role) => (
                set_agent_role::QUERY,
                set_agent_role::OPERATION_NAME,
                json!({ "id": id, "role": role.as_str() }),
            ),
            Self::Member(page, agent, on) => {
                let (query, operation) = if *on {
                    (add_page_member::QUERY, add_page_member::OPERATION_NAME)
                } else {
                    (
                        remove_page_member::QUERY,
                        remove_page_member::OPERATION_NAME,
                    )
                };
                (
                    query,
                    operation,
                    json!({ "pageId": page, "agentId": agent }),
                )
            }
            Self::CreateToken(name, page_ids) => (
                create_api_token::QUERY,
                create_api_token::OPERATION_NAME,
                json!({ "name": name, "pageIds": page_ids }),
            ),
            Self::Deactivate(id) | Self::ResetPassword(id) | Self::Revoke(id) => {
                let (query, operation) = match &self {
                    Self::Deactivate(_) => {
                        (deactivate_agent::QUERY, deactivate_agent::OPERATION_NAME)
                    }
                    Self::ResetPassword(_) => (
                        reset_agent_password::QUERY,
                        reset_agent_password::OPERATION_NAME,
                    ),
                    _ => (revoke_api_token::QUERY, revoke_api_token::OPERATION_NAME),
                };
                (query, operation, json!({ "id": id }))
            }
        };
        let secret = match self {
            Self::CreateAgent([_, name, _, password]) => {
                Some((format!("{name}'s first password: hand it on"), "", password))
            }
            Self::ResetPassword(_) => Some((
                "The new password: hand it on".into(),
                "/resetAgentPassword/password",
                String::new(),
            )),
            Self::CreateToken(..) => Some((
                "The token: copy it now, it is never shown again".into(),
                "/createApiToken/token",
                String::new(),
            )),
            _ => None,
        };
        (api::body(query, operation, variables), secret)
    }
}

/// An agent as listed (`Team`), read from the answer's JSON: a few lookups weigh less
/// in the wasm than a derived decoder per type.
struct TeamAgent {
    id: String,
    email: String,
    name: String,
    role: AgentRole,
    active: bool,
    page_ids: Vec<String>,
}

/// An API token as listed: never its secret.
struct TokenRow {
    id: String,
    name: String,
    page_ids: Vec<String>,
    created_at: String,
    revoked: bool,
    /// The agent it acts for.
    by: String,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or_default()
}

fn page_ids(v: &Value) -> Vec<String> {
    let ids = v.get("pageIds").and_then(Value::as_array);
    ids.into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

impl TeamAgent {
    fn read(v: &Value) -> Self {
        Self {
            id: text(v, "id"),
            email: text(v, "email"),
            name: text(v, "name"),
            role: AgentRole::parse(&text(v, "role")).unwrap_or(AgentRole::AGENT),
            active: flag(v, "active"),
            page_ids: page_ids(v),
        }
    }
}

impl TokenRow {
    fn read(v: &Value) -> Self {
        let by = v
            .get("agent")
            .map(|a| text(a, "name"))
            .filter(|n| !n.is_empty());
        Self {
            id: text(v, "id"),
            name: text(v, "name"),
            page_ids: page_ids(v),
            created_at: text(v, "createdAt"),
            revoked: flag(v, "revoked"),
            by: by.unwrap_or_else(|| "a former agent".into()),
        }
    }
}

/// A secret shown once (what it is, the value), or the server's refusal.
type Outcome = Option<Result<(String, String), String>>;

/// Everything the screen shows.
#[derive(Default)]
struct Screen {
    agents: Vec<TeamAgent>,
    tokens: Vec<TokenRow>,
    /// A change waiting for its confirmation.
    pending: Option<Change>,
    /// After a change of the teammates (0) or of the tokens (1).
    outcome: [Outcome; 2],
    busy: bool,
    copied: bool,
    /// Bumped when a change is refused: the rows are drawn afresh, so a select or a box
    /// the refused change moved shows the server's value again.
    refused: u32,
}

type S = Signal<Screen>;

/// Runs `change` (none: only reloads), then shows the lists as the server has them now;
/// whether it was done.
async fn run(state: AppState, mut screen: S, change: Option<Change>) -> bool {
    let slot = usize::from(change.as_ref().is_some_and(Change::of_tokens));
    {
        let mut s = screen.write();
        s.pending = None;
        s.busy = true;
    }
    let mut result = Ok(None);
    if let Some(change) = change {
        let (body, secret) = change.request();
        result = state.gql_body(body).await.map(|answer| {
            let (what, at, mut value) = secret?;
            if !at.is_empty() {
                value = answer.pointer(at)?.as_str()?.to_string();
            }
            Some((what, value))
        });
    }
    let team = match &result {
        Ok(_) => {
            state
                .gql_body(api::body(team::QUERY, team::OPERATION_NAME, json!({})))
                .await
        }
        Err(e) => Err(e.clone()),
    };
    let mut s = screen.write();
    s.busy = false;
    match (team, result) {
        (Ok(team), Ok(secret)) => {
            s.agents = list(&team, "agents").map(TeamAgent::read).collect();
            s.tokens = list(&team, "apiTokens").map(TokenRow::read).collect();
            if secret.is_some() {
                s.outcome[slot] = secret.map(Ok);
                s.copied = false;
            } else if matches!(s.outcome[slot], Some(Err(_))) {
                // A secret stays until "Done"; a refusal goes.
                s.outcome[slot] = None;
            }
            true
        }
        (Err(e), _) | (_, Err(e)) => {
            s.outcome[slot] = Some(Err(e.to_string()));
            s.refused += 1;
            false
        }
    }
}

fn start(state: AppState, screen: S, change: Option<Change>) {
    spawn(async move {
        run(state, screen, change).await;
    });
}

/// What a control named in `data-act` asks for.
fn acted(state: AppState, mut screen: S, a: browser::Acted) {
    let slot = usize::from(a.id == "1");
    let change = match a.act.as_str() {
        "admin" => Some(Change::Role(a.id, AgentRole::ADMIN)),
        "agent" => Some(Change::Role(a.id, AgentRole::AGENT)),
        "member" => Some(Change::Member(a.value, a.id, a.on)),
        "reset" => Some(Change::ResetPassword(a.id)),
        "deactivate" => Some(Change::Deactivate(a.id)),
        "revoke" => Some(Change::Revoke(a.id)),
        "yes" => screen.peek().pending.clone(),
        "no" => {
            screen.write().pending = None;
            None
        }
        "copy" => {
            if let Some(Ok((_, value))) = screen.peek().outcome[slot].clone() {
                browser::select(&format!("shown-once-{slot}"));
                spawn(async move {
                    let copied = browser::copy(&value).await;
                    screen.write().copied = copied;
                });
            }
            None
        }
        "done" => {
            screen.write().outcome[slot] = None;
            None
        }
        _ => None,
    };
    let Some(change) = change else {
        return;
    };
    if a.act != "yes" && change.asks().is_some() {
        screen.write().pending = Some(change);
        // The safe answer has the focus.
        spawn(async {
            browser::sleep_ms(0).await;
            browser::focus("#confirm-no");
        });
    } else {
        start(state, screen, Some(change));
    }
}

/// A form field's text.
fn field(e: &FormEvent, name: &str) -> String {
    match e.get_first(name) {
        Some(FormValue::Text(text)) => text.trim().to_string(),
        _ => String::new(),
    }
}

/// Teammates and API tokens; only rendered for administrators.
#[component]
pub fn Administration() -> Element {
    let state = use_context::<AppState>();
    let screen = use_signal(Screen::default);
    use_hook(move || start(state, screen, None));
    let click = move |e: MouseEvent| {
        if screen.peek().busy {
            // A box clicked meanwhile stays as it was.
            e.prevent_default();
        } else if let Some(found) = e.data().try_as_web_event().and_then(|e| browser::acted(&e)) {
            acted(state, screen, found);
        }
    };
    let suggested = use_hook(browser::random_id);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        let change = if e.get_first("email").is_some() {
            Change::CreateAgent(["email", "name", "role", "password"].map(|f| field(&e, f)))
        } else {
            let pages = e.get("page").into_iter().filter_map(|v| match v {
                FormValue::Text(id) => Some(id),
                FormValue::File(_) => None,
            });
            Change::CreateToken(field(&e, "name"), pages.collect())
        };
        let form = if matches!(change, Change::CreateAgent(_)) {
            "new-agent"
        } else {
            "new-token"
        };
        spawn(async move {
            if run(state, screen, Some(change)).await {
                let password = browser::random_id();
                let field =
                    (form == "new-agent").then_some(("new-agent-password", password.as_str()));
                browser::reset_form(form, field);
            }
        });
    };
    let pages = state.pages.read().clone();
    let me = state
        .me
        .read()
        .as_ref()
        .map(|m| m.id.clone())
        .unwrap_or_default();
    let s = screen.read();
    let busy = s.busy;
    rsx! {
        section { class: "admin", "data-testid": "team", onclick: click, "aria-busy": busy,
            h2 { "Teammates" }
            {shown(&s, 0)}
            ul { class: "page-list",
                for a in s.agents.iter() {
                    {agent_row(&s, a, &pages, a.id == me)}
                }
            }
            form { id: "new-agent", class: "connect", onsubmit: submit,
                h2 { "Add a teammate" }
                label { "Name"
                    input { name: "name", "data-testid": "new-agent-name", required: true }
                }
                label { "Email"
                    input { name: "email", "data-testid": "new-agent-email", r#type: "email", required: true }
                }
                label { "Role"
                    select { name: "role", "data-testid": "new-agent-role",
                        option { value: "AGENT", "Agent (its Pages)" }
                        option { value: "ADMIN", "Administrator (every Page)" }
                    }
                }
                label { "First password (10 to 200 characters)"
                    input { id: "new-agent-password", name: "password", "data-testid": "new-agent-password", autocomplete: "off", required: true, minlength: "10", maxlength: "200", initial_value: "{suggested}" }
                }
                button { class: "primary", r#type: "submit", "data-testid": "new-agent-submit", disabled: busy, "Add" }
            }
        }
        section { class: "admin", "data-testid": "tokens", onclick: click, "aria-busy": busy,
            h2 { "API tokens" }
            p { class: "muted", "For integrations: each acts as its creator, on its Pages, until revoked." }
            {shown(&s, 1)}
            ul { class: "page-list",
                for t in s.tokens.iter() {
                    {token_row(&s, t, &pages)}
                }
            }
            form { id: "new-token", class: "connect", onsubmit: submit,
                h2 { "Create a token" }
                label { "Name (what it is for)"
                    input { name: "name", "data-testid": "new-token-name", required: true }
                }
                {page_boxes("Its Pages", &pages, &[], false)}
                button { class: "primary", r#type: "submit", "data-testid": "new-token-submit", disabled: busy, "Create" }
            }
        }
    }
}

/// A box per Page, checked for those in `chosen`: an agent's memberships (`agent`: each
/// box acts at once, on its row's agent), or a new token's Pages (the form's `page`).
fn page_boxes(legend: &str, pages: &[Page], chosen: &[String], agent: bool) -> Element {
    rsx! {
        fieldset { class: "pages",
            legend { "{legend}" }
            for p in pages {
                label { class: "check", key: "{p.id}",
                    input {
                        r#type: "checkbox",
                        name: "page",
                        value: "{p.id}",
                        "data-testid": if agent { "agent-page" } else { "new-token-page" },
                        "data-act": if agent { "member" },
                        checked: chosen.contains(&p.id),
                    }
                    "{p.label()}"
                }
            }
        }
    }
}

fn agent_row(s: &Screen, agent: &TeamAgent, pages: &[Page], me: bool) -> Element {
    rsx! {
        li { key: "{agent.id}-{s.refused}", class: "page-row", "data-testid": "agent-row", "data-id": "{agent.id}", "data-active": "{agent.active}",
            div { class: "page-head",
                strong { "{agent.name}" }
                span { class: "muted", "{agent.email}" }
                span { class: "page-state disconnected",
                    if !agent.active { "Deactivated" } else if agent.role == AgentRole::ADMIN { "Administrator" } else { "Agent" }
                }
            }
            // A deactivated agent cannot be changed any more.
            if agent.active {
                div { class: "row-controls",
                    if agent.role == AgentRole::ADMIN {
                        button { "data-testid": "agent-role", "data-act": "agent", "Make agent" }
                    } else {
                        button { "data-testid": "agent-role", "data-act": "admin", "Make administrator" }
                    }
                    {page_boxes("Pages", pages, &agent.page_ids, true)}
                    button { "data-testid": "agent-reset-password", "data-act": "reset", "Reset password" }
                    if !me {
                        button { class: "danger", "data-testid": "agent-deactivate", "data-act": "deactivate", "Deactivate" }
                    }
                }
                {confirm(s, &agent.id, &agent.name)}
            }
        }
    }
}

fn token_row(s: &Screen, token: &TokenRow, pages: &[Page]) -> Element {
    let created = token.created_at.get(..10).unwrap_or_default();
    let names: Vec<String> = token
        .page_ids
        .iter()
        .map(|id| {
            pages
                .iter()
                .find(|p| &p.id == id)
                .map_or_else(|| id.clone(), Page::label)
        })
        .collect();
    let names = names.join(", ");
    rsx! {
        li { key: "{token.id}-{s.refused}", class: "page-row", "data-testid": "token-row", "data-id": "{token.id}", "data-revoked": "{token.revoked}",
            div { class: "page-head",
                strong { "{token.name}" }
                span { class: "muted", "{names} · by {token.by} · {created}" }
                if token.revoked {
                    span { class: "page-state disconnected", "Revoked" }
                } else {
                    button { class: "danger", "data-testid": "token-revoke", "data-act": "revoke", "Revoke" }
                }
            }
            {confirm(s, &token.id, &token.name)}
        }
    }
}

/// Below the row whose change waits: what it does, and whether to go on.
fn confirm(s: &Screen, id: &str, name: &str) -> Element {
    let (verb, question) = match &s.pending {
        Some(c) if c.asks() == Some(id) => match c {
            Change::Deactivate(_) => (
                "Deactivate",
                "? They are signed out at once and can no longer sign in.",
            ),
            Change::ResetPassword(_) => ("Give", " a new password? They are signed out at once."),
            _ => ("Revoke", "? Integrations using it stop at once."),
        },
        _ => return rsx! {},
    };
    rsx! {
        div { class: "confirm", role: "alertdialog", "aria-label": "Confirm", "data-testid": "confirm",
            p { "{verb} {name}{question}" }
            button { class: "danger", "data-testid": "confirm-yes", "data-act": "yes", "Yes" }
            button { id: "confirm-no", "data-testid": "confirm-no", "data-act": "no", "Cancel" }
        }
    }
}

/// A secret shown once with a copy button, or the refusal of the last change.
fn shown(s: &Screen, slot: usize) -> Element {
    match &s.outcome[slot] {
        Some(Ok((what, value))) => rsx! {
            div { class: "shown-once", role: "status", "data-testid": "shown-once", "data-id": "{slot}",
                label { r#for: "shown-once-{slot}", "{what}" }
                input { id: "shown-once-{slot}", "data-testid": "shown-once-value", readonly: true, value: "{value}" }
                button { "data-testid": "shown-once-copy", "data-act": "copy",
                    if s.copied { "Copied" } else { "Copy" }
                }
                button { "data-testid": "shown-once-close", "data-act": "done", "Done" }
            }
        },
        Some(Err(e)) => rsx! {
            p { class: "error", role: "alert", "data-testid": if slot == 0 { "team-error" } else { "token-error" }, "{e}" }
        },
        None => rsx! {},
    }
}
