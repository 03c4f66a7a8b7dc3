//! Resumable subscriptions: every change a subscriber can see has a position in its
//! Page's event log; a subscriber that comes back with `after` gets what it missed, once,
//! in order, then the live events, with no gap and no repeat.
use std::time::Duration;

use mf_tests::eventually;
use mf_tests::webhook::{batch, delivery, echo, message};
use mf_tests::{
    CUSTOMER, OTHER_CUSTOMER, PAGE, T0, TIMEOUT, TestApp, error_code, id_of, spawn_app,
    spawn_app_with,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const PAGE_EVENTS: &str = "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) { \
    position kind message { mid text conversationId position } conversation { id lastMessageText position } } }";

/// The Page's current position, as a client reads it before subscribing.
async fn event_position(app: &TestApp) -> String {
    let data = app
        .gql_data("{ pages { id eventPosition } }", json!({}))
        .await;
    data["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .find(|p| p["id"] == PAGE)
        .map(|p| {
            p["eventPosition"]
                .as_str()
                .expect("eventPosition")
                .to_owned()
        })
        .expect("the Page")
}

async fn customer_writes(app: &TestApp, psid: &str, mid: &str, at: i64) {
    app.ingest(&batch(PAGE, [message(PAGE, psid, mid, mid, at)]))
        .await;
}

/// Reads `pageEvents` items until `count` MESSAGE_ADDED arrived; returns every item.
async fn until_messages(subscription: &mut mf_tests::ws::Subscription, count: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut added = 0;
    while added < count {
        let event = subscription.next(TIMEOUT).await.expect("a page event");
        let item = event["pageEvents"].clone();
        if item["kind"] == "MESSAGE_ADDED" {
            added += 1;
        }
        items.push(item);
    }
    items
}

fn positions(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|i| {
            i["position"]
                .as_str()
                .expect("position")
                .parse()
                .expect("a number")
        })
        .collect()
}

fn added_mids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter(|i| i["kind"] == "MESSAGE_ADDED")
        .map(|i| i["message"]["mid"].as_str().expect("mid").to_owned())
        .collect()
}

#[tokio::test]
async fn a_subscriber_that_resumes_gets_what_it_missed_once_in_order_then_live_events() {
    // Arrange: a subscriber saw the first message, then went away.
    let app = spawn_app().await;
    customer_writes(&app, CUSTOMER, "m-0", T0).await;
    let start = event_position(&app).await;
    let mut first = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": start }))
        .await;
    customer_writes(&app, CUSTOMER, "m-1", T0 + 1).await;
    let seen = until_messages(&mut first, 1).await;
    assert_eq!(added_mids(&seen), ["m-1"]);
    // The conversation's update follows its message in the same commit.
    let seen_last = {
        let more = first
            .next(TIMEOUT)
            .await
            .expect("the conversation's update");
        assert_eq!(more["pageEvents"]["kind"], "CONVERSATION_UPDATED");
        more["pageEvents"]["position"]
            .as_str()
            .expect("position")
            .to_owned()
    };
    drop(first);

    // Act: five messages from two customers while it is away, then it resumes.
    for n in 2..=6 {
        let psid = if n % 2 == 0 { CUSTOMER } else { OTHER_CUSTOMER };
        customer_writes(&app, psid, &format!("m-{n}"), T0 + n).await;
    }
    let mut resumed = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": seen_last }))
        .await;
    let missed = until_messages(&mut resumed, 5).await;
    customer_writes(&app, CUSTOMER, "m-7", T0 + 7).await;
    let live = until_messages(&mut resumed, 1).await;

    // Assert: every message once, in order; positions follow on with no gap or repeat.
    let all: Vec<Value> = missed.into_iter().chain(live).collect();
    assert_eq!(added_mids(&all), ["m-2", "m-3", "m-4", "m-5", "m-6", "m-7"]);
    let got = positions(&all);
    let after: i64 = seen_last.parse().expect("a number");
    let expected: Vec<i64> = (after + 1..after + 1 + got.len() as i64).collect();
    assert_eq!(got, expected, "positions must be consecutive from `after`");
    for item in &all {
        let nested = item["message"]["position"]
            .as_str()
            .or(item["conversation"]["position"].as_str());
        assert_eq!(
            nested,
            item["position"].as_str(),
            "the node carries its position"
        );
    }
}

