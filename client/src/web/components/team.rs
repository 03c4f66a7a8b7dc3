//! Settings for administrators: the teammates (create, role, Pages, password, deactivate)
//! and the API tokens (create, shown once, revoke).
//!
//! Small in the wasm by construction (the first version of this screen weighed 21 KB
//! gzipped): one component holds the screen in one signal ([`Screen`]) and has three
//! handlers, a click, a change and a submit, shared by every row and both forms: each
//! control names what it does in `data-act` (and `data-id`, `data-page`), read from the
//! element the event happened on. Every change is one [`Change`], whose request body is
//! built per operation and sent through one shared future (`AppState::gql_body`); both
//! lists are then asked for again in one request (`Team`, one decoder).
use dioxus::html::FormValue;
use dioxus::prelude::*;
use dioxus::web::WebEventExt;
use serde_json::{Value, json};

use crate::model::{AgentRole, Page};
use crate::ops::*;
use crate::web::api;
use crate::web::browser;
use crate::web::state::AppState;

/// The body of operation `$m` (its generated module: the document, checked against the
/// schema at build time) with these variables.
macro_rules! op {
    ($m:ident, $vars:tt) => {
        api::body($m::QUERY, $m::OPERATION_NAME, json!($vars))
    };
}

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
        let new_password = "The new password: hand it on, it is not shown again";
        let new_token = "The token: copy it now, it is never shown again";
        match self {
            Self::CreateAgent([email, name, role, password]) => {
                let what = format!("{name}'s first password: hand it on, it is not shown again");
                let input =
                    json!({ "email": email, "name": name, "role": role, "password": password });
                (
                    op!(create_agent, { "input": input }),
                    Some((what, "", password)),
                )
            }
            Self::Role(id, role) => (
                op!(set_agent_role, { "id": id, "role": role.as_str() }),
                None,
            ),
            Self::Member(page, agent, true) => (
                op!(add_page_member, { "pageId": page, "agentId": agent }),
                None,
            ),
            Self::Member(page, agent, false) => (
                op!(remove_page_member, { "pageId": page, "agentId": agent }),
                None,
            ),
            Self::Deactivate(id) => (op!(deactivate_agent, { "id": id }), None),
            Self::ResetPassword(id) => (
                op!(reset_agent_password, { "id": id }),
                Some((
                    new_password.into(),
                    "/resetAgentPassword/password",
                    String::new(),
                )),
            ),
            Self::CreateToken(name, page_ids) => (
                op!(create_api_token, { "name": name, "pageIds": page_ids }),
                Some((new_token.into(), "/createApiToken/token", String::new())),
            ),
            Self::Revoke(id) => (op!(revoke_api_token, { "id": id }), None),
        }
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
        Ok(_) => state.gql_body(op!(team, {})).await,
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

