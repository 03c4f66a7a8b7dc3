//! Page access, operation by operation: alice works on Page A, bob on Page B, and nothing
//! alice (or a token limited to A) asks about B may come back. Every operation that takes
//! an ID has a case in `cases()`; the schema is introspected, so a new operation without a
//! case fails `every_operation_taking_an_id_shows_alice_nothing_of_page_b`.
use std::collections::{BTreeSet, HashMap};

use mf_tests::webhook::{batch, delivery, echo, message, read};
use mf_tests::{
    Agent, ApiToken, CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TIMEOUT, TestApp, error_code,
    error_message, id_of, nodes, spawn_app,
};
use serde_json::{Value, json};

const PAGE_A: &str = PAGE;
const PAGE_B: &str = OTHER_PAGE;
/// A Page id and a numeric id that exist nowhere: B's must answer exactly like them.
const NO_PAGE: &str = "1999999999";
const NO_ID: &str = "999999999";

const CONVERSATION_UPDATED: &str = "subscription($pageId: ID!) {
  conversationUpdated(pageId: $pageId) { id page { id } lastMessageText }
}";

const AGENT_PRESENCE: &str = "subscription($pageId: ID!) {
  agentPresence(pageId: $pageId) { agent { id } status }
}";

/// Pages A and B, each with a conversation and messages; alice on A, bob on B.
struct World {
    app: TestApp,
    alice: Agent,
    bob: Agent,
    conversation_a: String,
    conversation_b: String,
    /// Bob's integration, limited to B.
    bobs_token: ApiToken,
    /// A history sync job of Page B.
    sync_job_b: String,
    /// A label of Page B, on B's conversation.
    label_b: String,
    /// A saved reply of Page B.
    saved_reply_b: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE_A,
        [
            message(PAGE_A, CUSTOMER, "a1", "hello A", T0),
            echo(PAGE_A, CUSTOMER, "a2", "A answers", T0 + 1000),
        ],
    ))
    .await;
    app.ingest(&batch(
        PAGE_B,
        [
            message(PAGE_B, OTHER_CUSTOMER, "b1", "hello B", T0),
            echo(PAGE_B, OTHER_CUSTOMER, "b2", "B answers", T0 + 1000),
        ],
    ))
    .await;
    let conversation_a = id_of(&app.conversation_with(PAGE_A, CUSTOMER).await).to_owned();
    let conversation_b = id_of(&app.conversation_with(PAGE_B, OTHER_CUSTOMER).await).to_owned();
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE_A]).await;
    let bob = app.agent_on("bob@example.com", "Bob", &[PAGE_B]).await;
    // A history sync of Page B (B is not connected in these tests, so it is arranged here).
    let sync_job_b = {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        entity::sync_job::ActiveModel {
            page_id: Set(PAGE_B.to_owned()),
            status: Set(entity::sync_job::Status::Running),
            started_at: Set(T0),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("arranging a sync job of Page B")
        .id
        .to_string()
    };
    let bobs_token = app
        .create_api_token(&bob.token, "bob's integration", &[PAGE_B])
        .await;
    // B's conversation is bob's, and its window closes within hours: every inbox filter
    // would list it for bob (`the_inbox_filters_list_page_bs_conversation_for_bob`).
    let recently = chrono::Utc::now().timestamp_millis() - 22 * 3_600_000;
    app.ingest(&batch(
        PAGE_B,
        [message(
            PAGE_B,
            OTHER_CUSTOMER,
            "b0",
            "still there?",
            recently,
        )],
    ))
    .await;
    let assigned = app
        .gql_as(
            Some(&bob.token),
            "mutation($id: ID!, $bob: ID!) { updateConversation(id: $id, input: { assigneeId: $bob }) { id } }",
            json!({ "id": conversation_b, "bob": bob.id }),
        )
        .await;
    assert!(assigned["errors"].is_null(), "{assigned:#}");
    let label_b = app
        .gql_data_as(
            &bob.token,
            "mutation($p: ID!) { createLabel(pageId: $p, name: \"B's label\", color: \"#123456\") { id } }",
            json!({ "p": PAGE_B }),
        )
        .await["createLabel"]["id"]
        .as_str()
        .expect("B's label")
        .to_owned();
    app.gql_data_as(
        &bob.token,
        "mutation($c: ID!, $l: ID!) { setConversationLabels(conversationId: $c, labelIds: [$l]) { id } }",
        json!({ "c": conversation_b, "l": label_b }),
    )
    .await;
    let saved_reply_b = app
        .gql_data_as(
            &bob.token,
            "mutation($p: ID!) { createSavedReply(pageId: $p, shortcut: \"hours\", text: \"9 to 5\") { id } }",
            json!({ "p": PAGE_B }),
        )
        .await["createSavedReply"]["id"]
        .as_str()
        .expect("B's saved reply")
        .to_owned();
    World {
        app,
        alice,
        bob,
        conversation_a,
        conversation_b,
        bobs_token,
        sync_job_b,
        label_b,
        saved_reply_b,
    }
}

/// What an operation is aimed at: Page B's things, or things that exist nowhere.
struct Target {
    page: String,
    conversation: String,
    /// An agent who works there.
    agent: String,
    /// An API token of someone else's.
    api_token: String,
    /// The caller's own agent id (alice's).
    me: String,
    /// A history sync job.
    sync_job: String,
    /// A label.
    label: String,
    /// The caller's own conversation (alice's, on A).
    mine: String,
    /// A saved reply.
    saved_reply: String,
}

