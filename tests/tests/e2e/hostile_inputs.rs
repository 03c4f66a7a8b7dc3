//! One table of hostile requests: forged webhooks, oversized bodies, malformed ids and
//! cursors, stolen or broken tokens, brute force, privilege escalation. Each row says what
//! the server must answer, and after each row nothing may have been stored or changed.
use futures::StreamExt;
use hmac::{KeyInit, Mac};
use mf_tests::webhook::{self, SIGNATURE_HEADER, batch, message};
use mf_tests::ws::InitAnswer;
use mf_tests::{
    ADMIN_EMAIL, AGENT_PASSWORD, APP_SECRET, Agent, ApiToken, CUSTOMER, Counts, HttpResponse, PAGE,
    T0, TestApp, error_code, error_message, id_of, spawn_app_with,
};
use serde_json::{Value, json};

/// A Page nothing has been stored for: a forged delivery to it would create it.
const NEW_PAGE: &str = "1000000099";
const WEBHOOK_MAX_BODY: usize = 1024 * 1024;
const GRAPHQL_MAX_BODY: usize = 256 * 1024;
/// `admin@example.com:correct horse battery staple` in Base64, for Basic auth.
const BASIC_CREDENTIALS: &str =
    "Basic YWRtaW5AZXhhbXBsZS5jb206Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";
const INVALID_CREDENTIALS: &str = "invalid email or password";

const ME: &str = "{ me { id email role } }";
const LOGIN: &str = "mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token agent { id } }
}";
const CREATE_AGENT: &str =
    "mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }";
const CREATE_API_TOKEN: &str = "mutation($pageIds: [ID!]!) {
  createApiToken(name: \"integration\", pageIds: $pageIds) { token apiToken { id } }
}";
const CONVERSATIONS: &str = "query($pageId: ID!, $first: Int, $after: String) {
  conversations(pageId: $pageId, first: $first, after: $after) { edges { node { id } } }
}";
const CONVERSATION: &str = "query($id: ID!) { conversation(id: $id) { id lastMessageText } }";
const SEARCH: &str = "query($q: String!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) { edges { node { snippet } } }
}";
const UPDATE_CONVERSATION: &str = "mutation($id: ID!, $input: UpdateConversationInput!) {
  updateConversation(id: $id, input: $input) { id status snoozedUntil }
}";
const FILTERED_CONVERSATIONS: &str = "query($pageId: ID!, $hours: Int, $assigneeId: ID) {
  conversations(pageId: $pageId, windowClosesWithinHours: $hours, assigneeId: $assigneeId) { edges { node { id } } }
}";
const MESSAGES: &str = "query($id: ID!, $last: Int, $before: String) {
  messages(conversationId: $id, last: $last, before: $before) { edges { node { id text } } }
}";
const RESET_PASSWORD: &str = "mutation($id: ID!, $password: String) {
  resetAgentPassword(id: $id, password: $password) { password }
}";
const AUDIT_LOG: &str = "query($first: Int, $after: String) {
  auditLog(first: $first, after: $after) { edges { node { id } } }
}";
const CREATE_LABEL: &str = "mutation($p: ID!, $name: String!, $color: String) {
  createLabel(pageId: $p, name: $name, color: $color) { id }
}";
const UPDATE_LABEL: &str = "mutation($id: ID!, $name: String, $color: String) {
  updateLabel(id: $id, name: $name, color: $color) { id }
}";
const DELETE_LABEL: &str = "mutation($id: ID!) { deleteLabel(id: $id) }";
const SET_LABELS: &str = "mutation($c: ID!, $labels: [ID!]!) {
  setConversationLabels(conversationId: $c, labelIds: $labels) { id }
}";
const LABELLED: &str = "query($p: ID!, $label: ID) {
  conversations(pageId: $p, labelId: $label) { edges { node { id } } }
}";
/// What the team keeps on the Page besides its conversations: a refused row changes none of it.
const TEAM_STATE: &str = "query($p: ID!, $c: ID!) {
  labels(pageId: $p) { id name color }
  conversation(id: $c) { labels { id } }
  savedReplies(pageId: $p) { id shortcut text }
}";
const CREATE_SAVED_REPLY: &str = "mutation($p: ID!, $s: String!, $t: String!) {
  createSavedReply(pageId: $p, shortcut: $s, text: $t) { id }
}";
const UPDATE_SAVED_REPLY: &str = "mutation($id: ID!, $s: String, $t: String) {
  updateSavedReply(id: $id, shortcut: $s, text: $t) { id }
}";
const CUSTOMER_STORY: &str =
    "query($id: ID!) { customerStory(conversationId: $id) { psid referrals { id } } }";
const PAGE_AGENTS: &str = "query($pageId: ID!) { pageAgents(pageId: $pageId) { agent { id } } }";
const ADD_NOTE: &str = "mutation($c: ID!, $t: String!) { addNote(conversationId: $c, text: $t) { id mentions { id } } }";
const NOTES: &str = "query($id: ID!, $last: Int, $before: String) {
  conversation(id: $id) { notes(last: $last, before: $before) { edges { node { id } } } }
}";
const MENTIONS: &str = "query($first: Int, $after: String) {
  mentions(first: $first, after: $after) { edges { node { id } } }
}";

/// What the rows need: a Page with a conversation, a non-admin agent, and credentials in
/// every state.
struct Fixture {
    app: TestApp,
    conversation: String,
    /// An AGENT on `PAGE`.
    alice: Agent,
    /// The account the brute-force row hammers.
    victim_email: String,
    /// A session token whose session was ended with `logout`.
    logged_out: String,
    /// An API token that was revoked.
    revoked: ApiToken,
    /// An administrator's API token, limited to `PAGE`.
    admins_api_token: ApiToken,
    /// An API token only the rate-limit row uses.
    hammered: ApiToken,
    /// Labels of `PAGE`: "Keep" (on the conversation) and "Other".
    label: String,
    other_label: String,
}

/// The fixture's API-token limit: calls a second, with a burst of twice that. Low, so
/// that the 300 requests of the rate-limit row outrun the refill however slow the
/// machine (serving them all would take 29 s).
const API_TOKEN_RATE: u32 = 10;

async fn fixture() -> Fixture {
    let app = spawn_app_with(|config| config.api_token_rate_per_second = API_TOKEN_RATE).await;
    app.ingest(&batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m1", "hello", T0),
            message(PAGE, CUSTOMER, "m2", "anyone?", T0 + 1000),
        ],
    ))
    .await;
    let conversation = id_of(&app.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let victim_email = "victim@example.com".to_owned();
    app.create_agent(&victim_email, "Victim").await;
    let logged_out = app.login(ADMIN_EMAIL, mf_tests::ADMIN_PASSWORD).await;
    app.logout(&logged_out).await;
    let revoked = app
        .create_api_token(&app.admin_token, "revoked", &[PAGE])
        .await;
    app.revoke_api_token(&app.admin_token, &revoked.id).await;
    let admins_api_token = app
        .create_api_token(&app.admin_token, "admin's", &[PAGE])
        .await;
    let hammered = app
        .create_api_token(&app.admin_token, "hammered", &[PAGE])
        .await;
    let mut labels = Vec::new();
    for name in ["Keep", "Other"] {
        let data = app
            .gql_data(
                CREATE_LABEL,
                json!({ "p": PAGE, "name": name, "color": "#123456" }),
            )
            .await;
        labels.push(id_of(&data["createLabel"]).to_owned());
    }
    app.gql_data(
        SET_LABELS,
        json!({ "c": conversation, "labels": [labels[0]] }),
    )
    .await;
    let other_label = labels.pop().expect("two labels");
    let label = labels.pop().expect("two labels");
    Fixture {
        app,
        conversation,
        alice,
        victim_email,
        logged_out,
        revoked,
        admins_api_token,
        hammered,
        label,
        other_label,
    }
}

