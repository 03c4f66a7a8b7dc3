//! A subscriber that stops reading delays nobody else, and past a bound it is
//! disconnected with close code 4100 (resume with `after`). On shutdown, subscription
//! connections are closed with 1001 ("going away").
use std::time::Duration;

use mf_tests::eventually;
use mf_tests::webhook::{batch, message};
use mf_tests::ws::Subscription;
use mf_tests::{CUSTOMER, PAGE, T0, TIMEOUT, spawn_app, spawn_app_with};
use serde_json::json;

const PAGE_EVENTS: &str =
    "subscription($p: ID!) { pageEvents(pageId: $p) { position kind message { mid text } } }";

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_disconnected_with_4100_and_delays_nobody() {
    // Arrange: a small send queue; one subscriber that never reads (with a small socket
    // buffer), one that does.
    let app = spawn_app_with(|config| config.ws_send_queue = 8).await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-0", "hi", T0)]))
        .await;
    let mut stalled = Subscription::start_with(
        &app.ws_url(),
        Some(&app.admin_token),
        PAGE_EVENTS,
        json!({ "p": PAGE }),
        Some(4096),
    )
    .await
    .expect("subscribing");
    let mut reader = app.subscribe(PAGE_EVENTS, json!({ "p": PAGE })).await;
    let posts = 40;
    let per_post = 50;
    // The reading subscriber reads all along, as a live inbox does.
    let reading = tokio::spawn(async move {
        let mut received = 0;
        while received < posts * per_post {
            let event = reader.next(TIMEOUT).await.expect("a page event");
            if event["pageEvents"]["kind"] == "MESSAGE_ADDED" {
                received += 1;
            }
        }
        received
    });

    // Act: enough events (with long texts) to fill the stalled client's buffers.
    let text = "x".repeat(1500);
    for post in 0..posts {
        let events: Vec<_> = (0..per_post)
            .map(|n| {
                let i = post * per_post + n;
                message(
                    PAGE,
                    CUSTOMER,
                    &format!("m-{}", i + 1),
                    &text,
                    T0 + 1 + i as i64,
                )
            })
            .collect();
        app.ingest(&batch(PAGE, events)).await;
    }

    // Assert: the reading subscriber got every message...
    assert_eq!(reading.await.expect("the reader"), posts * per_post);
    // ...the stalled one was cut off (the server counts it), and once it reads again
    // it finds the close code telling it to resume.
    eventually(Duration::from_secs(10), async || {
        let metrics = app.get("/metrics").await.body;
        metrics
            .contains("messengerflow_ws_slow_disconnects_total 1")
            .then_some(())
            .ok_or(format!(
                "the stalled subscriber was never disconnected:\n{metrics}"
            ))
    })
    .await;
    let code = stalled
        .close_code(Duration::from_secs(20))
        .await
        .expect("the connection ends");
    assert_eq!(code, Some(4100));
}

#[tokio::test]
async fn shutting_down_closes_subscriptions_with_going_away() {
    // Arrange
    let mut app = spawn_app().await;
    let mut subscription = app.subscribe(PAGE_EVENTS, json!({ "p": PAGE })).await;

    // Act
    app.shut_down();

    // Assert
    let code = subscription
        .close_code(Duration::from_secs(10))
        .await
        .expect("the connection ends");
    assert_eq!(code, Some(1001));
}
