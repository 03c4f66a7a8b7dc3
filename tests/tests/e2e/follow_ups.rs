//! No customer slips by: a customer who writes reopens a RESOLVED or SNOOZED
//! conversation; a snooze wakes by itself at its time (live, across restarts, once with
//! several instances); the inbox filters by assignee on the server; and "ending soon"
//! lists the open conversations whose messaging window closes first.
use std::time::Duration;

use mf_tests::eventually_every;
use mf_tests::webhook::{batch, delivery, echo, message, read};
use mf_tests::{
    CUSTOMER, OTHER_CUSTOMER, PAGE, T0, TIMEOUT, TestApp, error_code, id_of, nodes, spawn_app,
    spawn_beside,
};
use serde_json::{Value, json};

const PAGE_EVENTS: &str = "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) { \
    position kind conversation { id status snoozedUntil } } }";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateConversationInput!) { \
    updateConversation(id: $id, input: $input) { id status snoozedUntil } }";

const LIST: &str = "query($p: ID!, $first: Int, $after: String, $status: ConversationStatus, \
    $assignee: AssigneeFilter, $assigneeId: ID, $hours: Int) { \
    conversations(pageId: $p, first: $first, after: $after, status: $status, assignee: $assignee, \
    assigneeId: $assigneeId, windowClosesWithinHours: $hours) { \
    edges { cursor node { id status windowExpiresAt customer { psid } } } pageInfo { hasNextPage endCursor } } }";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("a time")
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn event_position(app: &TestApp) -> String {
    let data = app
        .gql_data("{ pages { id eventPosition } }", json!({}))
        .await;
    data["pages"]
        .as_array()
        .and_then(|pages| pages.iter().find(|p| p["id"] == PAGE))
        .and_then(|p| p["eventPosition"].as_str())
        .expect("the Page's eventPosition")
        .to_owned()
}

/// A conversation of `psid` on PAGE, created by the customer writing at `at`.
async fn conversation_of(app: &TestApp, psid: &str, mid: &str, at: i64) -> String {
    app.ingest(&batch(PAGE, [message(PAGE, psid, mid, "hello", at)]))
        .await;
    id_of(&app.conversation_with(PAGE, psid).await).to_owned()
}

async fn update(app: &TestApp, id: &str, input: Value) -> Value {
    app.gql(UPDATE, json!({ "id": id, "input": input })).await
}

async fn snooze(app: &TestApp, id: &str, until: i64) -> Value {
    let answer = update(app, id, json!({ "snoozedUntil": rfc3339(until) })).await;
    assert!(answer["errors"].is_null(), "{answer:#}");
    answer["data"]["updateConversation"].clone()
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    app.gql_data(
        "query($id: ID!) { conversation(id: $id) { status snoozedUntil } }",
        json!({ "id": id }),
    )
    .await["conversation"]
        .clone()
}

/// Reads `pageEvents` until a CONVERSATION_UPDATED of `id` says `status`; returns it.
async fn until_status(
    events: &mut mf_tests::Subscription,
    id: &str,
    status: &str,
    within: Duration,
) -> Value {
    let mut seen = Vec::new();
    // Each look reads the next event (no pause between them).
    eventually_every(Duration::ZERO, within, async || {
        let event = events
            .next(within)
            .await
            .unwrap_or_else(|error| panic!("no {status} for {id} ({error:#}); saw {seen:#?}"));
        let item = event["pageEvents"].clone();
        if item["kind"] == "CONVERSATION_UPDATED"
            && item["conversation"]["id"] == id
            && item["conversation"]["status"] == status
        {
            return Ok(item);
        }
        seen.push(item);
        Err(format!("no {status} for {id}; saw {seen:#?}"))
    })
    .await
}