#[tokio::test]
async fn message_added_with_after_replays_only_its_conversation() {
    // Arrange
    let app = spawn_app().await;
    customer_writes(&app, CUSTOMER, "m-0", T0).await;
    let conversation = id_of(&app.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let after = event_position(&app).await;

    // Act: messages in two conversations, then a subscription from before them.
    customer_writes(&app, OTHER_CUSTOMER, "other-1", T0 + 1).await;
    customer_writes(&app, CUSTOMER, "m-1", T0 + 2).await;
    customer_writes(&app, CUSTOMER, "m-2", T0 + 3).await;
    let mut subscription = app
        .subscribe(
            "subscription($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { mid position } }",
            json!({ "id": conversation, "after": after }),
        )
        .await;
    customer_writes(&app, CUSTOMER, "m-3", T0 + 4).await;

    // Assert
    let mut mids = Vec::new();
    let mut last = after.parse::<i64>().expect("a number");
    for _ in 0..3 {
        let event = subscription.next(TIMEOUT).await.expect("messageAdded");
        mids.push(
            event["messageAdded"]["mid"]
                .as_str()
                .expect("mid")
                .to_owned(),
        );
        let position: i64 = event["messageAdded"]["position"]
            .as_str()
            .expect("position")
            .parse()
            .expect("a number");
        assert!(position > last, "positions grow");
        last = position;
    }
    assert_eq!(mids, ["m-1", "m-2", "m-3"]);
    subscription
        .expect_nothing(Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn conversation_updated_with_after_replays_the_changes_since() {
    // Arrange
    let app = spawn_app().await;
    customer_writes(&app, CUSTOMER, "m-0", T0).await;
    let after = event_position(&app).await;
    customer_writes(&app, CUSTOMER, "m-1", T0 + 1).await;

    // Act
    let mut subscription = app
        .subscribe(
            "subscription($p: ID!, $after: String) { conversationUpdated(pageId: $p, after: $after) { lastMessageText position } }",
            json!({ "p": PAGE, "after": after }),
        )
        .await;

    // Assert: the change made while it was not subscribed arrives first.
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("conversationUpdated");
    assert_eq!(event["conversationUpdated"]["lastMessageText"], "m-1");
    assert!(event["conversationUpdated"]["position"].is_string());
}

#[tokio::test]
async fn without_after_a_subscription_starts_with_the_next_change() {
    // Arrange: history exists before the subscription.
    let app = spawn_app().await;
    customer_writes(&app, CUSTOMER, "m-0", T0).await;
    let mut subscription = app.subscribe(PAGE_EVENTS, json!({ "p": PAGE })).await;

    // Act
    customer_writes(&app, CUSTOMER, "m-1", T0 + 1).await;

    // Assert
    let items = until_messages(&mut subscription, 1).await;
    assert_eq!(added_mids(&items), ["m-1"]);
}

/// Counts rows with `sql` (`SELECT COUNT(*) AS n ...`).
async fn count(app: &TestApp, sql: &str) -> i64 {
    let rows = app
        .db()
        .query_all_raw(Statement::from_string(
            app.db().get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("counting rows");
    rows[0].try_get("", "n").expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_through_several_writers_keep_the_log_whole_and_in_order() {
    // Arrange: three writers (PostgreSQL's default is two; SQLite always has one) and
    // small groups, so many transactions overlap; a subscriber is live from the start.
    let app = spawn_app_with(|config| {
        config.ingest_writers = 3;
        config.ingest_group_max = 8;
    })
    .await;
    customer_writes(&app, CUSTOMER, "m-warm", T0).await;
    let start: i64 = event_position(&app).await.parse().expect("a number");
    let mut live = app
        .subscribe(
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": start.to_string() }),
        )
        .await;
    // 60 deliveries from 300 customers: 50 customer messages, an agent's reply sent from
    // Facebook's own inbox (an echo) and a delivery watermark each. Every third repeats
    // the one before it, as a Facebook retry racing the original. (Many conversations per
    // transaction: PostgreSQL then updates them in its own order, not the statement's.)
    let psid = |n: usize| format!("77{:04}", n % 300);
    let bodies: Vec<Value> = (0..60usize)
        .map(|n| {
            let k = if n % 3 == 2 { n - 1 } else { n };
            let at = T0 + 100 + 100 * k as i64;
            let mut events: Vec<Value> = (0..50)
                .map(|j| {
                    let mid = format!("c-{k}-{j}");
                    message(PAGE, &psid(7 * k + j), &mid, &mid, at + j as i64)
                })
                .collect();
            events.push(echo(PAGE, &psid(k), &format!("e-{k}"), "on it", at + 50));
            events.push(delivery(PAGE, &psid(k), at + 60));
            batch(PAGE, events)
        })
        .collect();

    // Act
    let responses = futures::future::join_all(bodies.iter().map(|b| app.post_webhook(b))).await;

    // Assert: every delivery acknowledged; 40 distinct deliveries of 51 messages stored once.
    for response in &responses {
        assert_eq!(response.status, 200, "{response:?}");
    }
    let stored = 1 + 40 * 51;
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM messages").await,
        stored
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM page_events WHERE kind = 'MESSAGE_ADDED'"
        )
        .await,
        stored
    );
    // The log has no hole: as many entries as its last position.
    let head: i64 = event_position(&app).await.parse().expect("a number");
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM page_events").await,
        head
    );
    // The live subscriber got every new message once, with consecutive positions.
    let seen = until_messages(&mut live, 40 * 51).await;
    let mids = added_mids(&seen);
    let distinct: std::collections::HashSet<&String> = mids.iter().collect();
    assert_eq!(distinct.len(), 40 * 51, "a message was repeated");
    let got = positions(&seen);
    let expected: Vec<i64> = (start + 1..start + 1 + got.len() as i64).collect();
    assert_eq!(got, expected, "positions must be consecutive, in order");
    // No group failed on the way (a deadlock between writers would, and be retried).
    let metrics = app.get("/metrics").await;
    assert!(
        metrics
            .body
            .contains("messengerflow_ingest_group_failures_total 0"),
        "{}",
        metrics.body
    );
}

#[tokio::test]
async fn events_an_instance_committed_but_never_published_still_reach_live_subscribers() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};
    // Arrange: a live subscriber; then another instance commits a customer's message with
    // its log entry and dies before publishing it (done here on the database directly).
    let app = spawn_app().await;
    customer_writes(&app, CUSTOMER, "m-0", T0).await;
    let start = event_position(&app).await;
    let mut live = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": start }))
        .await;
    let conversation: i64 = id_of(&app.conversation_with(PAGE, CUSTOMER).await)
        .parse()
        .expect("a numeric id");

    // Act
    let txn = app.db().begin().await.expect("a transaction");
    let stored = entity::message::ActiveModel {
        page_id: Set(PAGE.to_owned()),
        conversation_id: Set(conversation),
        mid: Set("m-orphan".to_owned()),
        direction: Set(entity::message::Direction::Inbound),
        text: Set(Some("sent just before a crash".to_owned())),
        timestamp: Set(T0 + 1),
        status: Set(entity::message::Status::Sent),
        created_at: Set(T0 + 1),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .expect("storing the message");
    api::service::event_log::append(&txn, vec![api::bus::Change::MessageAdded(stored)], T0 + 1)
        .await
        .expect("appending its log entry");
    txn.commit().await.expect("committing");

    // Assert: nothing else happens on the Page, yet the subscriber gets it (the sweeper
    // republishes it from the log within two of its intervals).
    let event = live
        .next(Duration::from_secs(10))
        .await
        .expect("the orphaned message");
    assert_eq!(event["pageEvents"]["kind"], "MESSAGE_ADDED");
    assert_eq!(event["pageEvents"]["message"]["mid"], "m-orphan");
}

#[tokio::test]
async fn every_stored_message_has_exactly_one_entry_in_the_log_despite_retries() {
    // Arrange
    let app = spawn_app().await;
    let delivery = batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m-a", "a", T0),
            message(PAGE, CUSTOMER, "m-b", "b", T0 + 1),
        ],
    );

    // Act: Facebook delivers the same batch three times.
    for _ in 0..3 {
        app.ingest(&delivery).await;
    }

    // Assert
    let rows = app
        .db()
        .query_all_raw(Statement::from_string(
            app.db().get_database_backend(),
            "SELECT COUNT(*) AS n FROM page_events WHERE kind = 'MESSAGE_ADDED'".to_owned(),
        ))
        .await
        .expect("counting log entries");
    let n: i64 = rows[0].try_get("", "n").expect("a count");
    assert_eq!(n, 2);
}

