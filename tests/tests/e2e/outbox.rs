//! The outbox: Page events reach the bus from the committed event log, so events
//! committed while Redis is down are delivered once it is back, and a subscriber that
//! resumes misses none. Each test runs its own `redis-server`, which it stops and starts
//! again on the same port (`scripts/test` installs it; without it the tests are skipped,
//! unless the suite runs on Redis, where a missing server is a failure).
use std::time::Duration;

use mf_tests::eventually;
use mf_tests::own_redis::OwnRedis;
use mf_tests::webhook::{batch, message};
use mf_tests::ws::Subscription;
use mf_tests::{CUSTOMER, OTHER_CUSTOMER, PAGE, T0, TestApp, spawn_app_with};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const PAGE_EVENTS: &str = "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) { \
    position kind message { mid } } }";

async fn app_on(redis: &OwnRedis) -> TestApp {
    let url = redis.url();
    spawn_app_with(move |config| {
        config.redis_url = Some(url);
        config.redis_channel = "mf-outbox-test".to_owned();
    })
    .await
}

async fn event_position(app: &TestApp) -> String {
    let data = app
        .gql_data("{ pages { id eventPosition } }", json!({}))
        .await;
    data["pages"][0]["eventPosition"]
        .as_str()
        .expect("eventPosition")
        .to_owned()
}

/// The mids of the next `count` MESSAGE_ADDED items, and the last position read.
async fn added(subscription: &mut Subscription, count: usize) -> (Vec<String>, String) {
    let mut mids = Vec::new();
    let mut last = String::new();
    while mids.len() < count {
        let event = subscription.next(WAIT).await.expect("a page event");
        let item: &Value = &event["pageEvents"];
        last = item["position"].as_str().expect("position").to_owned();
        if item["kind"] == "MESSAGE_ADDED" {
            mids.push(item["message"]["mid"].as_str().expect("mid").to_owned());
        }
    }
    (mids, last)
}

#[tokio::test]
async fn events_committed_while_redis_is_down_are_delivered_once_it_is_back() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    // Arrange: one subscriber stays connected; another went away at a known position.
    let app = app_on(&redis).await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-0", "hi", T0)]))
        .await;
    let start = event_position(&app).await;
    let mut staying = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": start }))
        .await;

    // Act: Redis goes down; customers write (each delivery acknowledged, so committed);
    // Redis comes back.
    redis.stop();
    let mut acknowledged = Vec::new();
    for n in 1..=20 {
        let psid = if n % 2 == 0 { CUSTOMER } else { OTHER_CUSTOMER };
        let mid = format!("m-{n}");
        app.ingest(&batch(
            PAGE,
            [message(PAGE, psid, &mid, "while down", T0 + n)],
        ))
        .await;
        acknowledged.push(mid);
    }
    let health = app.get("/health").await;
    assert_eq!(health.status, 503, "{health:?}");
    assert_eq!(health.json()["bus"], "unavailable");
    redis.run();

    // Assert: the connected subscriber gets every one, once, in order...
    let (mids, _) = added(&mut staying, acknowledged.len()).await;
    assert_eq!(mids, acknowledged);
    // ...and so does one that resumes from before the outage.
    let mut resumed = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": start }))
        .await;
    let (mids, _) = added(&mut resumed, acknowledged.len()).await;
    assert_eq!(mids, acknowledged);
    // Live events flow again, and nothing is repeated.
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-after", "back", T0 + 100)],
    ))
    .await;
    let (mids, _) = added(&mut staying, 1).await;
    assert_eq!(mids, ["m-after"]);
    eventually(WAIT, async || {
        let health = app.get("/health").await;
        (health.status == 200)
            .then_some(())
            .ok_or(format!("the bus never recovered: {health:?}"))
    })
    .await;
}

#[tokio::test]
async fn a_subscriber_on_another_instance_resumes_without_loss_after_a_redis_restart() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    // Arrange: two instances on one database and one Redis; the subscriber is on two.
    let one = app_on(&redis).await;
    let (database_url, url) = (one.database_url.clone(), redis.url());
    let two = spawn_app_with(move |config| {
        config.database_url = database_url;
        config.redis_url = Some(url);
        config.redis_channel = "mf-outbox-test".to_owned();
    })
    .await;
    one.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-0", "hi", T0)]))
        .await;
    let start = event_position(&two).await;
    let mut subscriber = two
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": start }))
        .await;

    // Act: Redis restarts while webhooks keep arriving at instance one.
    let mut acknowledged = Vec::new();
    for n in 1..=30 {
        if n == 10 {
            redis.stop();
        }
        if n == 20 {
            redis.run();
        }
        let mid = format!("m-{n}");
        one.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, &mid, "x", T0 + n)]))
            .await;
        acknowledged.push(mid);
    }

    // Assert: all of them reach the other instance's subscriber, once, in order.
    let (mids, mut last) = added(&mut subscriber, acknowledged.len()).await;
    assert_eq!(mids, acknowledged);
    // The rest of the log (the conversation's last update), then nothing more.
    let head = event_position(&two).await;
    while last != head {
        let event = subscriber.next(WAIT).await.expect("a page event");
        assert_ne!(
            event["pageEvents"]["kind"], "MESSAGE_ADDED",
            "a repeat: {event}"
        );
        last = event["pageEvents"]["position"]
            .as_str()
            .expect("position")
            .to_owned();
    }
    subscriber.expect_nothing(Duration::from_millis(300)).await;
}