#[tokio::test]
async fn a_customer_writing_reopens_a_resolved_or_snoozed_conversation_live() {
    // Arrange: one conversation RESOLVED, one SNOOZED for an hour.
    let app = spawn_app().await;
    let resolved = conversation_of(&app, CUSTOMER, "m1", T0).await;
    let snoozed = conversation_of(&app, OTHER_CUSTOMER, "m2", T0).await;
    let answer = update(&app, &resolved, json!({ "status": "RESOLVED" })).await;
    assert_eq!(answer["data"]["updateConversation"]["status"], "RESOLVED");
    snooze(&app, &snoozed, now_ms() + 3_600_000).await;
    let mut events = app
        .subscribe(
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": event_position(&app).await }),
        )
        .await;

    // Act: the Page answers and Facebook reports delivery and reads: none of it reopens.
    app.ingest(&batch(
        PAGE,
        [
            echo(PAGE, CUSTOMER, "e1", "we fixed it", T0 + 1000),
            echo(PAGE, OTHER_CUSTOMER, "e2", "later then", T0 + 1000),
            delivery(PAGE, OTHER_CUSTOMER, T0 + 1000),
            read(PAGE, OTHER_CUSTOMER, T0 + 1000),
        ],
    ))
    .await;
    assert_eq!(status_of(&app, &resolved).await["status"], "RESOLVED");
    assert_eq!(status_of(&app, &snoozed).await["status"], "SNOOZED");

    // Act: both customers write again.
    app.ingest(&batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m3", "it broke again", T0 + 2000),
            message(PAGE, OTHER_CUSTOMER, "m4", "actually, now", T0 + 2000),
        ],
    ))
    .await;

    // Assert: both are OPEN, the snooze cleared, and the change came through pageEvents.
    for id in [&resolved, &snoozed] {
        let item = until_status(&mut events, id, "OPEN", TIMEOUT).await;
        assert!(item["conversation"]["snoozedUntil"].is_null(), "{item:#}");
        let now = status_of(&app, id).await;
        assert_eq!(now, json!({ "status": "OPEN", "snoozedUntil": null }));
    }
}

#[tokio::test]
async fn a_snoozed_conversation_wakes_by_itself_at_its_time_live() {
    // Arrange
    let app = spawn_app().await;
    let id = conversation_of(&app, CUSTOMER, "m1", T0).await;
    let mut events = app
        .subscribe(
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": event_position(&app).await }),
        )
        .await;

    // Act: snooze for 2 seconds.
    let until = now_ms() + 2000;
    let snoozed = snooze(&app, &id, until).await;

    // Assert: SNOOZED until then, published; then OPEN again, not before its time.
    assert_eq!(snoozed["status"], "SNOOZED");
    assert_eq!(snoozed["snoozedUntil"], rfc3339(until));
    let item = until_status(&mut events, &id, "SNOOZED", TIMEOUT).await;
    assert_eq!(item["conversation"]["snoozedUntil"], rfc3339(until));
    let woke = until_status(&mut events, &id, "OPEN", Duration::from_secs(2) + TIMEOUT).await;
    assert!(now_ms() >= until, "woke before its time");
    assert!(woke["conversation"]["snoozedUntil"].is_null(), "{woke:#}");
    assert_eq!(
        status_of(&app, &id).await,
        json!({ "status": "OPEN", "snoozedUntil": null })
    );
}

#[tokio::test]
async fn a_snooze_that_came_due_while_no_server_ran_wakes_when_one_starts() {
    // Arrange: snoozed for a second, then the server stops.
    let mut first = spawn_app().await;
    let id = conversation_of(&first, CUSTOMER, "m1", T0).await;
    let until = now_ms() + 1000;
    snooze(&first, &id, until).await;
    let position = event_position(&first).await;
    first.shut_down();

    // Act: the time passes with no server running (it really is stopped: still SNOOZED).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    use sea_orm::EntityTrait;
    let stored = entity::conversation::Entity::find_by_id(id.parse::<i64>().expect("an id"))
        .one(first.db())
        .await
        .expect("reading the conversation")
        .expect("the conversation");
    assert_eq!(
        stored.status,
        entity::conversation::Status::Snoozed,
        "woke while no server ran"
    );
    let second = spawn_beside(&first).await;

    // Assert: the new server woke it at start, and a subscriber resuming sees it.
    let mut events = second
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": position }))
        .await;
    until_status(&mut events, &id, "OPEN", TIMEOUT).await;
    assert_eq!(status_of(&second, &id).await["status"], "OPEN");
}

#[tokio::test]
async fn two_instances_wake_a_snoozed_conversation_once() {
    // Arrange: two instances on one database; both are told of the snooze (each set it).
    let first = spawn_app().await;
    let second = spawn_beside(&first).await;
    let id = conversation_of(&first, CUSTOMER, "m1", T0).await;
    let until = now_ms() + 1500;
    snooze(&first, &id, until).await;
    snooze(&second, &id, until).await;
    let position: i64 = event_position(&first).await.parse().expect("a position");
    let mut events = first
        .subscribe(
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": position.to_string() }),
        )
        .await;

    // Act
    until_status(
        &mut events,
        &id,
        "OPEN",
        Duration::from_millis(1500) + TIMEOUT,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Assert: one change in the log after the snoozes (with its activity entry), not one
    // per instance.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let logged: Vec<String> = entity::page_event::Entity::find()
        .filter(entity::page_event::Column::PageId.eq(PAGE))
        .filter(entity::page_event::Column::Position.gt(position))
        .all(first.db())
        .await
        .expect("reading the log")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        logged,
        ["CONVERSATION_UPDATED", "ACTIVITY_ADDED"],
        "the conversation woke more than once"
    );
}

