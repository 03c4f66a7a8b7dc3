//! Who said and did what (issue 12, points 3 and 4): a message's sender and the tool that
//! sent an echo; a conversation's activity (status changes and assignments: who, when,
//! from, to), in the API and live through `pageEvents`; and the collision warning, who
//! has a conversation open or is replying in it, live and across instances.
use std::time::Duration;

use mf_tests::eventually;
use mf_tests::sim::{PAGE_INBOX_APP_ID, SIM_SECRET, Simulator, spawn_app_on};
use mf_tests::webhook::{batch, event, message};
use mf_tests::{
    Agent, CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, Subscription, T0, TIMEOUT, TestApp,
    error_code, id_of, nodes, spawn_app, spawn_app_with, spawn_beside,
};
use serde_json::{Value, json};

const OWN_APP_ID: &str = "555000111";

const MESSAGE_VOICE: &str = "query($id: ID!) { messages(conversationId: $id) { edges { node {
  mid direction sender { id name } appId echoSource { kind appId label } } } } }";

const ACTIVITY: &str = "query($id: ID!, $first: Int, $after: String) { conversation(id: $id) {
  activity(first: $first, after: $after) {
    edges { cursor node { id conversationId kind actor { id } createdAt
      fromStatus toStatus fromAssignee { id } toAssignee { id } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } } }";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateConversationInput!) {
  updateConversation(id: $id, input: $input) { id status assignee { id } } }";

const PAGE_EVENTS: &str =
    "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) {
  position kind activity { kind actor { id } fromStatus toStatus toAssignee { id } position } } }";

const PRESENCE: &str = "subscription($p: ID!) { conversationPresence(pageId: $p) {
  conversationId agent { id name } state } }";

const SET_PRESENCE: &str = "mutation($id: ID!, $state: ConversationPresenceState!) {
  setConversationPresence(conversationId: $id, state: $state) }";

const VIEWERS: &str =
    "query($id: ID!) { conversation(id: $id) { viewers { agent { id } state } } }";

fn echo_from(app_id: Option<&str>, mid: &str, text: &str, timestamp: i64) -> Value {
    let mut body = json!({ "is_echo": true, "mid": mid, "text": text });
    if let Some(app_id) = app_id {
        body["app_id"] = json!(app_id.parse::<u64>().expect("a numeric app id"));
    }
    event(PAGE, CUSTOMER, timestamp, "message", body)
}

/// The conversation's messages as `token` reads them, by mid.
async fn voices_of(app: &TestApp, token: &str, conversation: &str) -> Vec<Value> {
    let data = app
        .gql_data_as(token, MESSAGE_VOICE, json!({ "id": conversation }))
        .await;
    nodes(&data["messages"])
}

fn by_mid<'a>(messages: &'a [Value], mid: &str) -> &'a Value {
    messages
        .iter()
        .find(|m| m["mid"] == mid)
        .unwrap_or_else(|| panic!("no message {mid} in {messages:#?}"))
}

// --- Who sent it -----------------------------------------------------------------------