#[tokio::test]
async fn after_older_than_the_retained_log_is_refused_with_position_expired() {
    // Arrange: a retention of one second, and events older than that.
    let app = spawn_app_with(|config| config.event_retention_secs = 1).await;
    customer_writes(&app, CUSTOMER, "m-0", T0).await;
    let backend = app.db().get_database_backend();
    eventually(Duration::from_secs(10), async || {
        let rows = app
            .db()
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM page_events".to_owned(),
            ))
            .await
            .expect("counting log entries");
        let n: i64 = rows[0].try_get("", "n").expect("a count");
        (n == 0)
            .then_some(())
            .ok_or(format!("the log was never pruned: {n} entries left"))
    })
    .await;

    // Act
    let refusal = app
        .subscription_refusal(
            Some(&app.admin_token),
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": "0" }),
        )
        .await
        .expect("a refusal");

    // Assert
    assert_eq!(error_code(&refusal), Some("POSITION_EXPIRED"), "{refusal}");
    // From the current position it still works.
    let now = event_position(&app).await;
    assert_ne!(now, "0");
    let mut subscription = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": now }))
        .await;
    customer_writes(&app, CUSTOMER, "m-1", T0 + 1).await;
    assert_eq!(
        added_mids(&until_messages(&mut subscription, 1).await),
        ["m-1"]
    );
}

#[tokio::test]
async fn after_that_was_never_given_out_is_refused() {
    // Arrange
    let app = spawn_app().await;
    customer_writes(&app, CUSTOMER, "m-0", T0).await;

    for after in ["999999", "-1", "abc", ""] {
        // Act
        let refusal = app
            .subscription_refusal(
                Some(&app.admin_token),
                PAGE_EVENTS,
                json!({ "p": PAGE, "after": after }),
            )
            .await
            .expect("a refusal");

        // Assert
        assert_eq!(
            error_code(&refusal),
            Some("BAD_USER_INPUT"),
            "{after}: {refusal}"
        );
    }
}