impl World {
    fn page_b(&self) -> Target {
        Target {
            page: PAGE_B.to_owned(),
            conversation: self.conversation_b.clone(),
            agent: self.bob.id.clone(),
            api_token: self.bobs_token.id.clone(),
            me: self.alice.id.clone(),
            sync_job: self.sync_job_b.clone(),
            label: self.label_b.clone(),
            mine: self.conversation_a.clone(),
            saved_reply: self.saved_reply_b.clone(),
        }
    }

    fn nowhere(&self) -> Target {
        Target {
            page: NO_PAGE.to_owned(),
            conversation: NO_ID.to_owned(),
            agent: NO_ID.to_owned(),
            api_token: NO_ID.to_owned(),
            me: self.alice.id.clone(),
            sync_job: NO_ID.to_owned(),
            label: NO_ID.to_owned(),
            mine: self.conversation_a.clone(),
            saved_reply: NO_ID.to_owned(),
        }
    }
}

/// What alice must get back.
#[derive(Clone, Debug)]
enum Expected {
    /// No error, and `data.<operation>` exactly this.
    Data(Value),
    /// An error with this `extensions.code` (for a subscription: it is refused with it).
    Error(&'static str),
}

/// One operation run as alice against Page B.
struct Case {
    operation: &'static str,
    document: &'static str,
    variables: fn(&Target) -> Value,
    /// What alice's session gets.
    expected: Expected,
    /// What an API token limited to A gets, when that differs.
    expected_for_api_token: Option<Expected>,
}

impl Case {
    fn is_subscription(&self) -> bool {
        self.document.trim_start().starts_with("subscription")
    }
}

/// The table: every operation taking an ID, aimed at Page B.
fn cases() -> Vec<Case> {
    vec![
        Case {
            operation: "sendMessage",
            document: "mutation($id: ID!) { sendMessage(input: { conversationId: $id, text: \"mine now\", \
                       clientMutationId: \"matrix-1\" }) { id status } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "sendTypingIndicator",
            document: "mutation($id: ID!) { sendTypingIndicator(conversationId: $id, typing: true) }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "updateConversation",
            document: "mutation($id: ID!) { updateConversation(id: $id, input: { status: RESOLVED, markRead: true }) { id status unreadCount } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "updateConversation",
            document: "mutation($id: ID!) { updateConversation(id: $id, input: { snoozedUntil: \"2099-01-01T09:00:00Z\" }) { id status snoozedUntil } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "connectPage",
            document: "mutation($pageId: ID!) { connectPage(pageId: $pageId, accessToken: \"EAAG-stolen\") { id } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("FORBIDDEN"),
            expected_for_api_token: None,
        },
        Case {
            operation: "syncConversations",
            document: "mutation($pageId: ID!) { syncConversations(pageId: $pageId) { conversations messages } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "syncFullHistory",
            document: "mutation($pageId: ID!) { syncFullHistory(pageId: $pageId) { id status } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "search",
            document: "query($pageId: ID!) { search(query: \"hello answers\", pageId: $pageId) { edges { node { snippet } } } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "syncJob",
            document: "query($id: ID!) { syncJob(id: $id) { id pageId status conversations } }",
            variables: |t| json!({ "id": t.sync_job }),
            expected: Expected::Data(Value::Null),
            expected_for_api_token: None,
        },
        Case {
            operation: "syncProgress",
            document: "subscription($id: ID!) { syncProgress(jobId: $id) { id status } }",
            variables: |t| json!({ "id": t.sync_job }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "pageAgents",
            document: "query($pageId: ID!) { pageAgents(pageId: $pageId) { agent { id email } status } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Data(json!([])),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversations",
            document: "query($pageId: ID!, $agent: ID!) { conversations(pageId: $pageId, first: 100, assigneeId: $agent) { \
                       edges { node { id } } pageInfo { hasNextPage endCursor } } }",
            variables: |t| json!({ "pageId": t.page, "agent": t.agent }),
            expected: Expected::Data(json!({
                "edges": [], "pageInfo": { "hasNextPage": false, "endCursor": null },
            })),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversations",
            document: "query($pageId: ID!) { conversations(pageId: $pageId, first: 100, assignee: ASSIGNED, \
                       windowClosesWithinHours: 24) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Data(json!({
                "edges": [], "pageInfo": { "hasNextPage": false, "endCursor": null },
            })),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversations",
            document: "query($pageId: ID!) { conversations(pageId: $pageId, first: 100) { \
                       edges { cursor node { id lastMessageText } } \
                       pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Data(json!({
                "edges": [],
                "pageInfo": {
                    "hasNextPage": false, "hasPreviousPage": false,
                    "startCursor": null, "endCursor": null,
                },
            })),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversation",
            document: "query($id: ID!) { conversation(id: $id) { id page { id } lastMessageText } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Data(Value::Null),
            expected_for_api_token: None,
        },
        Case {
            operation: "messages",
            document: "query($id: ID!) { messages(conversationId: $id, last: 100) { edges { node { id text } } } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "addPageMember",
            document: "mutation($pageId: ID!, $agentId: ID!) { addPageMember(pageId: $pageId, agentId: $agentId) }",
            variables: |t| json!({ "pageId": t.page, "agentId": t.me }),
            expected: Expected::Error("FORBIDDEN"),
            expected_for_api_token: None,
        },
        Case {
            operation: "removePageMember",
            document: "mutation($pageId: ID!, $agentId: ID!) { removePageMember(pageId: $pageId, agentId: $agentId) }",
            variables: |t| json!({ "pageId": t.page, "agentId": t.agent }),
            expected: Expected::Error("FORBIDDEN"),
            expected_for_api_token: None,
        },
        Case {
            operation: "createApiToken",
            document: "mutation($pageIds: [ID!]!) { createApiToken(name: \"mine now\", pageIds: $pageIds) { \
                       token apiToken { id pageIds } } }",
            variables: |t| json!({ "pageIds": [t.page] }),
            expected: Expected::Error("NOT_FOUND"),
            // Only a signed-in agent creates tokens: an API token is refused before the pages.
            expected_for_api_token: Some(Expected::Error("FORBIDDEN")),
        },
        Case {
            operation: "revokeApiToken",
            document: "mutation($id: ID!) { revokeApiToken(id: $id) }",
            variables: |t| json!({ "id": t.api_token }),
            expected: Expected::Error("NOT_FOUND"),
            // An API token may revoke only itself: any other id is refused before it is looked up.
            expected_for_api_token: Some(Expected::Error("FORBIDDEN")),
        },
        Case {
            operation: "deactivateAgent",
            document: "mutation($id: ID!) { deactivateAgent(id: $id) { id active } }",
            variables: |t| json!({ "id": t.agent }),
            expected: Expected::Error("FORBIDDEN"),
            expected_for_api_token: None,
        },
        Case {
            operation: "setAgentRole",
            // Alice making herself an administrator, which would show her B.
            document: "mutation($id: ID!) { setAgentRole(id: $id, role: ADMIN) { id role } }",
            variables: |t| json!({ "id": t.me }),
            expected: Expected::Error("FORBIDDEN"),
            expected_for_api_token: None,
        },
        Case {
            operation: "resetAgentPassword",
            // Taking over bob's account, who works on B.
            document: "mutation($id: ID!) { resetAgentPassword(id: $id, password: \"taken over now\") { agent { id } password } }",
            variables: |t| json!({ "id": t.agent }),
            expected: Expected::Error("FORBIDDEN"),
            expected_for_api_token: None,
        },
        Case {
            operation: "messageAdded",
            document: "subscription($id: ID!) { messageAdded(conversationId: $id) { id text } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "messageUpdated",
            document: "subscription($id: ID!) { messageUpdated(conversationId: $id) { id status } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversationUpdated",
            document: CONVERSATION_UPDATED,
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "pageEvents",
            document: "subscription($pageId: ID!) { pageEvents(pageId: $pageId, after: \"0\") { position kind } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "agentPresence",
            document: AGENT_PRESENCE,
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "setConversationPresence",
            document: "mutation($id: ID!) { setConversationPresence(conversationId: $id, state: TYPING) }",
            variables: |t| json!({ "id": t.conversation }),
            // Looked up before the credential's kind is judged, so a token learns no more.
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "customerStory",
            document: "query($id: ID!) { customerStory(conversationId: $id) { psid name inboundCount \
                       otherConversations { id } referrals { id source } } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversationPresence",
            document: "subscription($pageId: ID!) { conversationPresence(pageId: $pageId) { conversationId agent { id } state } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "savedReplies",
            document: "query($pageId: ID!) { savedReplies(pageId: $pageId) { id shortcut text } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Data(json!([])),
            expected_for_api_token: None,
        },
        Case {
            operation: "createSavedReply",
            document: "mutation($pageId: ID!) { createSavedReply(pageId: $pageId, shortcut: \"mine\", text: \"mine now\") { id } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "updateSavedReply",
            document: "mutation($id: ID!) { updateSavedReply(id: $id, text: \"mine now\") { id text } }",
            variables: |t| json!({ "id": t.saved_reply }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "deleteSavedReply",
            document: "mutation($id: ID!) { deleteSavedReply(id: $id) }",
            variables: |t| json!({ "id": t.saved_reply }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "labels",
            document: "query($pageId: ID!) { labels(pageId: $pageId) { id name color } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Data(json!([])),
            expected_for_api_token: None,
        },
        Case {
            operation: "createLabel",
            document: "mutation($pageId: ID!) { createLabel(pageId: $pageId, name: \"mine now\") { id } }",
            variables: |t| json!({ "pageId": t.page }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "updateLabel",
            document: "mutation($id: ID!) { updateLabel(id: $id, name: \"mine now\", color: \"#000000\") { id name } }",
            variables: |t| json!({ "id": t.label }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "deleteLabel",
            document: "mutation($id: ID!) { deleteLabel(id: $id) }",
            variables: |t| json!({ "id": t.label }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "setConversationLabels",
            document: "mutation($id: ID!, $label: ID!) { setConversationLabels(conversationId: $id, labelIds: [$label]) { id labels { id } } }",
            variables: |t| json!({ "id": t.conversation, "label": t.label }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "setConversationLabels",
            // B's label on alice's own conversation.
            document: "mutation($id: ID!, $label: ID!) { setConversationLabels(conversationId: $id, labelIds: [$label]) { id labels { id } } }",
            variables: |t| json!({ "id": t.mine, "label": t.label }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "setConversationLabels",
            // Taking B's label off B's conversation.
            document: "mutation($id: ID!) { setConversationLabels(conversationId: $id, labelIds: []) { id } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "addNote",
            // A note on B's conversation, mentioning bob, who works there.
            document: "mutation($id: ID!) { addNote(conversationId: $id, text: \"@Bob mine now\") { id text } }",
            variables: |t| json!({ "id": t.conversation }),
            expected: Expected::Error("NOT_FOUND"),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversations",
            // Alice's own Page, filtered by B's label.
            document: "query($label: ID!) { conversations(pageId: \"1000000001\", first: 100, labelId: $label) { \
                       edges { node { id } } pageInfo { hasNextPage endCursor } } }",
            variables: |t| json!({ "label": t.label }),
            expected: Expected::Data(json!({
                "edges": [], "pageInfo": { "hasNextPage": false, "endCursor": null },
            })),
            expected_for_api_token: None,
        },
        Case {
            operation: "conversations",
            document: "query($pageId: ID!, $label: ID!) { conversations(pageId: $pageId, first: 100, labelId: $label) { \
                       edges { node { id labels { id } } } pageInfo { hasNextPage endCursor } } }",
            variables: |t| json!({ "pageId": t.page, "label": t.label }),
            expected: Expected::Data(json!({
                "edges": [], "pageInfo": { "hasNextPage": false, "endCursor": null },
            })),
            expected_for_api_token: None,
        },
    ]
}

/// What the caller learnt from an operation.
#[derive(Debug, PartialEq)]
enum Answer {
    Data(Value),
    Error {
        code: Option<String>,
        message: Option<String>,
    },
    /// A subscription that started instead of being refused.
    Started(String),
}

impl Answer {
    fn error(response: &Value) -> Self {
        Self::Error {
            code: error_code(response).map(str::to_owned),
            message: error_message(response).map(str::to_owned),
        }
    }

    fn matches(&self, expected: &Expected) -> bool {
        match (self, expected) {
            (Self::Data(data), Expected::Data(wanted)) => data == wanted,
            (Self::Error { code, .. }, Expected::Error(wanted)) => code.as_deref() == Some(*wanted),
            _ => false,
        }
    }
}

async fn answer(app: &TestApp, token: &str, case: &Case, target: &Target) -> Answer {
    let variables = (case.variables)(target);
    if case.is_subscription() {
        return match app
            .subscription_refusal(Some(token), case.document, variables)
            .await
        {
            Ok(refusal) => Answer::error(&refusal),
            Err(error) => Answer::Started(format!("{error:#}")),
        };
    }
    let response = app.gql_as(Some(token), case.document, variables).await;
    if response
        .get("errors")
        .is_some_and(|errors| !errors.is_null())
    {
        Answer::error(&response)
    } else {
        Answer::Data(response["data"][case.operation].clone())
    }
}

/// Runs the case with `token` against B, and against things that exist nowhere; returns
/// what went wrong, if anything.
async fn run_case(world: &World, token: &str, case: &Case, expected: &Expected) -> Vec<String> {
    let mut failures = Vec::new();
    let on_b = answer(&world.app, token, case, &world.page_b()).await;
    if !on_b.matches(expected) {
        failures.push(format!(
            "{}: expected {expected:?}, got {on_b:?}",
            case.operation
        ));
    }
    let on_nothing = answer(&world.app, token, case, &world.nowhere()).await;
    if on_b != on_nothing {
        failures.push(format!(
            "{}: B's answer differs from the answer for something that does not exist, \
             so it tells B's things apart: {on_b:?} vs {on_nothing:?}",
            case.operation
        ));
    }
    failures.extend(
        b_is_hidden_from(world, token)
            .await
            .into_iter()
            .map(|f| format!("after {}: {f}", case.operation)),
    );
    failures.extend(
        b_is_intact(world)
            .await
            .into_iter()
            .map(|f| format!("after {}: {f}", case.operation)),
    );
    failures
}

async fn page_ids_as(app: &TestApp, token: &str) -> Value {
    let response = app.gql_as(Some(token), "{ pages { id } }", json!({})).await;
    response["data"]["pages"].clone()
}

/// Whatever `token` may see: only Page A, and nothing of B.
async fn b_is_hidden_from(world: &World, token: &str) -> Vec<String> {
    let app = &world.app;
    let mut failures = Vec::new();
    let pages = page_ids_as(app, token).await;
    if pages != json!([{ "id": PAGE_A }]) {
        failures.push(format!("the caller's pages are {pages}, not only A"));
    }
    let conversations = app
        .gql_as(
            Some(token),
            "query($p: ID!) { conversations(pageId: $p, first: 100) { edges { node { id } } } }",
            json!({ "p": PAGE_B }),
        )
        .await;
    if conversations["data"]["conversations"]["edges"] != json!([]) {
        failures.push(format!(
            "the caller sees B's conversations: {conversations}"
        ));
    }
    let conversation = app
        .gql_as(
            Some(token),
            "query($id: ID!) { conversation(id: $id) { id } }",
            json!({ "id": world.conversation_b }),
        )
        .await;
    if conversation["data"]["conversation"] != Value::Null {
        failures.push(format!("the caller sees B's conversation: {conversation}"));
    }
    failures
}

/// Bob still works on B, and his API token still works.
async fn b_is_intact(world: &World) -> Vec<String> {
    let app = &world.app;
    let mut failures = Vec::new();
    let bobs = app
        .gql_as(
            Some(&world.bob.token),
            "query($p: ID!) { conversations(pageId: $p, first: 100) { edges { node { id } } } }",
            json!({ "p": PAGE_B }),
        )
        .await;
    if bobs["data"]["conversations"]["edges"] != json!([{ "node": { "id": world.conversation_b } }])
    {
        failures.push(format!("bob no longer sees B's conversation: {bobs}"));
    }
    let labels = app
        .gql_as(
            Some(&world.bob.token),
            "query($p: ID!, $c: ID!) { labels(pageId: $p) { id name color } conversation(id: $c) { labels { id } } }",
            json!({ "p": PAGE_B, "c": world.conversation_b }),
        )
        .await;
    let expected = json!({
        "labels": [{ "id": world.label_b, "name": "B's label", "color": "#123456" }],
        "conversation": { "labels": [{ "id": world.label_b }] },
    });
    if labels["data"] != expected {
        failures.push(format!("B's label changed: {labels}"));
    }
    let replies = app
        .gql_as(
            Some(&world.bob.token),
            "query($p: ID!) { savedReplies(pageId: $p) { id shortcut text } }",
            json!({ "p": PAGE_B }),
        )
        .await;
    let expected = json!({ "savedReplies": [{ "id": world.saved_reply_b, "shortcut": "hours", "text": "9 to 5" }] });
    if replies["data"] != expected {
        failures.push(format!("B's saved reply changed: {replies}"));
    }
    let with_token = page_ids_as(app, &world.bobs_token.token).await;
    if with_token != json!([{ "id": PAGE_B }]) {
        failures.push(format!("bob's API token no longer works: {with_token}"));
    }
    let notes = app
        .gql_as(
            Some(&world.bob.token),
            "query($id: ID!) { conversation(id: $id) { notes { edges { node { id } } } } \
             mentions { edges { node { id } } } }",
            json!({ "id": world.conversation_b }),
        )
        .await;
    if notes["data"]
        != json!({ "conversation": { "notes": { "edges": [] } }, "mentions": { "edges": [] } })
    {
        failures.push(format!("a note reached B or mentioned bob: {notes}"));
    }
    failures
}

const INTROSPECTION: &str = "query {
  __schema {
    queryType { fields { ...Operation } }
    mutationType { fields { ...Operation } }
    subscriptionType { fields { ...Operation } }
    types { name kind inputFields { name type { ...TypeRef } } }
  }
}
fragment Operation on __Field { name args { name type { ...TypeRef } } }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The named type under NON_NULL and LIST wrappers: (kind, name).
fn named_type(type_ref: &Value) -> (String, String) {
    let mut current = type_ref;
    loop {
        let kind = current["kind"].as_str().unwrap_or_default();
        if kind != "NON_NULL" && kind != "LIST" {
            let name = current["name"].as_str().unwrap_or_default();
            return (kind.to_owned(), name.to_owned());
        }
        assert!(
            current["ofType"].is_object(),
            "a type is wrapped deeper than the introspection query reads; extend TypeRef: {type_ref}"
        );
        current = &current["ofType"];
    }
}

/// Whether a value of this type carries an ID: the type itself, or an input object with
/// an ID field at any depth.
fn carries_id(
    type_ref: &Value,
    inputs: &HashMap<String, Vec<Value>>,
    seen: &mut BTreeSet<String>,
) -> bool {
    let (kind, name) = named_type(type_ref);
    match kind.as_str() {
        "SCALAR" => name == "ID",
        "INPUT_OBJECT" => {
            if !seen.insert(name.clone()) {
                return false;
            }
            inputs
                .get(&name)
                .is_some_and(|fields| fields.iter().any(|f| carries_id(&f["type"], inputs, seen)))
        }
        _ => false,
    }
}

/// Every query, mutation and subscription that takes an ID, as the server describes itself.
async fn id_taking_operations(app: &TestApp) -> BTreeSet<String> {
    let data = app.gql_data(INTROSPECTION, json!({})).await;
    let schema = &data["__schema"];
    let inputs: HashMap<String, Vec<Value>> = schema["types"]
        .as_array()
        .expect("types")
        .iter()
        .filter(|t| t["kind"] == "INPUT_OBJECT")
        .map(|t| {
            (
                t["name"].as_str().expect("a type name").to_owned(),
                t["inputFields"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect();
    let mut operations = BTreeSet::new();
    for root in ["queryType", "mutationType", "subscriptionType"] {
        for field in schema[root]["fields"].as_array().into_iter().flatten() {
            let takes_id = field["args"]
                .as_array()
                .expect("args")
                .iter()
                .any(|arg| carries_id(&arg["type"], &inputs, &mut BTreeSet::new()));
            if takes_id {
                operations.insert(field["name"].as_str().expect("a field name").to_owned());
            }
        }
    }
    operations
}

async fn alice_sees_page_a(world: &World) {
    let messages = world
        .app
        .gql_data_as(
            &world.alice.token,
            "query($id: ID!) { messages(conversationId: $id) { edges { node { text } } } }",
            json!({ "id": world.conversation_a }),
        )
        .await;
    assert_eq!(
        nodes(&messages["messages"]).len(),
        2,
        "alice should see A's messages, or every check of B proves nothing: {messages:#}"
    );
}

/// The positive control of the inbox filters' cases: bob, on B, gets B's conversation
/// through each of them, so alice's empty answers are access, not an empty Page.
#[tokio::test]
async fn the_inbox_filters_list_page_bs_conversation_for_bob() {
    let world = world().await;
    for (filter, variables) in [
        (
            "assigneeId",
            json!({ "pageId": PAGE_B, "agent": world.bob.id }),
        ),
        ("assignee + ending soon", json!({ "pageId": PAGE_B })),
        (
            "labelId",
            json!({ "pageId": PAGE_B, "label": world.label_b }),
        ),
    ] {
        let document = match filter {
            "assigneeId" => {
                "query($pageId: ID!, $agent: ID!) { conversations(pageId: $pageId, assigneeId: $agent) { edges { node { id } } } }"
            }
            "labelId" => {
                "query($pageId: ID!, $label: ID!) { conversations(pageId: $pageId, labelId: $label) { edges { node { id } } } }"
            }
            _ => {
                "query($pageId: ID!) { conversations(pageId: $pageId, assignee: ASSIGNED, windowClosesWithinHours: 24) { edges { node { id } } } }"
            }
        };
        let data = world
            .app
            .gql_data_as(&world.bob.token, document, variables)
            .await;
        let listed = nodes(&data["conversations"]);
        let ids: Vec<&str> = listed.iter().map(id_of).collect();
        assert_eq!(ids, [world.conversation_b.as_str()], "{filter}: {data:#}");
    }
}

#[tokio::test]
async fn every_operation_taking_an_id_shows_alice_nothing_of_page_b() {
    // Arrange
    let world = world().await;
    alice_sees_page_a(&world).await;
    let cases = cases();
    let covered: BTreeSet<String> = cases.iter().map(|c| c.operation.to_owned()).collect();

    // Act
    let operations = id_taking_operations(&world.app).await;

    // Assert: the table covers the schema...
    let missing: Vec<&String> = operations.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "these operations take an ID but have no case in cases(): {missing:?}. \
         Add one that runs the operation as alice against Page B and asserts that \
         nothing of B comes back."
    );
    let gone: Vec<&String> = covered.difference(&operations).collect();
    assert!(
        gone.is_empty(),
        "cases() has operations the schema no longer has (or that take no ID): {gone:?}"
    );
    // ...and each case shows alice nothing of B.
    let mut failures = Vec::new();
    for case in &cases {
        failures.extend(run_case(&world, &world.alice.token, case, &case.expected).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn an_api_token_limited_to_page_a_gets_nothing_of_page_b() {
    // Arrange: alice's integration, and an administrator's, both limited to A.
    let world = world().await;
    let alices_token = world
        .app
        .create_api_token(&world.alice.token, "alice's integration", &[PAGE_A])
        .await;
    let admins_token = world
        .app
        .create_api_token(&world.app.admin_token, "admin's integration", &[PAGE_A])
        .await;

    // Act: an API token may make 50 requests a second (a burst of 100), and one case
    // makes about six with it, so the cases are paced to stay under that rate: a
    // RATE_LIMITED answer would hide the answer the case checks.
    let mut failures = Vec::new();
    for case in &cases() {
        let started = tokio::time::Instant::now();
        for (whose, token) in [("alice's", &alices_token), ("the admin's", &admins_token)] {
            let expected = case
                .expected_for_api_token
                .as_ref()
                .unwrap_or(&case.expected);
            failures.extend(
                run_case(&world, &token.token, case, expected)
                    .await
                    .into_iter()
                    .map(|f| format!("{whose} token: {f}")),
            );
        }
        tokio::time::sleep_until(started + std::time::Duration::from_millis(200)).await;
    }

    // Assert
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn alices_subscriptions_to_page_a_receive_none_of_page_bs_events() {
    // Arrange: with her session and with an API token limited to A.
    let world = world().await;
    let app = &world.app;
    let alices_token = app
        .create_api_token(&world.alice.token, "alice's integration", &[PAGE_A])
        .await;
    let mut with_session = app
        .subscribe_as(
            &world.alice.token,
            CONVERSATION_UPDATED,
            json!({ "pageId": PAGE_A }),
        )
        .await;
    let mut with_token = app
        .subscribe_as(
            &alices_token.token,
            CONVERSATION_UPDATED,
            json!({ "pageId": PAGE_A }),
        )
        .await;

    // Act: B's traffic first (new messages, echoes, receipts, a new customer), A's last,
    // so that a leak arrives before the awaited event.
    app.ingest(&batch(
        PAGE_B,
        [
            message(PAGE_B, OTHER_CUSTOMER, "b3", "secret B stuff", T0 + 2000),
            echo(PAGE_B, OTHER_CUSTOMER, "b4", "B's reply", T0 + 3000),
            delivery(PAGE_B, OTHER_CUSTOMER, T0 + 3000),
            read(PAGE_B, OTHER_CUSTOMER, T0 + 3000),
            message(PAGE_B, CUSTOMER, "b5", "a new customer of B", T0 + 4000),
        ],
    ))
    .await;
    app.ingest(&batch(
        PAGE_A,
        [message(PAGE_A, CUSTOMER, "a3", "A again", T0 + 5000)],
    ))
    .await;

    // Assert
    for (how, subscription) in [
        ("session", &mut with_session),
        ("API token", &mut with_token),
    ] {
        let event = subscription
            .next(TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("no event with alice's {how}: {error:#}"));
        let updated = &event["conversationUpdated"];
        assert_eq!(
            updated["page"]["id"], PAGE_A,
            "with alice's {how}: {event:#}"
        );
        assert_eq!(updated["id"], world.conversation_a.as_str(), "with {how}");
        assert_eq!(updated["lastMessageText"], "A again", "with {how}");
    }
}

#[tokio::test]
async fn alices_presence_subscription_shows_none_of_page_bs_agents() {
    // Arrange
    let world = world().await;
    let app = &world.app;
    let mut presence = app
        .subscribe_as(
            &world.alice.token,
            AGENT_PRESENCE,
            json!({ "pageId": PAGE_A }),
        )
        .await;

    // Act: bob (B only) comes online first, then the administrator (every Page).
    let _bob_online = app.connect_as(&world.bob.token).await;
    let _admin_online = app.connect_as(&app.admin_token).await;

    // Assert
    let event = presence.next(TIMEOUT).await.expect("a presence event");
    let me = app.gql_data("{ me { id } }", json!({})).await;
    assert_eq!(
        event["agentPresence"],
        json!({ "agent": { "id": me["me"]["id"] }, "status": "ONLINE" }),
        "the first event should be the administrator's, not bob's"
    );
}

#[tokio::test]
async fn alice_sees_only_page_a_in_pages() {
    // Arrange
    let world = world().await;

    // Act
    let alices = page_ids_as(&world.app, &world.alice.token).await;
    let admins = page_ids_as(&world.app, &world.app.admin_token).await;

    // Assert
    assert_eq!(alices, json!([{ "id": PAGE_A }]));
    assert_eq!(admins, json!([{ "id": PAGE_A }, { "id": PAGE_B }]));
}

#[tokio::test]
async fn alice_cannot_revoke_bobs_api_token_and_it_keeps_working() {
    // Arrange
    let world = world().await;

    // Act
    let response = world
        .app
        .gql_as(
            Some(&world.alice.token),
            "mutation($id: ID!) { revokeApiToken(id: $id) }",
            json!({ "id": world.bobs_token.id }),
        )
        .await;

    // Assert
    assert_eq!(error_code(&response), Some("NOT_FOUND"), "{response:#}");
    assert_eq!(response["data"], Value::Null, "{response:#}");
    assert_eq!(b_is_intact(&world).await, Vec::<String>::new());
    let subscription = world
        .app
        .try_subscribe_as(
            Some(&world.bobs_token.token),
            CONVERSATION_UPDATED,
            json!({ "pageId": PAGE_B }),
        )
        .await;
    assert!(
        subscription.is_ok(),
        "bob's token no longer subscribes: {:#}",
        subscription
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    );
}

#[tokio::test]
async fn alice_cannot_add_herself_to_page_b_and_still_sees_nothing_of_it() {
    // Arrange
    let world = world().await;
    let app = &world.app;

    // Act
    let response = app
        .gql_as(
            Some(&world.alice.token),
            "mutation($p: ID!, $a: ID!) { addPageMember(pageId: $p, agentId: $a) }",
            json!({ "p": PAGE_B, "a": world.alice.id }),
        )
        .await;

    // Assert: refused, and B stays hidden, from this session and from a new one.
    assert_eq!(error_code(&response), Some("FORBIDDEN"), "{response:#}");
    let new_session = app
        .login(&world.alice.email, mf_tests::AGENT_PASSWORD)
        .await;
    for token in [&world.alice.token, &new_session] {
        assert_eq!(b_is_hidden_from(&world, token).await, Vec::<String>::new());
        let messages = app
            .gql_as(
                Some(token),
                "query($id: ID!) { messages(conversationId: $id) { edges { node { id } } } }",
                json!({ "id": world.conversation_b }),
            )
            .await;
        assert_eq!(error_code(&messages), Some("NOT_FOUND"), "{messages:#}");
        let agents = app
            .gql_as(
                Some(token),
                "query($p: ID!) { pageAgents(pageId: $p) { agent { id } } }",
                json!({ "p": PAGE_B }),
            )
            .await;
        assert_eq!(agents["data"]["pageAgents"], json!([]), "{agents:#}");
        let refusal = app
            .subscription_refusal(
                Some(token),
                CONVERSATION_UPDATED,
                json!({ "pageId": PAGE_B }),
            )
            .await
            .expect("the subscription to B is refused");
        assert_eq!(error_code(&refusal), Some("NOT_FOUND"), "{refusal:#}");
    }
}

#[tokio::test]
async fn removing_alice_from_page_a_ends_her_subscription_and_hides_page_a() {
    // Arrange
    let world = world().await;
    let app = &world.app;
    let mut subscription = app
        .subscribe_as(
            &world.alice.token,
            CONVERSATION_UPDATED,
            json!({ "pageId": PAGE_A }),
        )
        .await;

    // Act
    app.remove_page_member(PAGE_A, &world.alice.id).await;

    // Assert: the subscription ends with UNAUTHENTICATED...
    let ended = subscription
        .next_errors(TIMEOUT)
        .await
        .expect("the subscription ends with an error");
    assert_eq!(error_code(&ended), Some("UNAUTHENTICATED"), "{ended:#}");
    let after = subscription
        .next_message(TIMEOUT)
        .await
        .expect("the subscription completes");
    assert_eq!(after["type"], "complete", "{after:#}");
    // ...and A is gone for her.
    let token = Some(world.alice.token.as_str());
    assert_eq!(page_ids_as(app, &world.alice.token).await, json!([]));
    let conversations = app
        .gql_as(
            token,
            "query($p: ID!) { conversations(pageId: $p) { edges { node { id } } } }",
            json!({ "p": PAGE_A }),
        )
        .await;
    assert_eq!(
        conversations["data"]["conversations"]["edges"],
        json!([]),
        "{conversations:#}"
    );
    let conversation = app
        .gql_as(
            token,
            "query($id: ID!) { conversation(id: $id) { id } }",
            json!({ "id": world.conversation_a }),
        )
        .await;
    assert_eq!(
        conversation["data"]["conversation"],
        Value::Null,
        "{conversation:#}"
    );
    let messages = app
        .gql_as(
            token,
            "query($id: ID!) { messages(conversationId: $id) { edges { node { id } } } }",
            json!({ "id": world.conversation_a }),
        )
        .await;
    assert_eq!(error_code(&messages), Some("NOT_FOUND"), "{messages:#}");
    let refusal = app
        .subscription_refusal(token, CONVERSATION_UPDATED, json!({ "pageId": PAGE_A }))
        .await
        .expect("a new subscription to A is refused");
    assert_eq!(error_code(&refusal), Some("NOT_FOUND"), "{refusal:#}");
}

#[tokio::test]
async fn revoking_an_api_token_ends_its_subscriptions_and_its_requests() {
    // Arrange
    let world = world().await;
    let app = &world.app;
    let mut subscription = app
        .subscribe_as(
            &world.bobs_token.token,
            CONVERSATION_UPDATED,
            json!({ "pageId": PAGE_B }),
        )
        .await;

    // Act
    app.revoke_api_token(&world.bob.token, &world.bobs_token.id)
        .await;

    // Assert
    let ended = subscription
        .next_errors(TIMEOUT)
        .await
        .expect("the subscription ends with an error");
    assert_eq!(error_code(&ended), Some("UNAUTHENTICATED"), "{ended:#}");
    let after = subscription
        .next_message(TIMEOUT)
        .await
        .expect("the subscription completes");
    assert_eq!(after["type"], "complete", "{after:#}");
    let response = app
        .gql_as(Some(&world.bobs_token.token), "{ pages { id } }", json!({}))
        .await;
    assert_eq!(
        error_code(&response),
        Some("UNAUTHENTICATED"),
        "{response:#}"
    );
}

// Teammates, tokens and the audit log (issue 15, points 7 and 8): the administration
// lists take no ID, so the introspected table above does not reach them.

#[tokio::test]
async fn the_administration_lists_show_alice_nothing_of_page_b() {
    let world = world().await;
    let app = &world.app;
    let alices_token = app
        .create_api_token(&world.alice.token, "alice's integration", &[PAGE_A])
        .await;
    let admins_token = app
        .create_api_token(&app.admin_token, "admin's integration", &[PAGE_A])
        .await;
    let audit_log = "{ auditLog(first: 100) { edges { node { id objectName } } } }";
    let api_tokens = "{ apiTokens { id name pageIds agent { id } } }";
    let agents = "{ agents { id email pageIds } }";
    let mut failures = Vec::new();
    for (who, token) in [
        ("alice", &world.alice.token),
        ("alice's token", &alices_token.token),
        ("the admin's token", &admins_token.token),
    ] {
        for (what, query) in [("agents", agents), ("auditLog", audit_log)] {
            let response = app.gql_as(Some(token), query, json!({})).await;
            if error_code(&response) != Some("FORBIDDEN") || !response["data"].is_null() {
                failures.push(format!("{who} asked {what}: {response}"));
            }
        }
    }
    // Her own tokens, none of bob's; an API token lists none.
    let own = app
        .gql_data_as(&world.alice.token, api_tokens, json!({}))
        .await;
    if own["apiTokens"]
        != json!([{ "id": alices_token.id, "name": "alice's integration", "pageIds": [PAGE_A], "agent": { "id": world.alice.id } }])
    {
        failures.push(format!("alice's apiTokens: {own}"));
    }
    for token in [&alices_token.token, &admins_token.token] {
        let response = app.gql_as(Some(token), api_tokens, json!({})).await;
        if error_code(&response) != Some("FORBIDDEN") {
            failures.push(format!("an API token asked apiTokens: {response}"));
        }
    }
    // The administrator sees bob's token, and bob on B.
    let all = app.gql_data(api_tokens, json!({})).await.to_string();
    if !all.contains(&world.bobs_token.id) {
        failures.push(format!("the administrator's apiTokens lack bob's: {all}"));
    }
    let listed = app.gql_data(agents, json!({})).await.to_string();
    if !listed.contains(PAGE_B) {
        failures.push(format!(
            "the administrator's agents lack bob's Page: {listed}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
