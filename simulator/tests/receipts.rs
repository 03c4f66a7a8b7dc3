//! Receipts as Facebook sends them: deliveries with or without `mids`, watermarks per thread
//! and cumulative, and (in `stale_reads` mode) reads that come again, late and lower.

mod common;

use common::{Receiver, fast_config, spawn_sim, text_message};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn sim_with_receiver() -> (common::TestSim, Receiver) {
    let receiver = Receiver::start().await;
    let sim = spawn_sim(fast_config()).await;
    sim.control(Method::PUT, "/webhook", json!({"url": receiver.url}))
        .await;
    sim.subscribe("message_deliveries,message_reads").await;
    (sim, receiver)
}

/// The Page sends `text` to `psid` (who wrote, so the window is open); the message's time.
async fn page_sends(sim: &common::TestSim, psid: &str, text: &str) -> i64 {
    let (status, sent) = sim.send(text_message(psid, text)).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let mid = sent["message_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no message_id in {sent}"));
    let stored = sim
        .control(
            Method::GET,
            &format!("/pages/{}/sent", sim.page_id),
            json!({}),
        )
        .await;
    stored["data"]
        .as_array()
        .and_then(|sent| sent.iter().find(|m| m["mid"] == mid))
        .and_then(|m| m["timestamp"].as_i64())
        .unwrap_or_else(|| panic!("{mid} is not in {stored}"))
}

fn watermarks(events: &[Value], kind: &str) -> Vec<i64> {
    events
        .iter()
        .filter_map(|e| e[kind]["watermark"].as_i64())
        .collect()
}

#[tokio::test]
async fn deliveries_without_mids_carry_only_the_threads_cumulative_watermark() {
    let (sim, mut receiver) = sim_with_receiver().await;
    sim.control(Method::PUT, "/receipts", json!({"mids": "never"}))
        .await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi"})).await;

    let first = page_sends(&sim, &psid, "one").await;
    let events = receiver
        .events_until(|events| watermarks(events, "read").len() == 1)
        .await;
    let second = page_sends(&sim, &psid, "two").await;
    let more = receiver
        .events_until(|events| watermarks(events, "read").len() == 1)
        .await;

    let deliveries: Vec<&Value> = events
        .iter()
        .chain(&more)
        .filter(|e| e.get("delivery").is_some())
        .collect();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    for delivery in &deliveries {
        assert!(delivery["delivery"].get("mids").is_none(), "{delivery}");
    }
    assert_eq!(watermarks(&events, "delivery"), [first]);
    assert_eq!(watermarks(&more, "delivery"), [second]);
}

#[tokio::test]
async fn stale_reads_repeat_the_latest_then_bring_the_earlier_lower_ones_again() {
    let (sim, mut receiver) = sim_with_receiver().await;
    sim.control(
        Method::PUT,
        "/receipts",
        json!({"mids": "always", "stale_reads": true}),
    )
    .await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi"})).await;

    let first = page_sends(&sim, &psid, "one").await;
    let events = receiver
        .events_until(|events| watermarks(events, "read").len() == 2)
        .await;
    let second = page_sends(&sim, &psid, "two").await;
    let more = receiver
        .events_until(|events| watermarks(events, "read").len() == 3)
        .await;

    assert_eq!(watermarks(&events, "read"), [first, first]);
    assert_eq!(watermarks(&more, "read"), [second, second, first]);
    let delivery = more.iter().find(|e| e.get("delivery").is_some()).unwrap();
    assert_eq!(delivery["delivery"]["mids"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_receipt_mode_is_read_back_and_a_reset_restores_the_default() {
    let (sim, _receiver) = sim_with_receiver().await;

    let set = sim
        .control(Method::PUT, "/receipts", json!({"stale_reads": true}))
        .await;
    let read = sim.control(Method::GET, "/receipts", json!({})).await;
    sim.control(Method::POST, "/reset", json!({})).await;
    let after_reset = sim.control(Method::GET, "/receipts", json!({})).await;

    assert_eq!(
        set,
        json!({"mids": "random", "reads": true, "stale_reads": true})
    );
    assert_eq!(read, set);
    assert_eq!(
        after_reset,
        json!({"mids": "random", "reads": true, "stale_reads": false})
    );
}