#[tokio::test]
async fn bad_snoozes_are_refused_and_change_nothing() {
    // Arrange
    let app = spawn_app().await;
    let id = conversation_of(&app, CUSTOMER, "m1", T0).await;
    let position = event_position(&app).await;
    let hour_ahead = rfc3339(now_ms() + 3_600_000);
    let cases = [
        json!({ "status": "SNOOZED" }),
        json!({ "snoozedUntil": rfc3339(now_ms() - 1000) }),
        json!({ "snoozedUntil": "tomorrow at nine" }),
        json!({ "snoozedUntil": "2026-12-01T09:00:00" }),
        json!({ "snoozedUntil": "" }),
        json!({ "snoozedUntil": rfc3339(now_ms() + 400 * 86_400_000) }),
        json!({ "snoozedUntil": "+275760-09-13T00:00:00Z" }),
        json!({ "status": "RESOLVED", "snoozedUntil": hour_ahead }),
        json!({ "status": "OPEN", "snoozedUntil": hour_ahead }),
    ];

    for input in cases {
        // Act
        let answer = update(&app, &id, input.clone()).await;

        // Assert
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{input}: {answer:#}"
        );
    }
    assert_eq!(
        status_of(&app, &id).await,
        json!({ "status": "OPEN", "snoozedUntil": null })
    );
    assert_eq!(
        event_position(&app).await,
        position,
        "a refused change was logged"
    );
}

#[tokio::test]
async fn leaving_snoozed_clears_the_snooze_and_a_new_time_reschedules_it() {
    // Arrange
    let app = spawn_app().await;
    let id = conversation_of(&app, CUSTOMER, "m1", T0).await;
    let later = now_ms() + 3_600_000;
    snooze(&app, &id, later).await;

    // Act + Assert: a later time with status SNOOZED reschedules it...
    let answer = update(
        &app,
        &id,
        json!({ "status": "SNOOZED", "snoozedUntil": rfc3339(later + 60_000) }),
    )
    .await;
    assert_eq!(
        answer["data"]["updateConversation"]["snoozedUntil"],
        rfc3339(later + 60_000),
        "{answer:#}"
    );
    // ...and any other status clears it.
    let answer = update(&app, &id, json!({ "status": "PENDING" })).await;
    assert_eq!(
        answer["data"]["updateConversation"],
        json!({ "id": id, "status": "PENDING", "snoozedUntil": null })
    );
}

async fn list(app: &TestApp, token: &str, variables: Value) -> Value {
    let mut variables = variables;
    variables["p"] = json!(PAGE);
    app.gql_as(Some(token), LIST, variables).await
}