#[tokio::test]
async fn echoes_name_the_tool_that_sent_them() {
    // Arrange: our app id is configured; the customer wrote.
    let app = spawn_app_with(|config| config.fb_app_id = Some(OWN_APP_ID.to_owned())).await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "in-1", "hi", T0)]))
        .await;

    // Act: echoes from the Page Inbox, another app, ours (sent elsewhere), and one
    // without an app id.
    app.ingest(&batch(
        PAGE,
        [
            echo_from(Some(PAGE_INBOX_APP_ID), "e-inbox", "from inbox", T0 + 1),
            echo_from(Some("777888999"), "e-other", "from a bot", T0 + 2),
            echo_from(Some(OWN_APP_ID), "e-ours", "from us", T0 + 3),
            echo_from(None, "e-none", "no app id", T0 + 4),
        ],
    ))
    .await;

    // Assert
    let conversation = id_of(&app.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let admin = app.admin_token.clone();
    let messages = voices_of(&app, &admin, &conversation).await;
    let source = |mid: &str| by_mid(&messages, mid)["echoSource"].clone();
    assert_eq!(by_mid(&messages, "in-1")["echoSource"], Value::Null);
    assert_eq!(
        source("e-inbox"),
        json!({ "kind": "PAGE_INBOX", "appId": PAGE_INBOX_APP_ID,
                "label": "Facebook Page Inbox / Business Suite" })
    );
    assert_eq!(
        source("e-other"),
        json!({ "kind": "OTHER_APP", "appId": "777888999", "label": "another app (id 777888999)" })
    );
    assert_eq!(
        source("e-ours"),
        json!({ "kind": "MESSENGERFLOW", "appId": OWN_APP_ID, "label": "MessengerFlow" })
    );
    assert_eq!(
        source("e-none"),
        json!({ "kind": "PAGE_INBOX", "appId": null,
                "label": "Facebook Page Inbox / Business Suite" })
    );
    for mid in ["in-1", "e-inbox", "e-other", "e-ours", "e-none"] {
        assert_eq!(by_mid(&messages, mid)["sender"], Value::Null, "{mid}");
    }
}

#[tokio::test]
async fn a_reply_sent_from_messengerflow_names_its_agent_and_an_inbox_reply_names_the_inbox() {
    // Arrange: a connected Page in the simulator; alice works on it; the customer wrote.
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    app.connect_page(PAGE, &token).await;
    sim.create_customer(PAGE, CUSTOMER, "Ada", "Lovelace").await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    sim.customer_says(PAGE, CUSTOMER, "hello?", None).await;
    let conversation = wait_for_conversation(&app, CUSTOMER).await;

    // Act: alice replies here; a colleague replies in Business Suite.
    let sent = app
        .gql_data_as(
            &alice.token,
            "mutation($id: ID!) { sendMessage(input: { conversationId: $id, text: \"on it\" }) {
               id sender { id name } echoSource { kind label } } }",
            json!({ "id": conversation }),
        )
        .await;
    let inbox_mid = sim.inbox_reply(PAGE, CUSTOMER, "me too").await;

    // Assert
    assert_eq!(
        sent["sendMessage"]["sender"],
        json!({ "id": alice.id, "name": "Alice" })
    );
    assert_eq!(
        sent["sendMessage"]["echoSource"],
        json!({ "kind": "MESSENGERFLOW", "label": "MessengerFlow" })
    );
    let inbox = eventually(TIMEOUT, async || {
        let messages = voices_of(&app, &alice.token, &conversation).await;
        let found = messages.iter().find(|m| m["mid"] == inbox_mid.as_str());
        found.cloned().ok_or(format!(
            "the inbox reply's echo never arrived: {messages:?}"
        ))
    })
    .await;
    assert_eq!(inbox["sender"], Value::Null);
    assert_eq!(inbox["echoSource"]["kind"], "PAGE_INBOX");
    assert_eq!(
        inbox["echoSource"]["label"],
        "Facebook Page Inbox / Business Suite"
    );
}

async fn wait_for_conversation(app: &TestApp, psid: &str) -> String {
    eventually(TIMEOUT, async || {
        let conversations = app.conversations(PAGE).await;
        let found = conversations.iter().find(|c| c["customer"]["psid"] == psid);
        found
            .map(|c| id_of(c).to_owned())
            .ok_or(format!("no conversation with {psid}: {conversations:?}"))
    })
    .await
}

// --- Activity --------------------------------------------------------------------------

/// A Page with a conversation, and alice and bob working on it.
struct Desk {
    app: TestApp,
    alice: Agent,
    bob: Agent,
    conversation: String,
}

