//! Facebook at its edges (issue 14): the real api against the `graph-simulator` binary
//! answering what only Facebook answers today, armed through `POST /_sim/faults` and
//! `PUT /_sim/paging`: every throttling code with its usage headers, and Graph's rough
//! paging (short pages, empty pages with `next`, cursors that expire).
use std::collections::HashSet;
use std::time::Duration;

use mf_tests::sim::{SIM_SECRET, Simulator, spawn_app_on};
use mf_tests::{PAGE, TestApp, eventually, id_of, nodes};
use serde_json::{Value, json};

/// Time enough for a job that backs off through a few throttled answers.
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// A simulator, the api wired to it, and a Page connected with its token.
struct World {
    sim: Simulator,
    app: TestApp,
    token: String,
}

async fn connected_page() -> World {
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    let page = app.connect_page(PAGE, &token).await;
    assert_eq!(page["connected"], true, "{page:#}");
    World { sim, app, token }
}

/// `syncConversations` (the five newest); the whole response.
async fn sync_newest(app: &TestApp) -> Value {
    app.gql(
        "mutation($page: ID!) { syncConversations(pageId: $page) \
         { conversations messages newMessages } }",
        json!({ "page": PAGE }),
    )
    .await
}

/// Starts `syncFullHistory` and waits for the job to end; the job as it ended.
async fn full_sync(app: &TestApp) -> Value {
    let started = app
        .gql_data(
            "mutation($page: ID!) { syncFullHistory(pageId: $page) { id status } }",
            json!({ "page": PAGE }),
        )
        .await;
    let job = id_of(&started["syncFullHistory"]).to_owned();
    eventually(JOB_TIMEOUT, async || {
        let data = app
            .gql_data(
                "query($id: ID!) { syncJob(id: $id) { status conversations messages total error } }",
                json!({ "id": job }),
            )
            .await;
        let job = data["syncJob"].clone();
        if job["status"] == "RUNNING" {
            Err(format!("still running: {job}"))
        } else {
            Ok(job)
        }
    })
    .await
}

/// Every mid the api stored for the Page, over every conversation.
async fn stored_mids(app: &TestApp) -> HashSet<String> {
    let mut mids = HashSet::new();
    for conversation in app.conversations(PAGE).await {
        let data = app
            .gql_data(
                "query($id: ID!) { messages(conversationId: $id, last: 100) \
                 { edges { node { mid } } } }",
                json!({ "id": id_of(&conversation) }),
            )
            .await;
        for message in nodes(&data["messages"]) {
            mids.insert(message["mid"].as_str().unwrap_or_default().to_owned());
        }
    }
    mids
}

/// The seeded history as the simulator's own Graph API lists it: every mid.
async fn graph_mids(world: &World) -> HashSet<String> {
    world
        .sim
        .graph_history(PAGE, &world.token)
        .await
        .into_iter()
        .flat_map(|thread| thread.mids)
        .collect()
}

// ----- throttling: every documented code, answered twice, then the sync goes through -----

/// The Conversations API answers `code` (with its usage header) to the next two calls:
/// `syncConversations` backs off, tries again, and imports the five newest threads. The
/// answers say `is_transient: false`, so the code alone must tell the api to back off.
async fn a_sync_throttled_with(code: u32) {
    // Arrange
    let world = connected_page().await;
    world.sim.seed(PAGE, 7, 2).await;
    let armed = world
        .sim
        .arm_fault(json!({
            "code": code, "surface": "conversations", "times": 2, "is_transient": false,
        }))
        .await;
    assert_eq!(armed["remaining"], 2, "{armed:#}");

    // Act
    let response = sync_newest(&world.app).await;

    // Assert: both throttled answers were used up, and the sync went through after them.
    assert!(response.get("errors").is_none(), "{code}: {response:#}");
    assert_eq!(
        response["data"]["syncConversations"],
        json!({ "conversations": 5, "messages": 10, "newMessages": 10 }),
        "{code}"
    );
    assert!(world.sim.faults().await.is_empty(), "{code}: not retried");
}

#[tokio::test]
async fn a_sync_throttled_with_code_4_app_limit_backs_off_and_imports() {
    a_sync_throttled_with(4).await;
}