/// Every node of a filtered list, paging `first` at a time: the psids in order.
async fn all_pages(app: &TestApp, token: &str, variables: Value, first: i64) -> Vec<String> {
    let mut psids = Vec::new();
    let mut after = Value::Null;
    loop {
        let mut asked = variables.clone();
        asked["first"] = json!(first);
        asked["after"] = after;
        let answer = list(app, token, asked).await;
        assert!(answer["errors"].is_null(), "{answer:#}");
        let connection = &answer["data"]["conversations"];
        psids.extend(nodes(connection).iter().map(|n| {
            n["customer"]["psid"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }));
        if connection["pageInfo"]["hasNextPage"] != true {
            return psids;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn assignee_filters_find_conversations_beyond_the_first_page() {
    // Arrange: eight customers, c0 the oldest; alice has c0 and c2, sam has c1.
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..8 {
        let psid = format!("30000000{n}");
        ids.push(conversation_of(&app, &psid, &format!("m{n}"), T0 + n * 1000).await);
    }
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let sam = app.agent_on("sam@example.com", "Sam", &[PAGE]).await;
    let outsider = app.agent_on("olga@example.com", "Olga", &[]).await;
    for (conversation, agent) in [
        (&ids[0], &alice.id),
        (&ids[2], &alice.id),
        (&ids[1], &sam.id),
    ] {
        let answer = update(&app, conversation, json!({ "assigneeId": agent })).await;
        assert!(answer["errors"].is_null(), "{answer:#}");
    }
    update(&app, &ids[2], json!({ "status": "RESOLVED" })).await;
    let psid = |n: usize| format!("30000000{n}");

    // Act + Assert: newest first, paged one at a time with the usual cursors.
    let mine = all_pages(&app, &alice.token, json!({ "assignee": "ME" }), 1).await;
    assert_eq!(mine, [psid(2), psid(0)]);
    let unassigned = all_pages(&app, &alice.token, json!({ "assignee": "UNASSIGNED" }), 2).await;
    assert_eq!(unassigned, [psid(7), psid(6), psid(5), psid(4), psid(3)]);
    let assigned = all_pages(&app, &alice.token, json!({ "assignee": "ASSIGNED" }), 2).await;
    assert_eq!(assigned, [psid(2), psid(1), psid(0)]);
    let sams = all_pages(&app, &alice.token, json!({ "assigneeId": sam.id }), 5).await;
    assert_eq!(sams, [psid(1)]);
    let mine_open = json!({ "assignee": "ME", "status": "OPEN" });
    assert_eq!(all_pages(&app, &alice.token, mine_open, 5).await, [psid(0)]);
    let nobody = json!({ "assigneeId": outsider.id });
    assert!(all_pages(&app, &alice.token, nobody, 5).await.is_empty());
    let admins = json!({ "assignee": "ME" });
    assert!(
        all_pages(&app, &app.admin_token, admins, 5)
            .await
            .is_empty()
    );

    // Assert: both filters at once, or a malformed id, are refused.
    for bad in [
        json!({ "assignee": "ME", "assigneeId": alice.id }),
        json!({ "assigneeId": "not-a-number" }),
        json!({ "assigneeId": "-4" }),
    ] {
        let answer = list(&app, &alice.token, bad.clone()).await;
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{bad}: {answer:#}"
        );
    }
}

#[tokio::test]
async fn ending_soon_lists_open_windows_closing_within_the_hours_soonest_first() {
    // Arrange: customers who last wrote 23.5, 21, 22, 10 and 25 hours ago; the one of
    // 22 hours is RESOLVED.
    let app = spawn_app().await;
    let now = now_ms();
    let hour = 3_600_000;
    let wrote = [
        ("400000001", 47 * hour / 2),
        ("400000002", 21 * hour),
        ("400000003", 22 * hour),
        ("400000004", 10 * hour),
        ("400000005", 25 * hour),
    ];
    let mut ids = Vec::new();
    for (n, (psid, ago)) in wrote.iter().enumerate() {
        ids.push(conversation_of(&app, psid, &format!("m{n}"), now - ago).await);
    }
    update(&app, &ids[2], json!({ "status": "RESOLVED" })).await;
    // The newest message is not what counts: the Page answered the first customer now.
    app.ingest(&batch(PAGE, [echo(PAGE, "400000001", "e1", "on it", now)]))
        .await;
    let token = app.admin_token.clone();

    // Act + Assert: the default 4 hours, paged one at a time, soonest first.
    let soon = all_pages(&app, &token, json!({ "hours": 4 }), 1).await;
    assert_eq!(soon, ["400000001", "400000002"]);
    let answer = list(&app, &token, json!({ "hours": 4, "first": 5 })).await;
    let first = &nodes(&answer["data"]["conversations"])[0];
    let closes =
        chrono::DateTime::parse_from_rfc3339(first["windowExpiresAt"].as_str().expect("a window"))
            .expect("an RFC 3339 time")
            .timestamp_millis();
    assert!((closes - (now + hour / 2)).abs() < 5000, "{first:#}");
    // Wider, and with another status.
    let day = all_pages(&app, &token, json!({ "hours": 24 }), 2).await;
    assert_eq!(day, ["400000001", "400000002", "400000004"]);
    let resolved = json!({ "hours": 4, "status": "RESOLVED" });
    assert_eq!(all_pages(&app, &token, resolved, 2).await, ["400000003"]);
    let one_hour = all_pages(&app, &token, json!({ "hours": 1 }), 5).await;
    assert_eq!(one_hour, ["400000001"]);

    // Assert: out-of-range hours, and a cursor of the other order, are refused.
    let newest_first = list(&app, &token, json!({ "first": 1 })).await;
    let other_cursor = newest_first["data"]["conversations"]["pageInfo"]["endCursor"].clone();
    let window_page = list(&app, &token, json!({ "hours": 4, "first": 1 })).await;
    let window_cursor = window_page["data"]["conversations"]["pageInfo"]["endCursor"].clone();
    for bad in [
        json!({ "hours": 0 }),
        json!({ "hours": 25 }),
        json!({ "hours": -3 }),
        json!({ "hours": 4, "after": other_cursor }),
        json!({ "after": window_cursor }),
    ] {
        let answer = list(&app, &token, bad.clone()).await;
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{bad}: {answer:#}"
        );
    }
}
