//! Facebook at its edges (issue 14): the real api against the `graph-simulator` binary
//! answering what only Facebook answers today, armed through `POST /_sim/faults` and
//! `PUT /_sim/paging`: every throttling code with its usage headers, and Graph's rough
//! paging (short pages, empty pages with `next`, cursors that expire).
use std::collections::HashSet;
use std::time::Duration;

use mf_tests::sim::{World, connected_page};
use mf_tests::{PAGE, TestApp, eventually, id_of, nodes};
use serde_json::{Value, json};

/// Time enough for a job that backs off through a few throttled answers.
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

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
    full_sync_within(app, JOB_TIMEOUT).await
}

/// [`full_sync`], waiting up to `timeout` for the job to end.
async fn full_sync_within(app: &TestApp, timeout: Duration) -> Value {
    let started = app
        .gql_data(
            "mutation($page: ID!) { syncFullHistory(pageId: $page) { id status } }",
            json!({ "page": PAGE }),
        )
        .await;
    let job = id_of(&started["syncFullHistory"]).to_owned();
    eventually(timeout, async || {
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

/// The Conversations API's usage header climbs to 100% of its budget (2 calls/s, the
/// simulator's documented default) as a full sync reads 80 threads: the api slows down as
/// the header nears 100%, so Facebook never has to refuse a call.
#[tokio::test]
async fn a_full_sync_near_its_usage_limit_slows_down_instead_of_being_throttled() {
    // Arrange
    let world = connected_page().await;
    world.sim.seed(PAGE, 80, 2).await;
    world
        .sim
        .set_rate_limits(json!({ "conversations_per_sec": 1 }))
        .await;

    // Act
    let job = full_sync(&world.app).await;

    // Assert
    assert_eq!(job["status"], "DONE", "{job:#}");
    assert_eq!(job["conversations"], 80, "{job:#}");
    assert_eq!(
        world.sim.throttled().await["conversations"],
        0,
        "Facebook had to refuse calls"
    );
    assert_eq!(stored_mids(&world.app).await, graph_mids(&world).await);
}

/// The Conversations API answers 80006 once, with `estimated_time_to_regain_access: 1`
/// (a minute, the smallest whole number Facebook gives): the history sync neither fails nor
/// tries again with its short backoff, but waits the minute out and then finishes.
#[tokio::test]
async fn a_full_sync_told_to_regain_access_in_a_minute_waits_it_out_and_finishes() {
    // Arrange
    let world = connected_page().await;
    world.sim.seed(PAGE, 6, 2).await;
    world
        .sim
        .arm_fault(json!({
            "code": 80006, "surface": "conversations", "times": 1,
            "estimated_time_to_regain_access": 1,
        }))
        .await;

    // Act
    let started = tokio::time::Instant::now();
    let job = full_sync_within(&world.app, Duration::from_secs(150)).await;
    let took = started.elapsed();

    // Assert: done, with every thread, and not before the minute was up (a retry after
    // the usual backoff would have gone through within a second or two).
    assert_eq!(job["status"], "DONE", "{job:#}");
    assert_eq!(job["conversations"], 6, "{job:#}");
    assert!(took >= Duration::from_secs(58), "finished after {took:?}");
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

// ----- the Send API's errors: each code, what the message and the Page become -----

/// A connected Page whose customer `psid` wrote a moment ago; the conversation's id.
async fn page_with_a_writing_customer(psid: &str) -> (World, String) {
    let world = connected_page().await;
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
            .find(|c| c["customer"]["psid"] == psid)
            .map(|c| id_of(&c).to_owned())
    })
    .await;
    (world, conversation)
}

/// `sendMessage`; the whole response.
async fn send_text(app: &TestApp, conversation: &str, text: &str) -> Value {
    app.gql(
        "mutation($input: SendMessageInput!) { sendMessage(input: $input) \
         { status errorCode mid } }",
        json!({ "input": { "conversationId": conversation, "text": text } }),
    )
    .await
}

/// The Page as `pages` lists it: `needsReconnect`, `reconnectReason`.
async fn page_state(app: &TestApp) -> Value {
    let data = app
        .gql_data(
            "{ pages { id connected needsReconnect reconnectReason } }",
            json!({}),
        )
        .await;
    data["pages"]
        .as_array()
        .and_then(|pages| pages.iter().find(|p| p["id"] == PAGE).cloned())
        .unwrap_or_else(|| panic!("no Page {PAGE}: {data:#}"))
}

/// The Send API answers `fault` for the first send; the message ends FAILED with
/// `error_code`, and the Page is left as it was (these are the person's, not the Page's).
async fn a_send_refused_for_the_person(fault: Value, error_code: &str) {
    // Arrange
    let (world, conversation) = page_with_a_writing_customer("4200000001").await;
    world.sim.arm_fault(fault).await;

    // Act
    let response = send_text(&world.app, &conversation, "Your order has shipped").await;

    // Assert: FAILED with our code, nothing sent, tried once (not retried), Page fine.
    let message = &response["data"]["sendMessage"];
    assert_eq!(message["status"], "FAILED", "{response:#}");
    assert_eq!(message["errorCode"], error_code, "{response:#}");
    assert!(world.sim.sent(PAGE).await.is_empty());
    assert_eq!(world.sim.faults().await[0]["answered"], 1);
    let page = page_state(&world.app).await;
    assert_eq!(page["needsReconnect"], false, "{page:#}");
    assert_eq!(page["reconnectReason"], Value::Null, "{page:#}");
}

#[tokio::test]
async fn a_send_answered_551_person_unavailable_fails_with_recipient_unavailable() {
    a_send_refused_for_the_person(
        json!({ "code": 551, "surface": "send" }),
        "RECIPIENT_UNAVAILABLE",
    )
    .await;
}

#[tokio::test]
async fn a_send_answered_10_2018108_not_receiving_fails_with_recipient_not_receiving() {
    a_send_refused_for_the_person(
        json!({ "code": 10, "subcode": 2018108, "surface": "send" }),
        "RECIPIENT_NOT_RECEIVING",
    )
    .await;
}

/// The Send API answers a permission error (`code`): the message FAILED with
/// `PERMISSION_MISSING`, the Page flagged for reconnection with that reason, the next send
/// refused before calling Facebook, and connecting the Page again clears it.
async fn a_send_refused_for_a_missing_permission(code: u32) {
    // Arrange
    let (world, conversation) = page_with_a_writing_customer("4300000001").await;
    world
        .sim
        .arm_fault(json!({ "code": code, "surface": "send", "times": 1 }))
        .await;

    // Act
    let response = send_text(&world.app, &conversation, "Your order has shipped").await;
    let flagged = page_state(&world.app).await;
    let next = send_text(&world.app, &conversation, "Still there?").await;
    world.app.connect_page(PAGE, &world.token).await;
    let reconnected = page_state(&world.app).await;
    let after = send_text(&world.app, &conversation, "Back again").await;

    // Assert
    let message = &response["data"]["sendMessage"];
    assert_eq!(message["status"], "FAILED", "{code}: {response:#}");
    assert_eq!(
        message["errorCode"], "PERMISSION_MISSING",
        "{code}: {response:#}"
    );
    assert_eq!(flagged["needsReconnect"], true, "{code}: {flagged:#}");
    assert_eq!(
        flagged["reconnectReason"], "PERMISSION_MISSING",
        "{code}: {flagged:#}"
    );
    assert_eq!(
        mf_tests::error_code(&next),
        Some("FORBIDDEN"),
        "{code}: {next:#}"
    );
    assert_eq!(
        reconnected["needsReconnect"], false,
        "{code}: {reconnected:#}"
    );
    assert_eq!(
        reconnected["reconnectReason"],
        Value::Null,
        "{code}: {reconnected:#}"
    );
    assert!(
        mf_tests::went_out(&after["data"]["sendMessage"]["status"]),
        "{code}: {after:#}"
    );
}

#[tokio::test]
async fn a_send_answered_200_permission_error_flags_the_page_until_it_is_reconnected() {
    a_send_refused_for_a_missing_permission(200).await;
}

#[tokio::test]
async fn a_send_answered_230_pages_messaging_missing_flags_the_page_until_it_is_reconnected() {
    a_send_refused_for_a_missing_permission(230).await;
}

/// The Send API fails for a moment (`fault`, twice): the send is tried again with backoff
/// and goes out once.
async fn a_send_failing_for_a_moment(fault: Value) {
    // Arrange
    let (world, conversation) = page_with_a_writing_customer("4400000001").await;
    world.sim.arm_fault(fault.clone()).await;

    // Act
    let response = send_text(&world.app, &conversation, "Your order has shipped").await;

    // Assert
    let message = &response["data"]["sendMessage"];
    assert!(
        mf_tests::went_out(&message["status"]),
        "{fault}: {response:#}"
    );
    assert_eq!(world.sim.sent(PAGE).await.len(), 1, "{fault}");
    assert!(world.sim.faults().await.is_empty(), "{fault}");
}

#[tokio::test]
async fn a_send_answered_2_unexpected_error_twice_is_retried_and_sent() {
    a_send_failing_for_a_moment(json!({ "code": 2, "surface": "send", "times": 2 })).await;
}

#[tokio::test]
async fn a_send_answered_1200_temporary_failure_twice_is_retried_and_sent() {
    a_send_failing_for_a_moment(json!({ "code": 1200, "surface": "send", "times": 2 })).await;
}

#[tokio::test]
async fn a_send_answered_any_code_with_is_transient_true_is_retried_and_sent() {
    a_send_failing_for_a_moment(json!({
        "code": 100, "surface": "send", "times": 2, "is_transient": true,
    }))
    .await;
}

#[tokio::test]
async fn a_send_that_keeps_failing_for_a_moment_ends_failed_with_temporary_failure() {
    // Arrange: 1200 on every try.
    let (world, conversation) = page_with_a_writing_customer("4500000001").await;
    world
        .sim
        .arm_fault(json!({ "code": 1200, "surface": "send" }))
        .await;

    // Act
    let response = send_text(&world.app, &conversation, "Your order has shipped").await;

    // Assert: the first try and 4 retries, then FAILED; the Page is fine.
    let message = &response["data"]["sendMessage"];
    assert_eq!(message["status"], "FAILED", "{response:#}");
    assert_eq!(message["errorCode"], "TEMPORARY_FAILURE", "{response:#}");
    assert_eq!(world.sim.faults().await[0]["answered"], 5);
    assert_eq!(page_state(&world.app).await["needsReconnect"], false);
}

#[tokio::test]
async fn a_sync_answered_230_flags_the_page_for_a_missing_permission() {
    // Arrange
    let world = connected_page().await;
    world.sim.seed(PAGE, 3, 1).await;
    world
        .sim
        .arm_fault(json!({ "code": 230, "surface": "conversations", "times": 1 }))
        .await;

    // Act
    let response = sync_newest(&world.app).await;

    // Assert
    assert_eq!(
        mf_tests::error_code(&response),
        Some("GRAPH_API_ERROR"),
        "{response:#}"
    );
    let page = page_state(&world.app).await;
    assert_eq!(page["needsReconnect"], true, "{page:#}");
    assert_eq!(page["reconnectReason"], "PERMISSION_MISSING", "{page:#}");
}

#[tokio::test]
async fn sync_conversations_follows_short_and_empty_pages_to_the_five_newest() {
    // Arrange: pages of at most 2, an empty page before each page reached by a cursor.
    let world = connected_page().await;
    world.sim.seed(PAGE, 7, 4).await;
    world
        .sim
        .set_paging(json!({ "max_page": 2, "empty_pages": true }))
        .await;

    // Act
    let response = sync_newest(&world.app).await;

    // Assert: five conversations with all four messages each, as with full pages.
    assert_eq!(
        response["data"]["syncConversations"],
        json!({ "conversations": 5, "messages": 20, "newMessages": 20 }),
        "{response:#}"
    );
    assert_eq!(world.app.conversations(PAGE).await.len(), 5);
}

#[tokio::test]
async fn a_full_sync_whose_listing_cursor_expires_lists_again_from_the_top_and_finishes() {
    // Arrange: 30 threads (two listing pages of 25); the first cursor used expires.
    let world = connected_page().await;
    world.sim.seed(PAGE, 30, 1).await;
    let expected = graph_mids(&world).await;
    world.sim.set_paging(json!({ "expire_next": 1 })).await;

    // Act
    let job = full_sync(&world.app).await;

    // Assert: DONE, each thread counted once, every message stored.
    assert_eq!(job["status"], "DONE", "{job:#}");
    assert_eq!(job["conversations"], 30, "{job:#}");
    assert_eq!(job["total"], 30, "{job:#}");
    assert_eq!(stored_mids(&world.app).await, expected);
    assert_eq!(world.sim.set_paging(json!({})).await["expire_next"], 0);
}

#[tokio::test]
async fn a_full_sync_whose_messages_cursor_expires_reads_that_thread_again_and_finishes() {
    // Arrange: threads of 30 messages (25 inlined, then a `next`); two cursors expire.
    let world = connected_page().await;
    world.sim.seed(PAGE, 4, 30).await;
    let expected = graph_mids(&world).await;
    assert_eq!(expected.len(), 120);
    world.sim.set_paging(json!({ "expire_next": 2 })).await;

    // Act
    let job = full_sync(&world.app).await;

    // Assert
    assert_eq!(job["status"], "DONE", "{job:#}");
    assert_eq!(job["conversations"], 4, "{job:#}");
    assert_eq!(stored_mids(&world.app).await, expected);
}