#[tokio::test]
async fn a_sync_throttled_with_code_17_user_limit_backs_off_and_imports() {
    a_sync_throttled_with(17).await;
}

#[tokio::test]
async fn a_sync_throttled_with_code_32_page_limit_backs_off_and_imports() {
    a_sync_throttled_with(32).await;
}

#[tokio::test]
async fn a_sync_throttled_with_code_613_custom_limit_backs_off_and_imports() {
    a_sync_throttled_with(613).await;
}

#[tokio::test]
async fn a_sync_throttled_with_code_80001_pages_buc_limit_backs_off_and_imports() {
    a_sync_throttled_with(80001).await;
}

#[tokio::test]
async fn a_sync_throttled_with_code_80006_messenger_buc_limit_backs_off_and_imports() {
    a_sync_throttled_with(80006).await;
}

#[tokio::test]
async fn a_full_sync_throttled_with_80006_backs_off_and_finishes() {
    // Arrange: three throttled answers on the way, wherever the job is.
    let world = connected_page().await;
    world.sim.seed(PAGE, 30, 3).await;
    world
        .sim
        .arm_fault(json!({
            "code": 80006, "surface": "conversations", "times": 3, "is_transient": false,
        }))
        .await;

    // Act
    let job = full_sync(&world.app).await;

    // Assert
    assert_eq!(job["status"], "DONE", "{job:#}");
    assert_eq!(job["conversations"], 30, "{job:#}");
    assert!(world.sim.faults().await.is_empty());
    assert_eq!(stored_mids(&world.app).await, graph_mids(&world).await);
}

#[tokio::test]
async fn a_send_throttled_for_a_minute_fails_at_once_and_holds_back_the_pages_next_sends() {
    // Arrange: the Send API says the Page regains access in a minute, for as long as asked.
    let world = connected_page().await;
    let psid = "4100000001";
    world
        .sim
        .create_customer(PAGE, psid, "Ada", "Lovelace")
        .await;
    world.sim.customer_says(PAGE, psid, "Hello?", None).await;
    let conversation = eventually(Duration::from_secs(10), async || {
        world
            .app
            .conversations(PAGE)
            .await
            .into_iter()
            .next()
            .map(|c| id_of(&c).to_owned())
    })
    .await;
    world
        .sim
        .arm_fault(
            json!({ "code": 80006, "surface": "send", "estimated_time_to_regain_access": 1 }),
        )
        .await;
    let send = |text: &'static str| {
        let app = &world.app;
        let conversation = conversation.clone();
        async move {
            app.gql_data(
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) \
                 { status errorCode } }",
                json!({ "input": { "conversationId": conversation, "text": text } }),
            )
            .await["sendMessage"]
                .clone()
        }
    };

    // Act
    let started = tokio::time::Instant::now();
    let first = send("One moment please").await;
    let second = send("Still there?").await;

    // Assert: both FAILED as rate limited without waiting the minute, and only the first
    // reached Facebook: the usage header's minute holds the Page's sends back.
    let failed = json!({ "status": "FAILED", "errorCode": "RATE_LIMITED" });
    assert_eq!(first, failed);
    assert_eq!(second, failed);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let faults = world.sim.faults().await;
    assert_eq!(faults[0]["answered"], 1, "{faults:#?}");
    assert!(world.sim.sent(PAGE).await.is_empty());
}

// ----- paging as Facebook pages -----

#[tokio::test]
async fn a_full_sync_reads_short_and_empty_pages_until_next_is_absent() {
    // Arrange: pages of at most 3 items whatever the limit asks, and an empty page with a
    // `next` before every page reached through a cursor.
    let world = connected_page().await;
    world.sim.seed(PAGE, 11, 8).await;
    let expected = graph_mids(&world).await;
    assert_eq!(expected.len(), 88);
    world
        .sim
        .set_paging(json!({ "max_page": 3, "empty_pages": true }))
        .await;

    // Act
    let job = full_sync(&world.app).await;

    // Assert: every conversation and every message, counted right.
    assert_eq!(job["status"], "DONE", "{job:#}");
    assert_eq!(job["conversations"], 11, "{job:#}");
    assert_eq!(job["total"], 11, "{job:#}");
    assert_eq!(stored_mids(&world.app).await, expected);
}