/// How a request authenticates.
enum Auth {
    None,
    Bearer(String),
    /// The whole `Authorization` header value.
    Header(String),
}

/// What a row does.
enum Action {
    /// POST /webhook with this body and exactly these headers.
    Webhook {
        body: Vec<u8>,
        headers: Vec<(&'static str, String)>,
    },
    /// POST /graphql.
    Graphql {
        auth: Auth,
        query: String,
        variables: Value,
    },
    /// POST /graphql with this raw body, as the administrator.
    RawGraphql { body: Vec<u8> },
    /// GET /graphql with the operation in the URL, as the administrator.
    GetGraphql { query: String, variables: Value },
    /// `login`, `attempts` times in a row.
    Login {
        email: String,
        password: String,
        attempts: usize,
    },
    /// A WebSocket whose `connection_init` carries this payload.
    WsConnect { payload: Value },
    /// `requests` requests with one API token, `in_flight` at a time.
    Hammer {
        token: String,
        requests: usize,
        in_flight: usize,
    },
}

/// What the server answered.
enum Outcome {
    Http(Vec<HttpResponse>),
    Ws(InitAnswer),
}

/// What the server must answer.
#[derive(Debug)]
enum Expected {
    /// This HTTP status.
    Status(u16),
    /// This HTTP status and a GraphQL error with this `extensions.code`.
    StatusAndCode(u16, &'static str),
    /// HTTP 200, a GraphQL error with this `extensions.code`, and no data.
    Code(&'static str),
    /// Like `Code`, with exactly this message.
    CodeAndMessage(&'static str, &'static str),
    /// Every attempt but the last UNAUTHENTICATED; the last RATE_LIMITED with
    /// `extensions.retryAfter`.
    LockedOutOnLastAttempt,
    /// The burst of 100 served; past it, 429 with `Retry-After` and RATE_LIMITED.
    RateLimited,
    /// No `connection_ack`: the server closes the WebSocket with code 4403.
    WsRefused,
}

struct Row {
    name: &'static str,
    action: Action,
    expected: Expected,
}

fn row(name: &'static str, action: Action, expected: Expected) -> Row {
    Row {
        name,
        action,
        expected,
    }
}

fn gql(auth: Auth, query: &str, variables: Value) -> Action {
    Action::Graphql {
        auth,
        query: query.to_owned(),
        variables,
    }
}

fn bearer(token: &str) -> Auth {
    Auth::Bearer(token.to_owned())
}

/// A delivery that would create `NEW_PAGE` and a conversation, were it accepted.
/// A standalone referral (`messaging_referrals`) of `CUSTOMER` to `NEW_PAGE`.
fn referral(value: Value) -> Value {
    webhook::event(CUSTOMER, NEW_PAGE, T0, "referral", value)
}

fn forged_delivery() -> Vec<u8> {
    body(&batch(
        NEW_PAGE,
        [message(NEW_PAGE, CUSTOMER, "m-forged", "let me in", T0)],
    ))
}

fn body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialising")
}

/// A webhook POST carrying `signature` in `X-Hub-Signature-256`.
fn webhook_signed_with(body: Vec<u8>, signature: String) -> Action {
    Action::Webhook {
        body,
        headers: vec![(SIGNATURE_HEADER, signature)],
    }
}

/// A webhook POST correctly signed with the app secret.
fn signed_webhook(body: Vec<u8>) -> Action {
    let signature = webhook::sign(APP_SECRET, &body);
    webhook_signed_with(body, signature)
}

fn hmac_sha1_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The forged delivery padded with an ignored field to exactly `size` bytes.
fn delivery_of_size(size: usize) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&forged_delivery()).expect("JSON");
    value["padding"] = json!("");
    let padding = size - body(&value).len();
    value["padding"] = json!("x".repeat(padding));
    let bytes = body(&value);
    assert_eq!(bytes.len(), size);
    bytes
}

/// A GraphQL request body of exactly `size` bytes.
fn graphql_body_of_size(size: usize) -> Vec<u8> {
    let mut value = json!({ "query": ME, "variables": {}, "padding": "" });
    let padding = size - body(&value).len();
    value["padding"] = json!("x".repeat(padding));
    let bytes = body(&value);
    assert_eq!(bytes.len(), size);
    bytes
}

/// `conversation { page { conversation { ... id } } }`, `depth` fields deep: not
/// introspection, so the depth limit applies (before the fields are even checked).
fn deep_query(depth: usize) -> String {
    let levels = depth - 1;
    format!(
        "{{ {}id{} }}",
        "conversation(id: \"1\") { ".repeat(levels),
        " }".repeat(levels)
    )
}

/// `__schema { types { fields { type { fields { ... } } } } }` with `lists` of `fields`
/// inside one another.
fn nested_introspection_lists(lists: usize) -> String {
    format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "fields { type { ".repeat(lists),
        " } }".repeat(lists)
    )
}

/// `fields` aliases of `me { id }`: twice that many fields.
fn wide_query(fields: usize) -> String {
    let aliases: Vec<String> = (0..fields).map(|i| format!("a{i}: me {{ id }}")).collect();
    format!("{{ {} }}", aliases.join(" "))
}

fn new_agent(email: &str, name: &str, password: &str) -> Value {
    json!({ "input": { "email": email, "name": name, "role": "ADMIN", "password": password } })
}

const SEND: &str = "mutation($c: ID!, $t: String!) { sendMessage(input: { conversationId: $c, text: $t }) { id } }";

/// The table's groups of rows: one test each, on a server of its own, its rows in order.
#[derive(Clone, Copy, Debug)]
enum Group {
    ForgedWebhooks,
    MalformedDeliveries,
    MalformedGraphql,
    PageSizesAndCursors,
    SnoozesAndFilters,
    MalformedIds,
    DeadCredentials,
    SignIn,
    WebSocketHandshakes,
    PrivilegeEscalation,
    MutationsThroughGet,
    RateLimits,
    Replies,
    Administration,
    Labels,
    Notes,
    SavedReplies,
}

impl Group {
    const ALL: [Group; 17] = [
        Group::ForgedWebhooks,
        Group::MalformedDeliveries,
        Group::MalformedGraphql,
        Group::PageSizesAndCursors,
        Group::SnoozesAndFilters,
        Group::MalformedIds,
        Group::DeadCredentials,
        Group::SignIn,
        Group::WebSocketHandshakes,
        Group::PrivilegeEscalation,
        Group::MutationsThroughGet,
        Group::RateLimits,
        Group::Replies,
        Group::Administration,
        Group::Labels,
        Group::Notes,
        Group::SavedReplies,
    ];
}