/// What a control named in `data-act` asks for; `click`: a click (buttons act on
/// clicks, selects and boxes on changes).
fn acted(state: AppState, mut screen: S, a: browser::Acted, click: bool) {
    let slot = usize::from(a.id == "1");
    let change = match a.act.as_str() {
        "role" if !click => AgentRole::parse(&a.value).map(|role| Change::Role(a.id, role)),
        "member" if !click => Some(Change::Member(a.page, a.id, a.on)),
        _ if !click => None,
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
        if let Some(found) = e.data().try_as_web_event().and_then(|e| browser::acted(&e)) {
            acted(state, screen, found, true);
        }
    };
    let change = move |e: FormEvent| {
        if let Some(found) = e.data().try_as_web_event().and_then(|e| browser::acted(&e)) {
            acted(state, screen, found, false);
        }
    };
    let suggested = use_hook(browser::random_id);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        let change = if field(&e, "form") == "agent" {
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
        section { class: "admin", "data-testid": "team", "aria-labelledby": "team-title", onclick: click, onchange: change,
            h2 { id: "team-title", "Teammates" }
            {shown(&s, 0)}
            ul { class: "page-list",
                for a in s.agents.iter() {
                    {agent_row(&s, a, &pages, a.id == me)}
                }
            }
            form { id: "new-agent", class: "connect", "aria-labelledby": "new-agent-title", onsubmit: submit,
                h2 { id: "new-agent-title", "Add a teammate" }
                input { r#type: "hidden", name: "form", value: "agent" }
                label { r#for: "new-agent-name", "Name" }
                input { id: "new-agent-name", name: "name", "data-testid": "new-agent-name", required: true }
                label { r#for: "new-agent-email", "Email" }
                input { id: "new-agent-email", name: "email", "data-testid": "new-agent-email", r#type: "email", required: true }
                label { r#for: "new-agent-role", "Role" }
                select { id: "new-agent-role", name: "role", "data-testid": "new-agent-role",
                    option { value: "AGENT", "Agent (its Pages)" }
                    option { value: "ADMIN", "Administrator (every Page)" }
                }
                label { r#for: "new-agent-password", "First password (10 to 200 characters; a random one is filled in)" }
                input { id: "new-agent-password", name: "password", "data-testid": "new-agent-password", autocomplete: "off", required: true, minlength: "10", maxlength: "200", initial_value: "{suggested}" }
                button { class: "primary", r#type: "submit", "data-testid": "new-agent-submit", disabled: busy, "Add" }
            }
        }
        section { class: "admin", "data-testid": "tokens", "aria-labelledby": "tokens-title", onclick: click,
            h2 { id: "tokens-title", "API tokens" }
            p { class: "muted", "For integrations: a token acts as the administrator who made it, on the Pages chosen, until it is revoked." }
            {shown(&s, 1)}
            ul { class: "page-list",
                for t in s.tokens.iter() {
                    {token_row(&s, t, &pages)}
                }
            }
            form { id: "new-token", class: "connect", "aria-labelledby": "new-token-title", onsubmit: submit,
                h2 { id: "new-token-title", "Create a token" }
                label { r#for: "new-token-name", "Name (what it is for)" }
                input { id: "new-token-name", name: "name", "data-testid": "new-token-name", required: true }
                {page_boxes("Pages it may use", &pages, &[], false, None)}
                button { class: "primary", r#type: "submit", "data-testid": "new-token-submit", disabled: busy, "Create" }
            }
        }
    }
}

/// A box per Page, checked for those in `chosen`: an agent's memberships (`agent`, each
/// box acting at once), or a new token's Pages (the form's `page` values).
fn page_boxes(
    legend: &str,
    pages: &[Page],
    chosen: &[String],
    disabled: bool,
    agent: Option<&str>,
) -> Element {
    let testid = if agent.is_some() {
        "agent-page"
    } else {
        "new-token-page"
    };
    rsx! {
        fieldset { class: "pages",
            legend { "{legend}" }
            for p in pages {
                label { class: "check", key: "{p.id}",
                    input {
                        r#type: "checkbox",
                        name: "page",
                        value: "{p.id}",
                        "data-testid": testid,
                        "data-act": if agent.is_some() { "member" },
                        "data-id": agent,
                        "data-page": "{p.id}",
                        disabled,
                        checked: chosen.contains(&p.id),
                    }
                    "{p.label()}"
                }
            }
        }
    }
}

fn agent_row(s: &Screen, agent: &TeamAgent, pages: &[Page], me: bool) -> Element {
    let busy = s.busy || !agent.active;
    let id = &agent.id;
    rsx! {
        li { key: "{id}-{s.refused}", class: "page-row", "data-testid": "agent-row", "data-agent-id": "{id}", "data-active": "{agent.active}",
            div { class: "page-head",
                strong { "data-testid": "agent-name", "{agent.name}" }
                span { class: "muted", "data-testid": "agent-email", "{agent.email}" }
                if !agent.active {
                    span { class: "page-state disconnected", "data-testid": "agent-inactive", "Deactivated" }
                }
            }
            div { class: "row-controls",
                label { class: "check",
                    "Role "
                    select { "data-testid": "agent-role", "data-act": "role", "data-id": "{id}", disabled: busy,
                        option { value: "AGENT", selected: agent.role == AgentRole::AGENT, "Agent" }
                        option { value: "ADMIN", selected: agent.role == AgentRole::ADMIN, "Administrator" }
                    }
                }
                {page_boxes("Pages", pages, &agent.page_ids, busy, Some(id))}
                button { "data-testid": "agent-reset-password", "data-act": "reset", "data-id": "{id}", disabled: busy, "Reset password" }
                if !me && agent.active {
                    button { class: "danger", "data-testid": "agent-deactivate", "data-act": "deactivate", "data-id": "{id}", disabled: busy, "Deactivate" }
                }
            }
            {confirm(s, id, &agent.name)}
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
        li { key: "{token.id}-{s.refused}", class: "page-row", "data-testid": "token-row", "data-token-id": "{token.id}", "data-revoked": "{token.revoked}",
            div { class: "page-head",
                strong { "data-testid": "token-name", "{token.name}" }
                span { class: "muted", "{names} · by {token.by} · {created}" }
                if token.revoked {
                    span { class: "page-state disconnected", "Revoked" }
                } else {
                    button { class: "danger", "data-testid": "token-revoke", "data-act": "revoke", "data-id": "{token.id}", disabled: s.busy, "Revoke" }
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
                "? They are signed out everywhere at once and can no longer sign in; their API tokens stop working.",
            ),
            Change::ResetPassword(_) => (
                "Give",
                " a new password? Their sessions end at once; the new password is shown here once.",
            ),
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
            div { class: "shown-once", role: "status", "data-testid": "shown-once",
                label { r#for: "shown-once-{slot}", "{what}" }
                input { id: "shown-once-{slot}", "data-testid": "shown-once-value", readonly: true, value: "{value}" }
                button { "data-testid": "shown-once-copy", "data-act": "copy", "data-id": "{slot}",
                    if s.copied { "Copied" } else { "Copy" }
                }
                button { "data-testid": "shown-once-close", "data-act": "done", "data-id": "{slot}", "Done" }
            }
        },
        Some(Err(e)) => rsx! {
            p { class: "error", role: "alert", "data-testid": if slot == 0 { "team-error" } else { "token-error" }, "{e}" }
        },
        None => rsx! {},
    }
}