async fn desk_on(app: TestApp) -> Desk {
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-1", "hi", T0)]))
        .await;
    let conversation = id_of(&app.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let bob = app.agent_on("bob@example.com", "Bob", &[PAGE]).await;
    Desk {
        app,
        alice,
        bob,
        conversation,
    }
}

async fn desk() -> Desk {
    desk_on(spawn_app().await).await
}

impl Desk {
    async fn update_as(&self, token: &str, input: Value) -> Value {
        self.app
            .gql_data_as(
                token,
                UPDATE,
                json!({ "id": self.conversation, "input": input }),
            )
            .await
    }

    async fn activity(&self, token: &str, first: Option<i32>, after: Option<&str>) -> Value {
        let data = self
            .app
            .gql_data_as(
                token,
                ACTIVITY,
                json!({ "id": self.conversation, "first": first, "after": after }),
            )
            .await;
        data["conversation"]["activity"].clone()
    }
}

#[tokio::test]
async fn status_changes_and_assignments_are_recorded_with_who_from_and_to() {
    // Arrange
    let desk = desk().await;

    // Act: alice assigns bob; bob resolves it; bob resolves it again (no change).
    desk.update_as(&desk.alice.token, json!({ "assigneeId": desk.bob.id }))
        .await;
    desk.update_as(&desk.bob.token, json!({ "status": "RESOLVED" }))
        .await;
    desk.update_as(
        &desk.bob.token,
        json!({ "status": "RESOLVED", "markRead": true }),
    )
    .await;

    // Assert: newest first, nothing for the change that changed nothing.
    let activity = desk.activity(&desk.alice.token, None, None).await;
    let entries: Vec<Value> = nodes(&activity)
        .into_iter()
        .map(|mut n| {
            for volatile in ["id", "createdAt"] {
                n.as_object_mut().expect("an object").remove(volatile);
            }
            n
        })
        .collect();
    assert_eq!(
        entries,
        [
            json!({ "conversationId": desk.conversation, "kind": "STATUS",
                    "actor": { "id": desk.bob.id }, "fromStatus": "OPEN", "toStatus": "RESOLVED",
                    "fromAssignee": null, "toAssignee": null }),
            json!({ "conversationId": desk.conversation, "kind": "ASSIGNEE",
                    "actor": { "id": desk.alice.id }, "fromStatus": null, "toStatus": null,
                    "fromAssignee": null, "toAssignee": { "id": desk.bob.id } }),
        ]
    );
    let created = nodes(&activity)[0]["createdAt"].as_str().map(str::to_owned);
    assert!(
        created.is_some_and(|t| chrono::DateTime::parse_from_rfc3339(&t).is_ok()),
        "{activity:#}"
    );
}

#[tokio::test]
async fn activity_pages_newest_first_with_a_cursor() {
    // Arrange: three changes.
    let desk = desk().await;
    for status in ["PENDING", "RESOLVED", "OPEN"] {
        desk.update_as(&desk.alice.token, json!({ "status": status }))
            .await;
    }

    // Act
    let first = desk.activity(&desk.alice.token, Some(2), None).await;
    let cursor = first["pageInfo"]["endCursor"].as_str().expect("a cursor");
    let rest = desk
        .activity(&desk.alice.token, Some(2), Some(cursor))
        .await;

    // Assert
    let to = |c: &Value| -> Vec<Value> { nodes(c).iter().map(|n| n["toStatus"].clone()).collect() };
    assert_eq!(to(&first), [json!("OPEN"), json!("RESOLVED")]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(to(&rest), [json!("PENDING")]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    assert_eq!(rest["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test]
async fn activity_arrives_live_through_page_events_and_replays_after_a_position() {
    // Arrange: bob watches the Page from now on.
    let desk = desk().await;
    let mut live = desk
        .app
        .subscribe_as(&desk.bob.token, PAGE_EVENTS, json!({ "p": PAGE }))
        .await;

    // Act
    desk.update_as(&desk.alice.token, json!({ "status": "RESOLVED" }))
        .await;

    // Assert: CONVERSATION_UPDATED, then ACTIVITY_ADDED with who and what.
    let mut kinds = Vec::new();
    let mut activity = Value::Null;
    while activity.is_null() {
        let event = live.next(TIMEOUT).await.expect("a page event");
        let event = &event["pageEvents"];
        kinds.push(event["kind"].clone());
        if event["kind"] == "ACTIVITY_ADDED" {
            activity = event.clone();
        }
    }
    assert_eq!(
        kinds,
        [json!("CONVERSATION_UPDATED"), json!("ACTIVITY_ADDED")]
    );
    let position = activity["position"]
        .as_str()
        .expect("a position")
        .to_owned();
    assert_eq!(activity["activity"]["position"], position.as_str());
    assert_eq!(activity["activity"]["actor"]["id"], desk.alice.id.as_str());
    assert_eq!(activity["activity"]["toStatus"], "RESOLVED");

    // And a subscriber that was away replays it from the log.
    let before: i64 = position.parse::<i64>().expect("a number") - 1;
    let mut replay = desk
        .app
        .subscribe_as(
            &desk.bob.token,
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": before.to_string() }),
        )
        .await;
    let replayed = replay.next(TIMEOUT).await.expect("the replayed entry");
    assert_eq!(replayed["pageEvents"]["kind"], "ACTIVITY_ADDED");
    assert_eq!(replayed["pageEvents"]["position"], position.as_str());
    assert_eq!(replayed["pageEvents"]["activity"]["toStatus"], "RESOLVED");
}

#[tokio::test]
async fn another_pages_activity_is_neither_readable_nor_pushed() {
    // Arrange: carol works on the other Page only, and listens to it.
    let desk = desk().await;
    desk.app
        .ingest(&batch(
            OTHER_PAGE,
            [message(OTHER_PAGE, OTHER_CUSTOMER, "o-1", "hej", T0)],
        ))
        .await;
    let carol = desk
        .app
        .agent_on("carol@example.com", "Carol", &[OTHER_PAGE])
        .await;
    let mut carols = desk
        .app
        .subscribe_as(&carol.token, PAGE_EVENTS, json!({ "p": OTHER_PAGE }))
        .await;

    // Act
    desk.update_as(&desk.alice.token, json!({ "status": "RESOLVED" }))
        .await;

    // Assert
    let read = desk
        .app
        .gql_as(
            Some(&carol.token),
            ACTIVITY,
            json!({ "id": desk.conversation, "first": 5 }),
        )
        .await;
    assert_eq!(read["data"]["conversation"], Value::Null, "{read:#}");
    carols.expect_nothing(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_snooze_records_its_wake_time_and_waking_and_a_customer_reopening_have_no_actor() {
    // Arrange
    let desk = desk().await;
    let until = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let until = until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut live = desk
        .app
        .subscribe_as(&desk.bob.token, PAGE_EVENTS, json!({ "p": PAGE }))
        .await;

    // Act: alice snoozes it; it wakes by itself; bob resolves it; the customer writes.
    desk.update_as(&desk.alice.token, json!({ "snoozedUntil": until }))
        .await;
    let mut woke = false;
    while !woke {
        let event = live.next(Duration::from_secs(20)).await.expect("the wake");
        woke = event["pageEvents"]["activity"]["fromStatus"] == "SNOOZED";
    }
    desk.update_as(&desk.bob.token, json!({ "status": "RESOLVED" }))
        .await;
    desk.app
        .ingest(&batch(
            PAGE,
            [message(PAGE, CUSTOMER, "m-2", "still there?", T0 + 10)],
        ))
        .await;

    // Assert: oldest first here, for reading.
    let activity = desk.activity(&desk.alice.token, Some(10), None).await;
    let mut entries: Vec<(Value, Value, Value, Value)> = nodes(&activity)
        .iter()
        .map(|n| {
            let what = match n["kind"].as_str() {
                Some("SNOOZE") => n["kind"].clone(),
                _ => n["toStatus"].clone(),
            };
            (
                n["kind"].clone(),
                n["actor"]["id"].clone(),
                n["fromStatus"].clone(),
                what,
            )
        })
        .collect();
    entries.reverse();
    let (alice, bob) = (json!(desk.alice.id), json!(desk.bob.id));
    assert_eq!(
        entries,
        [
            (
                json!("STATUS"),
                alice.clone(),
                json!("OPEN"),
                json!("SNOOZED")
            ),
            (json!("SNOOZE"), alice, Value::Null, json!("SNOOZE")),
            (
                json!("STATUS"),
                Value::Null,
                json!("SNOOZED"),
                json!("OPEN")
            ),
            (json!("STATUS"), bob, json!("OPEN"), json!("RESOLVED")),
            (
                json!("STATUS"),
                Value::Null,
                json!("RESOLVED"),
                json!("OPEN")
            ),
        ],
        "{activity:#}"
    );
    let snooze = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            "query($id: ID!) { conversation(id: $id) { activity(first: 10) { edges { node {
               kind fromSnoozedUntil toSnoozedUntil } } } } }",
            json!({ "id": desk.conversation }),
        )
        .await;
    let snoozes: Vec<Value> = nodes(&snooze["conversation"]["activity"])
        .into_iter()
        .filter(|n| n["kind"] == "SNOOZE")
        .collect();
    assert_eq!(
        snoozes,
        [json!({ "kind": "SNOOZE", "fromSnoozedUntil": null, "toSnoozedUntil": until })]
    );
}

#[tokio::test]
async fn a_bad_activity_page_size_or_cursor_is_refused() {
    let desk = desk().await;
    for (first, after) in [
        (Some(0), None),
        (Some(101), None),
        (Some(5), Some("not a cursor")),
    ] {
        let response = desk
            .app
            .gql_as(
                Some(&desk.alice.token),
                ACTIVITY,
                json!({ "id": desk.conversation, "first": first, "after": after }),
            )
            .await;
        assert_eq!(
            error_code(&response),
            Some("BAD_USER_INPUT"),
            "{first:?} {after:?}: {response:#}"
        );
    }
}

// --- Collision warning -----------------------------------------------------------------

/// The next presence change `watcher` sees, as (conversation, agent, state).
async fn next_presence(watcher: &mut Subscription) -> (String, String, String) {
    let event = watcher
        .next(TIMEOUT)
        .await
        .expect("a conversationPresence event");
    let p = &event["conversationPresence"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        text(&p["conversationId"]),
        text(&p["agent"]["id"]),
        text(&p["state"]),
    )
}

async fn set_presence(app: &TestApp, token: &str, conversation: &str, state: &str) -> Value {
    app.gql_as(
        Some(token),
        SET_PRESENCE,
        json!({ "id": conversation, "state": state }),
    )
    .await
}

impl Desk {
    /// Bob's stream of who is in the Page's conversations.
    async fn bob_watches(&self) -> Subscription {
        self.app
            .subscribe_as(&self.bob.token, PRESENCE, json!({ "p": PAGE }))
            .await
    }

    /// Alice is `state` (VIEWING, TYPING, NONE) in the desk's conversation; the response.
    async fn alice_is(&self, state: &str) -> Value {
        set_presence(&self.app, &self.alice.token, &self.conversation, state).await
    }
}

#[tokio::test]
async fn an_agent_sees_a_colleague_open_a_conversation_start_replying_and_leave() {
    // Arrange: bob watches the Page's conversations; alice's tab holds a connection.
    let desk = desk().await;
    let mut bobs = desk.bob_watches().await;
    let c = desk.conversation.clone();
    let alice = desk.alice.id.clone();

    // Act and assert, step by step.
    let set = desk.alice_is("VIEWING").await;
    assert_eq!(set["data"]["setConversationPresence"], true, "{set:#}");
    assert_eq!(
        next_presence(&mut bobs).await,
        (c.clone(), alice.clone(), "VIEWING".to_owned())
    );
    let viewers = desk
        .app
        .gql_data_as(&desk.bob.token, VIEWERS, json!({ "id": c }))
        .await;
    assert_eq!(
        viewers["conversation"]["viewers"],
        json!([{ "agent": { "id": alice }, "state": "VIEWING" }])
    );

    desk.alice_is("TYPING").await;
    assert_eq!(
        next_presence(&mut bobs).await,
        (c.clone(), alice.clone(), "TYPING".to_owned())
    );

    desk.alice_is("NONE").await;
    assert_eq!(
        next_presence(&mut bobs).await,
        (c.clone(), alice.clone(), "NONE".to_owned())
    );
    let viewers = desk
        .app
        .gql_data_as(&desk.bob.token, VIEWERS, json!({ "id": c }))
        .await;
    assert_eq!(viewers["conversation"]["viewers"], json!([]));
}

#[tokio::test]
async fn a_new_subscriber_first_hears_who_is_there_now() {
    let desk = desk().await;
    desk.alice_is("TYPING").await;

    let mut bobs = desk.bob_watches().await;

    assert_eq!(
        next_presence(&mut bobs).await,
        (
            desk.conversation.clone(),
            desk.alice.id.clone(),
            "TYPING".to_owned()
        )
    );
}

#[tokio::test]
async fn replying_and_viewing_expire_by_themselves_when_not_refreshed() {
    // Arrange: VIEWING lasts 4 s, TYPING 1 s: the sweep (every 250 ms) may run late on a
    // loaded machine, and one later than the 3 s between them would skip VIEWING.
    let desk = desk_on(spawn_app_with(|config| config.viewing_ttl_ms = 4000).await).await;
    let mut bobs = desk.bob_watches().await;
    let (c, alice) = (desk.conversation.clone(), desk.alice.id.clone());
    // Each expiry comes by itself: waited for with room for a loaded machine.
    let deadline = Duration::from_secs(20);
    let mut next = async || {
        let event = bobs
            .next(deadline)
            .await
            .expect("a conversationPresence event");
        let p = &event["conversationPresence"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        (
            text(&p["conversationId"]),
            text(&p["agent"]["id"]),
            text(&p["state"]),
        )
    };

    // Act: alice starts replying, then her tab goes away without a word.
    let started = tokio::time::Instant::now();
    desk.alice_is("TYPING").await;

    // Assert: replying falls back to viewing, then she is gone, neither before its time.
    assert_eq!(
        next().await,
        (c.clone(), alice.clone(), "TYPING".to_owned())
    );
    assert_eq!(
        next().await,
        (c.clone(), alice.clone(), "VIEWING".to_owned())
    );
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "replying expired too early: {:?}",
        started.elapsed()
    );
    assert_eq!(next().await, (c.clone(), alice.clone(), "NONE".to_owned()));
    assert!(
        started.elapsed() >= Duration::from_millis(3950),
        "viewing expired too early: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_agent_without_the_page_can_neither_set_nor_see_presence_and_a_token_cannot_set_it() {
    // Arrange: carol works on the other Page only; alice has an API token.
    let desk = desk().await;
    desk.app
        .ingest(&batch(
            OTHER_PAGE,
            [message(OTHER_PAGE, OTHER_CUSTOMER, "o-1", "hej", T0)],
        ))
        .await;
    let carol = desk
        .app
        .agent_on("carol@example.com", "Carol", &[OTHER_PAGE])
        .await;
    let token = desk
        .app
        .create_api_token(&desk.alice.token, "bot", &[PAGE])
        .await;
    let mut carols = desk
        .app
        .subscribe_as(&carol.token, PRESENCE, json!({ "p": OTHER_PAGE }))
        .await;

    // Act and assert: carol cannot set it on PAGE, nor subscribe to PAGE.
    let set = set_presence(&desk.app, &carol.token, &desk.conversation, "TYPING").await;
    assert_eq!(error_code(&set), Some("NOT_FOUND"), "{set:#}");
    let refusal = desk
        .app
        .subscription_refusal(Some(&carol.token), PRESENCE, json!({ "p": PAGE }))
        .await
        .expect("refused");
    assert_eq!(error_code(&refusal), Some("NOT_FOUND"), "{refusal:#}");
    let by_token = set_presence(&desk.app, &token.token, &desk.conversation, "VIEWING").await;
    assert_eq!(error_code(&by_token), Some("FORBIDDEN"), "{by_token:#}");

    // And alice's presence on PAGE never reaches carol's OTHER_PAGE stream.
    desk.alice_is("TYPING").await;
    carols.expect_nothing(Duration::from_millis(500)).await;
    let viewers = desk
        .app
        .gql_data_as(&carol.token, VIEWERS, json!({ "id": desk.conversation }))
        .await;
    assert_eq!(viewers["conversation"], Value::Null);
}

#[tokio::test]
async fn bad_presence_input_is_refused_and_changes_nothing() {
    let desk = desk().await;
    let mut bobs = desk.bob_watches().await;
    for (id, state) in [
        ("0", "VIEWING"),
        ("-4", "VIEWING"),
        ("abc", "TYPING"),
        ("99999999999999999999999", "TYPING"),
    ] {
        let response = set_presence(&desk.app, &desk.alice.token, id, state).await;
        assert_eq!(
            error_code(&response),
            Some("BAD_USER_INPUT"),
            "{id}: {response:#}"
        );
    }
    let bad_state = desk.alice_is("SHOUTING").await;
    assert!(bad_state["errors"].is_array(), "{bad_state:#}");
    bobs.expect_nothing(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn an_agent_is_present_in_at_most_twenty_conversations_at_once() {
    // Arrange: 21 conversations.
    let app = spawn_app().await;
    let events: Vec<Value> = (0..21)
        .map(|i| {
            message(
                PAGE,
                &format!("30000000{i:02}"),
                &format!("m-{i}"),
                "hi",
                T0 + i,
            )
        })
        .collect();
    app.ingest(&batch(PAGE, events)).await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let data = app
        .gql_data(
            "query($p: ID!) { conversations(pageId: $p, first: 21) { edges { node { id } } } }",
            json!({ "p": PAGE }),
        )
        .await;
    let ids: Vec<String> = nodes(&data["conversations"])
        .iter()
        .map(|n| id_of(n).to_owned())
        .collect();
    assert_eq!(ids.len(), 21);

    // Act
    for id in &ids[..20] {
        let ok = set_presence(&app, &alice.token, id, "VIEWING").await;
        assert_eq!(ok["data"]["setConversationPresence"], true, "{ok:#}");
    }
    let refused = set_presence(&app, &alice.token, &ids[20], "VIEWING").await;
    // Leaving one makes room.
    set_presence(&app, &alice.token, &ids[0], "NONE").await;
    let after_leaving = set_presence(&app, &alice.token, &ids[20], "VIEWING").await;

    // Assert
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused:#}");
    assert_eq!(after_leaving["data"]["setConversationPresence"], true);
}

/// Two instances share presence only through Redis: skipped without it, or failed under
/// CI (`mf_tests::require`).
fn redis_in_use() -> bool {
    mf_tests::require::services(&["MF_TEST_REDIS_URL"])
}

#[tokio::test]
async fn a_colleague_replying_on_another_instance_is_seen_here() {
    if !redis_in_use() {
        return;
    }
    // Arrange: two instances on one database and one Redis; bob watches on two.
    let one = spawn_app().await;
    let two = spawn_beside(&one).await;
    let desk = desk_on(one).await;
    let mut bobs = two
        .subscribe_as(&desk.bob.token, PRESENCE, json!({ "p": PAGE }))
        .await;
    let c = desk.conversation.clone();

    // Act: alice, on instance one, starts replying.
    desk.alice_is("TYPING").await;

    // Assert: bob, on instance two, sees it, and so does instance two's query.
    assert_eq!(
        next_presence(&mut bobs).await,
        (c.clone(), desk.alice.id.clone(), "TYPING".to_owned())
    );
    let viewers = two
        .gql_data_as(&desk.bob.token, VIEWERS, json!({ "id": c }))
        .await;
    assert_eq!(
        viewers["conversation"]["viewers"],
        json!([{ "agent": { "id": desk.alice.id }, "state": "TYPING" }])
    );

    // And her leaving on one reaches two.
    desk.alice_is("NONE").await;
    assert_eq!(next_presence(&mut bobs).await.2, "NONE");
}