fn rows(f: &Fixture, group: Group) -> Vec<Row> {
    let admin = || bearer(&f.app.admin_token);
    let forged = forged_delivery();
    let good_signature = webhook::sign(APP_SECRET, &forged);
    let good_hex = good_signature
        .strip_prefix("sha256=")
        .expect("sha256= prefix")
        .to_owned();
    let conversation = f.conversation.as_str();
    match group {
        // Forged webhooks.
        Group::ForgedWebhooks => vec![
            row(
                "webhook without a signature",
                Action::Webhook {
                    body: forged.clone(),
                    headers: vec![],
                },
                Expected::Status(401),
            ),
            row(
                "webhook signed with another secret",
                webhook_signed_with(forged.clone(), webhook::sign("not-the-app-secret", &forged)),
                Expected::Status(401),
            ),
            row(
                "webhook signed with HMAC-SHA1 in X-Hub-Signature-256",
                webhook_signed_with(
                    forged.clone(),
                    format!("sha1={}", hmac_sha1_hex(APP_SECRET, &forged)),
                ),
                Expected::Status(401),
            ),
            row(
                "webhook with only the legacy sha1 X-Hub-Signature",
                Action::Webhook {
                    body: forged.clone(),
                    headers: vec![(
                        "X-Hub-Signature",
                        format!("sha1={}", hmac_sha1_hex(APP_SECRET, &forged)),
                    )],
                },
                Expected::Status(401),
            ),
            row(
                "webhook with a truncated signature",
                webhook_signed_with(
                    forged.clone(),
                    good_signature[..good_signature.len() - 2].to_owned(),
                ),
                Expected::Status(401),
            ),
            row(
                "webhook with an uppercase SHA256= prefix",
                webhook_signed_with(forged.clone(), format!("SHA256={good_hex}")),
                Expected::Status(401),
            ),
            row(
                "webhook carrying the signature of another body",
                webhook_signed_with(
                    forged.clone(),
                    webhook::sign(APP_SECRET, b"{\"object\":\"page\",\"entry\":[]}"),
                ),
                Expected::Status(401),
            ),
            row(
                "webhook with an empty sha256= signature",
                webhook_signed_with(forged.clone(), "sha256=".to_owned()),
                Expected::Status(401),
            ),
            row(
                "webhook with the bare hex and no prefix",
                webhook_signed_with(forged.clone(), good_hex.clone()),
                Expected::Status(401),
            ),
        ],
        // Oversized and malformed deliveries, correctly signed.
        Group::MalformedDeliveries => vec![
            row(
                "signed webhook of 1 MiB + 1 byte",
                signed_webhook(delivery_of_size(WEBHOOK_MAX_BODY + 1)),
                Expected::Status(413),
            ),
            row(
                "signed webhook that is not JSON",
                signed_webhook(b"<xml>not json</xml>".to_vec()),
                Expected::Status(400),
            ),
            row(
                "signed JSON whose entry is an object, not a list",
                signed_webhook(body(
                    &json!({ "object": "page", "entry": { "id": NEW_PAGE } }),
                )),
                Expected::Status(400),
            ),
            row(
                "signed JSON that is a bare string",
                signed_webhook(body(&json!("page"))),
                Expected::Status(400),
            ),
            row(
                "signed entry whose messaging is not a list (skipped)",
                signed_webhook(body(&json!({
                    "object": "page",
                    "entry": [{ "id": NEW_PAGE, "time": T0, "messaging": "everything" }],
                }))),
                Expected::Status(200),
            ),
            row(
                "signed referral whose referer_uri is javascript: (skipped)",
                signed_webhook(body(&batch(
                    NEW_PAGE,
                    [referral(json!({ "source": "CUSTOMER_CHAT_PLUGIN",
                        "referer_uri": "javascript:alert(document.cookie)" }))],
                ))),
                Expected::Status(200),
            ),
            row(
                "signed referral without a source (skipped)",
                signed_webhook(body(&batch(
                    NEW_PAGE,
                    [referral(json!({ "ref": "spring", "type": "OPEN_THREAD" }))],
                ))),
                Expected::Status(200),
            ),
            row(
                "signed referral whose ref is 3,000 characters (skipped)",
                signed_webhook(body(&batch(
                    NEW_PAGE,
                    [referral(
                        json!({ "source": "SHORTLINK", "ref": "r".repeat(3000) }),
                    )],
                ))),
                Expected::Status(200),
            ),
            row(
                "signed referral whose source is an object (skipped)",
                signed_webhook(body(&batch(
                    NEW_PAGE,
                    [referral(json!({ "source": { "ADS": true } }))],
                ))),
                Expected::Status(200),
            ),
            row(
                "signed event whose mid is 10,000 characters (skipped)",
                signed_webhook(body(&batch(
                    NEW_PAGE,
                    [message(
                        NEW_PAGE,
                        CUSTOMER,
                        &"m".repeat(10_000),
                        "long mid",
                        T0,
                    )],
                ))),
                Expected::Status(200),
            ),
            row(
                "signed event whose mid holds control characters (skipped)",
                signed_webhook(body(&batch(
                    NEW_PAGE,
                    [message(
                        NEW_PAGE,
                        CUSTOMER,
                        "m\u{0}\u{7}\r\n\u{1b}[2J",
                        "ctl",
                        T0,
                    )],
                ))),
                Expected::Status(200),
            ),
            row(
                "signed event whose sender id is 10,000 characters (skipped)",
                signed_webhook(body(&batch(
                    NEW_PAGE,
                    [message(
                        NEW_PAGE,
                        &"9".repeat(10_000),
                        "m-long-sender",
                        "hi",
                        T0,
                    )],
                ))),
                Expected::Status(200),
            ),
            row(
                "signed envelope for another object (ignored)",
                signed_webhook(body(&json!({
                    "object": "instagram",
                    "entry": [{ "id": NEW_PAGE, "time": T0, "messaging": [
                        message(NEW_PAGE, CUSTOMER, "m-ig", "hi", T0),
                    ] }],
                }))),
                Expected::Status(200),
            ),
        ],
        // Oversized and malformed GraphQL.
        Group::MalformedGraphql => vec![
            row(
                "GraphQL body of 256 KiB + 1 byte",
                Action::RawGraphql {
                    body: graphql_body_of_size(GRAPHQL_MAX_BODY + 1),
                },
                Expected::Status(413),
            ),
            row(
                "GraphQL body that is not JSON",
                Action::RawGraphql {
                    body: b"query { me { id } }".to_vec(),
                },
                Expected::StatusAndCode(400, "BAD_USER_INPUT"),
            ),
            row(
                "query nested 13 deep",
                gql(admin(), &deep_query(13), json!({})),
                Expected::CodeAndMessage("BAD_USER_INPUT", "the query nests deeper than 12 fields"),
            ),
            row(
                "introspection nesting `fields` 4 deep",
                gql(admin(), &nested_introspection_lists(4), json!({})),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "query of 10,002 fields (over the budget of 10,000)",
                gql(admin(), &wide_query(5001), json!({})),
                Expected::Code("BAD_USER_INPUT"),
            ),
        ],
        // Page sizes and cursors.
        Group::PageSizesAndCursors => vec![
            row(
                "search(first: 51)",
                gql(admin(), SEARCH, json!({ "q": "hello", "first": 51 })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "search(after:) a conversations cursor",
                gql(admin(), SEARCH, json!({ "q": "hello", "after": "MTo0Mg" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "search(query:) of 10,000 characters",
                gql(admin(), SEARCH, json!({ "q": "a ".repeat(5_000) })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "search(query:) of operators only",
                gql(admin(), SEARCH, json!({ "q": "* \" ( : & | ! -" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(first: 0)",
                gql(
                    admin(),
                    CONVERSATIONS,
                    json!({ "pageId": PAGE, "first": 0 }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(first: -1)",
                gql(
                    admin(),
                    CONVERSATIONS,
                    json!({ "pageId": PAGE, "first": -1 }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(first: 101)",
                gql(
                    admin(),
                    CONVERSATIONS,
                    json!({ "pageId": PAGE, "first": 101 }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "messages(last: 0)",
                gql(admin(), MESSAGES, json!({ "id": conversation, "last": 0 })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "messages(last: -1)",
                gql(admin(), MESSAGES, json!({ "id": conversation, "last": -1 })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "messages(last: 101)",
                gql(
                    admin(),
                    MESSAGES,
                    json!({ "id": conversation, "last": 101 }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(after:) that is not Base64",
                gql(
                    admin(),
                    CONVERSATIONS,
                    json!({ "pageId": PAGE, "first": 5, "after": "not a cursor!" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "messages(before:) that is Base64 of garbage",
                gql(
                    admin(),
                    MESSAGES,
                    json!({ "id": conversation, "before": "YWJj" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(after:) whose id is not a number",
                gql(
                    admin(),
                    CONVERSATIONS,
                    json!({ "pageId": PAGE, "first": 5, "after": "MTp4" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
        ],
        // Snoozes and inbox filters.
        Group::SnoozesAndFilters => vec![
            row(
                "updateConversation(snoozedUntil:) in the past",
                gql(
                    admin(),
                    UPDATE_CONVERSATION,
                    json!({ "id": conversation, "input": { "snoozedUntil": "2001-01-01T00:00:00Z" } }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "updateConversation(snoozedUntil:) of 10,000 digits",
                gql(
                    admin(),
                    UPDATE_CONVERSATION,
                    json!({ "id": conversation, "input": { "snoozedUntil": "9".repeat(10_000) } }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "updateConversation(snoozedUntil:) in the year 275760",
                gql(
                    admin(),
                    UPDATE_CONVERSATION,
                    json!({ "id": conversation, "input": { "snoozedUntil": "+275760-09-13T00:00:00Z" } }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "updateConversation(status: SNOOZED) without a time",
                gql(
                    admin(),
                    UPDATE_CONVERSATION,
                    json!({ "id": conversation, "input": { "status": "SNOOZED" } }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(windowClosesWithinHours: 2147483647)",
                gql(
                    admin(),
                    FILTERED_CONVERSATIONS,
                    json!({ "pageId": PAGE, "hours": i32::MAX }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(windowClosesWithinHours: -2147483648)",
                gql(
                    admin(),
                    FILTERED_CONVERSATIONS,
                    json!({ "pageId": PAGE, "hours": i32::MIN }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(assigneeId:) past i64",
                gql(
                    admin(),
                    FILTERED_CONVERSATIONS,
                    json!({ "pageId": PAGE, "assigneeId": "99999999999999999999999" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
        ],
        // Malformed ids.
        Group::MalformedIds => vec![
            row(
                "conversation(id: \"abc\")",
                gql(admin(), CONVERSATION, json!({ "id": "abc" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversation(id: \"-1\")",
                gql(admin(), CONVERSATION, json!({ "id": "-1" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversation(id: \"0\")",
                gql(admin(), CONVERSATION, json!({ "id": "0" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversation(id:) of 20 digits",
                gql(
                    admin(),
                    CONVERSATION,
                    json!({ "id": "99999999999999999999" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversation(id: \"1 OR 1=1\")",
                gql(admin(), CONVERSATION, json!({ "id": "1 OR 1=1" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "customerStory(conversationId: \"1 OR 1=1\")",
                gql(admin(), CUSTOMER_STORY, json!({ "id": "1 OR 1=1" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "customerStory(conversationId: \"0\")",
                gql(admin(), CUSTOMER_STORY, json!({ "id": "0" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "customerStory(conversationId:) of 20 digits",
                gql(
                    admin(),
                    CUSTOMER_STORY,
                    json!({ "id": "99999999999999999999" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "messages(conversationId: \"1; DROP TABLE messages\")",
                gql(admin(), MESSAGES, json!({ "id": "1; DROP TABLE messages" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(pageId: \"\")",
                gql(admin(), CONVERSATIONS, json!({ "pageId": "" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(pageId: \"../etc\")",
                gql(admin(), CONVERSATIONS, json!({ "pageId": "../etc" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(pageId:) with a quote injection",
                gql(
                    admin(),
                    CONVERSATIONS,
                    json!({ "pageId": "1000000001' OR '1'='1" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "conversations(pageId:) of 65 characters",
                gql(admin(), CONVERSATIONS, json!({ "pageId": "1".repeat(65) })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "pageAgents(pageId: \"../etc\")",
                gql(admin(), PAGE_AGENTS, json!({ "pageId": "../etc" })),
                Expected::Code("BAD_USER_INPUT"),
            ),
        ],
        // Missing, broken and dead credentials.
        Group::DeadCredentials => vec![
            row(
                "no token",
                gql(Auth::None, ME, json!({})),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "a garbage token",
                gql(bearer("garbage"), ME, json!({})),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "a session token with the API-token prefix",
                gql(
                    bearer(&f.app.admin_token.replacen("mfs_", "mfa_", 1)),
                    ME,
                    json!({}),
                ),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "a 10 KB token",
                gql(
                    bearer(&format!("mfs_{}", "A".repeat(10 * 1024))),
                    ME,
                    json!({}),
                ),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "Basic auth with the administrator's password",
                gql(Auth::Header(BASIC_CREDENTIALS.to_owned()), ME, json!({})),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "the administrator's token under another scheme",
                gql(
                    Auth::Header(format!("Token {}", f.app.admin_token)),
                    ME,
                    json!({}),
                ),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "Bearer with no token",
                gql(Auth::Header("Bearer ".to_owned()), ME, json!({})),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "a logged-out session token",
                gql(bearer(&f.logged_out), ME, json!({})),
                Expected::Code("UNAUTHENTICATED"),
            ),
            row(
                "a revoked API token",
                gql(bearer(&f.revoked.token), ME, json!({})),
                Expected::Code("UNAUTHENTICATED"),
            ),
        ],
        // Sign-in.
        Group::SignIn => vec![
            row(
                "login with a wrong password",
                Action::Login {
                    email: f.alice.email.clone(),
                    password: "not alice's password".to_owned(),
                    attempts: 1,
                },
                Expected::CodeAndMessage("UNAUTHENTICATED", INVALID_CREDENTIALS),
            ),
            row(
                "login with an unknown email",
                Action::Login {
                    email: "nobody@example.com".to_owned(),
                    password: AGENT_PASSWORD.to_owned(),
                    attempts: 1,
                },
                Expected::CodeAndMessage("UNAUTHENTICATED", INVALID_CREDENTIALS),
            ),
            row(
                "login with a 10 KB password",
                Action::Login {
                    email: ADMIN_EMAIL.to_owned(),
                    password: "p".repeat(10 * 1024),
                    attempts: 1,
                },
                Expected::CodeAndMessage("UNAUTHENTICATED", INVALID_CREDENTIALS),
            ),
            row(
                "11 rapid logins for one email (brute force)",
                Action::Login {
                    email: f.victim_email.clone(),
                    password: "guess".to_owned(),
                    attempts: 11,
                },
                Expected::LockedOutOnLastAttempt,
            ),
        ],
        // WebSocket handshakes.
        Group::WebSocketHandshakes => vec![
            row(
                "WebSocket with no token",
                Action::WsConnect { payload: json!({}) },
                Expected::WsRefused,
            ),
            row(
                "WebSocket with a garbage token",
                Action::WsConnect {
                    payload: json!({ "authorization": "Bearer garbage" }),
                },
                Expected::WsRefused,
            ),
            row(
                "WebSocket with a logged-out session token",
                Action::WsConnect {
                    payload: json!({ "authorization": format!("Bearer {}", f.logged_out) }),
                },
                Expected::WsRefused,
            ),
            row(
                "WebSocket with a revoked API token",
                Action::WsConnect {
                    payload: json!({ "authorization": format!("Bearer {}", f.revoked.token) }),
                },
                Expected::WsRefused,
            ),
            row(
                "WebSocket with Basic auth",
                Action::WsConnect {
                    payload: json!({ "authorization": BASIC_CREDENTIALS }),
                },
                Expected::WsRefused,
            ),
        ],
        // Privilege escalation and bad input on administration.
        Group::PrivilegeEscalation => vec![
            row(
                "createAgent (an ADMIN) by a non-admin agent",
                gql(
                    bearer(&f.alice.token),
                    CREATE_AGENT,
                    new_agent("mallory@example.com", "Mallory", "long enough password"),
                ),
                Expected::Code("FORBIDDEN"),
            ),
            row(
                "createAgent with an administrator's API token",
                gql(
                    bearer(&f.admins_api_token.token),
                    CREATE_AGENT,
                    new_agent("mallory@example.com", "Mallory", "long enough password"),
                ),
                Expected::Code("FORBIDDEN"),
            ),
            row(
                "createAgent with a 9-character password",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent("mallory@example.com", "Mallory", "123456789"),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createAgent with a 201-character password",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent("mallory@example.com", "Mallory", &"p".repeat(201)),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createAgent with a bad email",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent("not-an-email", "Mallory", "long enough password"),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createAgent with a header injection in the email",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent(
                        "mallory@example.com\r\nBcc: all@example.com",
                        "Mallory",
                        "long enough password",
                    ),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createAgent with control characters in the name",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent(
                        "mallory@example.com",
                        "Mal\u{7}lory\u{1b}[31m",
                        "long enough password",
                    ),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createAgent with an empty name",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent("mallory@example.com", "", "long enough password"),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createAgent with a blank name",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent("mallory@example.com", "   ", "long enough password"),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createAgent with a 101-character name",
                gql(
                    admin(),
                    CREATE_AGENT,
                    new_agent(
                        "mallory@example.com",
                        &"M".repeat(101),
                        "long enough password",
                    ),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createApiToken with no pageIds",
                gql(admin(), CREATE_API_TOKEN, json!({ "pageIds": [] })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createApiToken for an unknown page",
                gql(
                    admin(),
                    CREATE_API_TOKEN,
                    json!({ "pageIds": ["1999999999"] }),
                ),
                Expected::Code("NOT_FOUND"),
            ),
            row(
                "createApiToken for page \"../etc\"",
                gql(admin(), CREATE_API_TOKEN, json!({ "pageIds": ["../etc"] })),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "createApiToken with an API token",
                gql(
                    bearer(&f.admins_api_token.token),
                    CREATE_API_TOKEN,
                    json!({ "pageIds": [PAGE] }),
                ),
                Expected::Code("FORBIDDEN"),
            ),
        ],
        // Mutations through GET.
        Group::MutationsThroughGet => vec![
            row(
                "createAgent through GET",
                Action::GetGraphql {
                    query: CREATE_AGENT.to_owned(),
                    variables: new_agent("mallory@example.com", "Mallory", "long enough password"),
                },
                Expected::Status(405),
            ),
            row(
                "logout through GET",
                Action::GetGraphql {
                    query: "mutation { logout }".to_owned(),
                    variables: json!({}),
                },
                Expected::Status(405),
            ),
        ],
        // Rate limits.
        Group::RateLimits => vec![row(
            "an API token hammered with 300 requests, 50 at a time (10 a second, bursts of 20)",
            Action::Hammer {
                token: f.hammered.token.clone(),
                requests: 300,
                in_flight: 50,
            },
            Expected::RateLimited,
        )],
        // Replies: refused before anything is stored or sent to the Graph API.
        Group::Replies => vec![
            row(
                "a reply of 2001 characters",
                gql(
                    bearer(&f.alice.token),
                    SEND,
                    json!({ "c": f.conversation, "t": "é".repeat(2001) }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "an empty reply",
                gql(
                    bearer(&f.alice.token),
                    SEND,
                    json!({ "c": f.conversation, "t": "" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "a reply of blanks only",
                gql(
                    bearer(&f.alice.token),
                    SEND,
                    json!({ "c": f.conversation, "t": " \n\n " }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "a reply with a control character",
                gql(
                    bearer(&f.alice.token),
                    SEND,
                    json!({ "c": f.conversation, "t": "bell\u{7}" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "a reply with an idempotency key of 200 characters",
                gql(
                    bearer(&f.alice.token),
                    "mutation($c: ID!, $t: String!, $k: String) { sendMessage(input: \
                     { conversationId: $c, text: $t, clientMutationId: $k }) { id } }",
                    json!({ "c": f.conversation, "t": "hello", "k": "k".repeat(200) }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "a reply with both a text and an attachment",
                gql(
                    bearer(&f.alice.token),
                    "mutation($c: ID!) { sendMessage(input: { conversationId: $c, text: \"hi\", \
                     attachment: { type: IMAGE, url: \"https://example.com/a.png\" } }) { id } }",
                    json!({ "c": f.conversation }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "an attachment at a javascript: URL",
                gql(
                    bearer(&f.alice.token),
                    "mutation($c: ID!) { sendMessage(input: { conversationId: $c, \
                     attachment: { type: FILE, url: \"javascript:alert(1)\" } }) { id } }",
                    json!({ "c": f.conversation }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
            row(
                "a reply to conversation id `1 OR 1=1`",
                gql(
                    bearer(&f.alice.token),
                    SEND,
                    json!({ "c": "1 OR 1=1", "t": "hello" }),
                ),
                Expected::Code("BAD_USER_INPUT"),
            ),
        ],
        // Saved replies (issue 15, point 3): the fixture has none, so any row that stored
        // one would show in the team state.
        Group::SavedReplies => {
            let create = |shortcut: Value, text: Value| {
                gql(
                    bearer(&f.alice.token),
                    CREATE_SAVED_REPLY,
                    json!({ "p": PAGE, "s": shortcut, "t": text }),
                )
            };
            vec![
                row(
                    "createSavedReply with an empty shortcut",
                    create(json!(""), json!("hi")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply with a shortcut of two words",
                    create(json!("two words"), json!("hi")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply with a 31-character shortcut",
                    create(json!("s".repeat(31)), json!("hi")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply with a shortcut of {{x}}",
                    create(json!("{{agent.name}}"), json!("hi")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply with an empty text",
                    create(json!("hi"), json!(" \n ")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply with a 2,001-character text",
                    create(json!("hi"), json!("t".repeat(2001))),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply with a 200 KB text",
                    create(json!("hi"), json!("t".repeat(200 * 1024))),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply with a NUL in its text",
                    create(json!("hi"), json!("a\u{0}b")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply on Page `1 OR 1=1`",
                    gql(
                        admin(),
                        CREATE_SAVED_REPLY,
                        json!({ "p": "1 OR 1=1", "s": "hi", "t": "hi" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createSavedReply on a Page nothing was stored for",
                    gql(
                        admin(),
                        CREATE_SAVED_REPLY,
                        json!({ "p": NEW_PAGE, "s": "hi", "t": "hi" }),
                    ),
                    Expected::Code("NOT_FOUND"),
                ),
                row(
                    "updateSavedReply of id -1",
                    gql(
                        bearer(&f.alice.token),
                        UPDATE_SAVED_REPLY,
                        json!({ "id": "-1", "t": "x" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "updateSavedReply of an unknown saved reply",
                    gql(
                        bearer(&f.alice.token),
                        UPDATE_SAVED_REPLY,
                        json!({ "id": "999999999", "t": "x" }),
                    ),
                    Expected::Code("NOT_FOUND"),
                ),
                row(
                    "deleteSavedReply of id `x`",
                    gql(
                        bearer(&f.alice.token),
                        "mutation($id: ID!) { deleteSavedReply(id: $id) }",
                        json!({ "id": "x" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
            ]
        }
        // Labels (issue 15, point 1).
        Group::Labels => {
            let create = |name: Value, color: Value| {
                gql(
                    admin(),
                    CREATE_LABEL,
                    json!({ "p": PAGE, "name": name, "color": color }),
                )
            };
            let update = |id: &str, name: Value, color: Value| {
                gql(
                    bearer(&f.alice.token),
                    UPDATE_LABEL,
                    json!({ "id": id, "name": name, "color": color }),
                )
            };
            let set = |labels: Value| {
                gql(
                    bearer(&f.alice.token),
                    SET_LABELS,
                    json!({ "c": conversation, "labels": labels }),
                )
            };
            let many: Vec<String> = (1..=21).map(|n| n.to_string()).collect();
            let flood: Vec<String> = (1..=5000).map(|n| n.to_string()).collect();
            vec![
                row(
                    "createLabel named \"\"",
                    create(json!(""), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel named with spaces only",
                    create(json!("   \t "), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel with a 41-character name",
                    create(json!("n".repeat(41)), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel with a 100 KB name",
                    create(json!("n".repeat(100 * 1024)), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel with a NUL in its name",
                    create(json!("a\u{0}b"), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel named KEEP beside Keep",
                    create(json!("KEEP"), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel coloured red",
                    create(json!("New"), json!("red")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel coloured #12345",
                    create(json!("New"), json!("#12345")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel coloured with CSS",
                    create(json!("New"), json!("#fff;background:url(//evil)")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel on Page `1 OR 1=1`",
                    gql(
                        admin(),
                        CREATE_LABEL,
                        json!({ "p": "1 OR 1=1", "name": "New" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "createLabel on a Page nothing was stored for",
                    gql(
                        admin(),
                        CREATE_LABEL,
                        json!({ "p": NEW_PAGE, "name": "New" }),
                    ),
                    Expected::Code("NOT_FOUND"),
                ),
                row(
                    "updateLabel renaming Other to keep",
                    update(&f.other_label, json!("keep"), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "updateLabel to an empty name",
                    update(&f.label, json!(""), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "updateLabel to a good name and a bad colour",
                    update(&f.label, json!("Renamed"), json!("#GGGGGG")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "updateLabel of id -1",
                    update("-1", json!("x"), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "updateLabel of an unknown label",
                    update("999999999", json!("x"), Value::Null),
                    Expected::Code("NOT_FOUND"),
                ),
                row(
                    "deleteLabel of id `1; DROP TABLE labels`",
                    gql(
                        bearer(&f.alice.token),
                        DELETE_LABEL,
                        json!({ "id": "1; DROP TABLE labels" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "deleteLabel of an unknown label",
                    gql(
                        bearer(&f.alice.token),
                        DELETE_LABEL,
                        json!({ "id": "999999999" }),
                    ),
                    Expected::Code("NOT_FOUND"),
                ),
                row(
                    "setConversationLabels with 21 labels",
                    set(json!(many)),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "setConversationLabels with 5,000 labels",
                    set(json!(flood)),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "setConversationLabels with label id 0",
                    set(json!(["0"])),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "setConversationLabels with an unknown label beside a good one",
                    set(json!([f.other_label, "999999999"])),
                    Expected::Code("NOT_FOUND"),
                ),
                row(
                    "conversations(labelId: \"x\")",
                    gql(admin(), LABELLED, json!({ "p": PAGE, "label": "x" })),
                    Expected::Code("BAD_USER_INPUT"),
                ),
            ]
        }
        // Teammates, tokens and the audit log (issue 15, points 7 and 8).
        Group::Administration => {
            let reset = |auth: Auth, id: &str, password: Value| {
                gql(
                    auth,
                    RESET_PASSWORD,
                    json!({ "id": id, "password": password }),
                )
            };
            let audit = |auth: Auth, first: Value, after: Value| {
                gql(auth, AUDIT_LOG, json!({ "first": first, "after": after }))
            };
            let alice = &f.alice.id;
            vec![
                row(
                    "auditLog by a non-admin agent",
                    audit(bearer(&f.alice.token), json!(5), Value::Null),
                    Expected::Code("FORBIDDEN"),
                ),
                row(
                    "auditLog with an administrator's API token",
                    audit(bearer(&f.admins_api_token.token), json!(5), Value::Null),
                    Expected::Code("FORBIDDEN"),
                ),
                row(
                    "auditLog with first: 0",
                    audit(admin(), json!(0), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "auditLog with first: 101",
                    audit(admin(), json!(101), Value::Null),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "auditLog after a garbage cursor",
                    audit(admin(), json!(5), json!("'; DROP TABLE audit_log; --")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "auditLog after a conversations cursor",
                    audit(admin(), json!(5), json!("MTc2NDE2MzUyNjEyMzox")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "agents by a non-admin agent",
                    gql(bearer(&f.alice.token), "{ agents { id email } }", json!({})),
                    Expected::Code("FORBIDDEN"),
                ),
                row(
                    "apiTokens with an API token",
                    gql(
                        bearer(&f.admins_api_token.token),
                        "{ apiTokens { id } }",
                        json!({}),
                    ),
                    Expected::Code("FORBIDDEN"),
                ),
                row(
                    "resetAgentPassword by a non-admin agent (of the administrator)",
                    reset(bearer(&f.alice.token), "1", json!("taken over now")),
                    Expected::Code("FORBIDDEN"),
                ),
                row(
                    "resetAgentPassword with an administrator's API token",
                    reset(bearer(&f.admins_api_token.token), alice, Value::Null),
                    Expected::Code("FORBIDDEN"),
                ),
                row(
                    "resetAgentPassword with a 9-character password",
                    reset(admin(), alice, json!("123456789")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "resetAgentPassword with a 201-character password",
                    reset(admin(), alice, json!("p".repeat(201))),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "resetAgentPassword of id \"-1\"",
                    reset(admin(), "-1", json!("long enough password")),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "resetAgentPassword of an unknown agent",
                    reset(admin(), "999999999", json!("long enough password")),
                    Expected::Code("NOT_FOUND"),
                ),
                row(
                    "login with a 10 KB email (the audit log keeps 256 characters)",
                    Action::Login {
                        email: format!("{}@example.com", "e".repeat(10 * 1024)),
                        password: "whatever it is".to_owned(),
                        attempts: 1,
                    },
                    Expected::CodeAndMessage("UNAUTHENTICATED", INVALID_CREDENTIALS),
                ),
            ]
        }
        // Private notes (issue 15, point 2): refused text stores no note.
        Group::Notes => {
            let note = |text: Value| {
                gql(
                    bearer(&f.alice.token),
                    ADD_NOTE,
                    json!({ "c": conversation, "t": text }),
                )
            };
            let bad = |message: &'static str| Expected::CodeAndMessage("BAD_USER_INPUT", message);
            vec![
                row(
                    "addNote with an empty text",
                    note(json!("")),
                    bad("`text` must not be empty"),
                ),
                row(
                    "addNote with only spaces, tabs and line breaks",
                    note(json!(" \n\t \r\n ")),
                    bad("`text` must not be empty"),
                ),
                row(
                    "addNote of 4001 characters (after trimming)",
                    note(json!(format!("  {}  ", "é".repeat(4001)))),
                    bad("`text` has 4001 characters; a note has at most 4000"),
                ),
                row(
                    "addNote of 200 KB",
                    note(json!("x".repeat(200 * 1024))),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "addNote with a NUL byte (PostgreSQL cannot store it)",
                    note(json!("before\u{0}after")),
                    bad("`text` must not contain control characters"),
                ),
                row(
                    "addNote with an escape sequence",
                    note(json!("\u{1b}[2J cleared")),
                    bad("`text` must not contain control characters"),
                ),
                row(
                    "addNote to conversation id `1 OR 1=1`",
                    gql(
                        bearer(&f.alice.token),
                        ADD_NOTE,
                        json!({ "c": "1 OR 1=1", "t": "hello" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "addNote to an unknown conversation",
                    gql(
                        bearer(&f.alice.token),
                        ADD_NOTE,
                        json!({ "c": "999999999", "t": "hello" }),
                    ),
                    Expected::CodeAndMessage("NOT_FOUND", "conversation not found"),
                ),
                row(
                    "addNote without a credential",
                    gql(
                        Auth::None,
                        ADD_NOTE,
                        json!({ "c": conversation, "t": "hello" }),
                    ),
                    Expected::Code("UNAUTHENTICATED"),
                ),
                row(
                    "addNote with a revoked API token",
                    gql(
                        bearer(&f.revoked.token),
                        ADD_NOTE,
                        json!({ "c": conversation, "t": "hello" }),
                    ),
                    Expected::Code("UNAUTHENTICATED"),
                ),
                row(
                    "notes with last: 0",
                    gql(
                        bearer(&f.alice.token),
                        NOTES,
                        json!({ "id": conversation, "last": 0 }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "notes with last: 101",
                    gql(
                        bearer(&f.alice.token),
                        NOTES,
                        json!({ "id": conversation, "last": 101 }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "notes before a garbage cursor",
                    gql(
                        bearer(&f.alice.token),
                        NOTES,
                        json!({ "id": conversation, "before": "'; DROP TABLE notes; --" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "mentions with first: -1",
                    gql(bearer(&f.alice.token), MENTIONS, json!({ "first": -1 })),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "mentions with first: 101",
                    gql(bearer(&f.alice.token), MENTIONS, json!({ "first": 101 })),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "mentions after a garbage cursor",
                    gql(
                        bearer(&f.alice.token),
                        MENTIONS,
                        json!({ "first": 5, "after": "not base64 at all!" }),
                    ),
                    Expected::Code("BAD_USER_INPUT"),
                ),
                row(
                    "mentions without a credential",
                    gql(Auth::None, MENTIONS, json!({ "first": 5 })),
                    Expected::Code("UNAUTHENTICATED"),
                ),
            ]
        }
    }
}

async fn perform(f: &Fixture, action: &Action) -> Outcome {
    let app = &f.app;
    match action {
        Action::Webhook { body, headers } => {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            Outcome::Http(vec![
                app.post_webhook_with_headers(body.clone(), &headers).await,
            ])
        }
        Action::Graphql {
            auth,
            query,
            variables,
        } => {
            let mut request = app
                .request(reqwest::Method::POST, "/graphql")
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&json!({ "query": query, "variables": variables }));
            match auth {
                Auth::None => {}
                Auth::Bearer(token) => request = request.bearer_auth(token),
                Auth::Header(value) => {
                    request = request.header(reqwest::header::AUTHORIZATION, value);
                }
            }
            Outcome::Http(vec![app.send(request).await])
        }
        Action::RawGraphql { body } => {
            let request = app
                .request(reqwest::Method::POST, "/graphql")
                .bearer_auth(&app.admin_token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.clone());
            Outcome::Http(vec![app.send(request).await])
        }
        Action::GetGraphql { query, variables } => {
            let url = reqwest::Url::parse_with_params(
                &app.url("/graphql"),
                [
                    ("query", query.clone()),
                    ("variables", variables.to_string()),
                ],
            )
            .expect("building the URL");
            let path = format!("/graphql?{}", url.query().unwrap_or_default());
            let request = app
                .request(reqwest::Method::GET, &path)
                .bearer_auth(&app.admin_token)
                .header(reqwest::header::ACCEPT, "application/json");
            Outcome::Http(vec![app.send(request).await])
        }
        Action::Login {
            email,
            password,
            attempts,
        } => {
            let mut responses = Vec::new();
            for _ in 0..*attempts {
                responses.push(
                    app.gql_http(None, LOGIN, json!({ "email": email, "password": password }))
                        .await,
                );
            }
            Outcome::Http(responses)
        }
        Action::WsConnect { payload } => Outcome::Ws(app.ws_init_answer(payload.clone()).await),
        Action::Hammer {
            token,
            requests,
            in_flight,
        } => {
            let calls =
                (0..*requests).map(|_| app.gql_http(Some(token), "{ pages { id } }", json!({})));
            let responses = futures::stream::iter(calls)
                .buffer_unordered(*in_flight)
                .collect()
                .await;
            Outcome::Http(responses)
        }
    }
}

fn json_body(response: &HttpResponse) -> Result<Value, String> {
    serde_json::from_str(&response.body)
        .map_err(|error| format!("the body is not JSON ({error}): {response:?}"))
}

/// `data` is absent or null, or holds only nulls.
fn no_data(body: &Value) -> Result<(), String> {
    let leaked = match &body["data"] {
        Value::Null => false,
        Value::Object(fields) => fields.values().any(|v| !v.is_null()),
        _ => true,
    };
    if leaked {
        Err(format!("data came back: {body}"))
    } else {
        Ok(())
    }
}

fn graphql_error(
    response: &HttpResponse,
    code: Option<&str>,
    message: Option<&str>,
) -> Result<(), String> {
    if response.status != 200 {
        return Err(format!("expected HTTP 200, got {response:?}"));
    }
    let body = json_body(response)?;
    if let Some(code) = code
        && error_code(&body) != Some(code)
    {
        return Err(format!("expected {code}, got {body}"));
    }
    if let Some(message) = message
        && error_message(&body) != Some(message)
    {
        return Err(format!("expected the message {message:?}, got {body}"));
    }
    no_data(&body)
}

impl Expected {
    fn check(&self, outcome: &Outcome) -> Result<(), String> {
        let responses = match outcome {
            Outcome::Ws(answer) => {
                return match (self, answer) {
                    (
                        Self::WsRefused,
                        InitAnswer::Closed {
                            code: Some(4403), ..
                        },
                    ) => Ok(()),
                    (Self::WsRefused, other) => Err(format!(
                        "expected no connection_ack and close code 4403, got {other:?}"
                    )),
                    (_, other) => Err(format!("expected {self:?}, got a WebSocket {other:?}")),
                };
            }
            Outcome::Http(responses) => responses,
        };
        match self {
            Self::LockedOutOnLastAttempt => locked_out_on_last_attempt(responses),
            Self::RateLimited => rate_limited(responses),
            _ => {
                let [response] = responses.as_slice() else {
                    return Err(format!("expected one response, got {}", responses.len()));
                };
                self.check_one(response)
            }
        }
    }

    fn check_one(&self, response: &HttpResponse) -> Result<(), String> {
        match self {
            Self::Status(status) if response.status == *status => Ok(()),
            Self::Status(status) => Err(format!("expected HTTP {status}, got {response:?}")),
            Self::StatusAndCode(status, code) => {
                let body = json_body(response)?;
                if response.status == *status && error_code(&body) == Some(code) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected HTTP {status} and {code}, got {response:?}"
                    ))
                }
            }
            Self::Code(code) => graphql_error(response, Some(code), None),
            Self::CodeAndMessage(code, message) => {
                graphql_error(response, Some(code), Some(message))
            }
            Self::LockedOutOnLastAttempt | Self::RateLimited | Self::WsRefused => {
                Err(format!("expected {self:?}, got {response:?}"))
            }
        }
    }
}

fn locked_out_on_last_attempt(responses: &[HttpResponse]) -> Result<(), String> {
    let Some((last, earlier)) = responses.split_last() else {
        return Err("no attempt was made".to_owned());
    };
    for (i, response) in earlier.iter().enumerate() {
        graphql_error(response, Some("UNAUTHENTICATED"), Some(INVALID_CREDENTIALS))
            .map_err(|why| format!("attempt {}: {why}", i + 1))?;
    }
    graphql_error(last, Some("RATE_LIMITED"), None)
        .map_err(|why| format!("attempt {}: {why}", responses.len()))?;
    let body = json_body(last)?;
    match body["errors"][0]["extensions"]["retryAfter"].as_u64() {
        Some(seconds) if seconds >= 1 => Ok(()),
        _ => Err(format!("no extensions.retryAfter in {body}")),
    }
}

fn rate_limited(responses: &[HttpResponse]) -> Result<(), String> {
    let mut served = 0;
    let mut limited = 0;
    for response in responses {
        match response.status {
            200 => {
                let body = json_body(response)?;
                if body["data"]["pages"] != json!([{ "id": PAGE }]) {
                    return Err(format!("a served request answered {body}"));
                }
                served += 1;
            }
            429 => {
                let retry_after = response
                    .header("retry-after")
                    .and_then(|v| v.parse::<u64>().ok());
                if retry_after.is_none_or(|seconds| seconds == 0) {
                    return Err(format!(
                        "a 429 without a Retry-After in seconds: {response:?}"
                    ));
                }
                let body = json_body(response)?;
                if error_code(&body) != Some("RATE_LIMITED") {
                    return Err(format!("a 429 without RATE_LIMITED: {body}"));
                }
                limited += 1;
            }
            _ => return Err(format!("expected 200 or 429, got {response:?}")),
        }
    }
    let burst = 2 * API_TOKEN_RATE;
    if served < burst {
        return Err(format!(
            "only {served} requests were served: the burst is {burst}"
        ));
    }
    if limited == 0 {
        return Err(format!(
            "all {served} requests were served: none was rate limited"
        ));
    }
    Ok(())
}

/// Runs `group`'s rows in order on a fresh fixture: each must be answered as its row says,
/// and after each nothing may have been stored or changed. Every row's name and verdict
/// is printed (shown with `--nocapture`, and for a failing group).
async fn refused_as_specified_and_change_nothing(group: Group) {
    // Arrange
    let fixture = fixture().await;
    let all: usize = Group::ALL.iter().map(|g| rows(&fixture, *g).len()).sum();
    assert!(all >= 40, "only {all} rows");
    let rows = rows(&fixture, group);
    assert!(!rows.is_empty(), "no rows in {group:?}");
    let mut counts = fixture.app.counts().await;
    assert_eq!(
        counts,
        Counts {
            pages: 1,
            conversations: 1,
            messages: 2,
            agents: 3,
            api_tokens: 3,
            notes: 0,
        },
        "the fixture is not what the rows expect"
    );
    let team_state = || async {
        fixture
            .app
            .gql_data(TEAM_STATE, json!({ "p": PAGE, "c": fixture.conversation }))
            .await
    };
    let mut team = team_state().await;
    let mut failures = Vec::new();

    for row in &rows {
        // Act
        let outcome = perform(&fixture, &row.action).await;

        // Assert
        let mut failed = Vec::new();
        if let Err(why) = row.expected.check(&outcome) {
            failed.push(why);
        }
        let after = fixture.app.counts().await;
        if after != counts {
            failed.push(format!(
                "something was stored or changed: {counts:?} became {after:?}"
            ));
            counts = after;
        }
        let team_after = team_state().await;
        if team_after != team {
            failed.push(format!(
                "the Page's labels changed: {team} became {team_after}"
            ));
            team = team_after;
        }
        let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
        println!("row {:?} ... {verdict}", row.name);
        failures.extend(failed.into_iter().map(|why| format!("{}: {why}", row.name)));
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows of {group:?} failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn forged_webhooks() {
    refused_as_specified_and_change_nothing(Group::ForgedWebhooks).await;
}

#[tokio::test]
async fn oversized_and_malformed_deliveries() {
    refused_as_specified_and_change_nothing(Group::MalformedDeliveries).await;
}

#[tokio::test]
async fn oversized_and_malformed_graphql() {
    refused_as_specified_and_change_nothing(Group::MalformedGraphql).await;
}

#[tokio::test]
async fn page_sizes_and_cursors() {
    refused_as_specified_and_change_nothing(Group::PageSizesAndCursors).await;
}

#[tokio::test]
async fn snoozes_and_inbox_filters() {
    refused_as_specified_and_change_nothing(Group::SnoozesAndFilters).await;
}

#[tokio::test]
async fn malformed_ids() {
    refused_as_specified_and_change_nothing(Group::MalformedIds).await;
}

#[tokio::test]
async fn missing_broken_and_dead_credentials() {
    refused_as_specified_and_change_nothing(Group::DeadCredentials).await;
}

#[tokio::test]
async fn sign_in() {
    refused_as_specified_and_change_nothing(Group::SignIn).await;
}

#[tokio::test]
async fn websocket_handshakes() {
    refused_as_specified_and_change_nothing(Group::WebSocketHandshakes).await;
}

#[tokio::test]
async fn privilege_escalation_and_bad_input_on_administration() {
    refused_as_specified_and_change_nothing(Group::PrivilegeEscalation).await;
}

#[tokio::test]
async fn mutations_through_get() {
    refused_as_specified_and_change_nothing(Group::MutationsThroughGet).await;
}

#[tokio::test]
async fn rate_limits() {
    refused_as_specified_and_change_nothing(Group::RateLimits).await;
}

#[tokio::test]
async fn replies() {
    refused_as_specified_and_change_nothing(Group::Replies).await;
}

#[tokio::test]
async fn teammates_tokens_and_the_audit_log() {
    refused_as_specified_and_change_nothing(Group::Administration).await;
}

#[tokio::test]
async fn labels() {
    refused_as_specified_and_change_nothing(Group::Labels).await;
}

#[tokio::test]
async fn private_notes() {
    refused_as_specified_and_change_nothing(Group::Notes).await;
}

#[tokio::test]
async fn saved_replies() {
    refused_as_specified_and_change_nothing(Group::SavedReplies).await;
}
