//! Faults and rough paging over HTTP: `POST /_sim/faults` answers a Graph call with the
//! armed error and its headers; `PUT /_sim/paging` pages short, empty and stale.

mod common;

use axum::http::StatusCode;
use common::{assert_graph_error, fast_config, spawn_sim, text_message};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn an_armed_throttle_answers_with_its_usage_header_then_disarms() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi", "webhook": false}))
        .await;
    sim.control(
        Method::POST,
        "/faults",
        json!({"code": 80006, "surface": "send", "times": 1, "estimated_time_to_regain_access": 7}),
    )
    .await;
    let url = format!("{}/{}/messages", sim.handle.base_url(), sim.page_id);

    let throttled = sim
        .http
        .post(&url)
        .bearer_auth(&sim.token)
        .json(&text_message(&psid, "Hello"))
        .send()
        .await
        .unwrap();
    let status = throttled.status().as_u16();
    let usage: Value = serde_json::from_str(
        throttled.headers()["x-business-use-case-usage"]
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let body: Value = throttled.json().await.unwrap();
    let (after, sent) = sim.send(text_message(&psid, "Hello again")).await;

    assert_eq!(status, 400);
    assert_graph_error(&body, 80006, None);
    assert_eq!(body["error"]["is_transient"], true);
    assert_eq!(usage[&sim.page_id][0]["type"], "messenger");
    assert_eq!(usage[&sim.page_id][0]["estimated_time_to_regain_access"], 7);
    assert_eq!(after, StatusCode::OK, "{sent}");
    let stored = sim
        .control(
            Method::GET,
            &format!("/pages/{}/sent", sim.page_id),
            json!({}),
        )
        .await;
    assert_eq!(
        stored["data"].as_array().unwrap().len(),
        1,
        "the throttled send stored nothing"
    );
}

#[tokio::test]
async fn a_fault_for_one_psid_leaves_the_others_alone() {
    let sim = spawn_sim(fast_config()).await;
    let blocked = sim.customer(json!({})).await;
    let other = sim.customer(json!({})).await;
    for psid in [&blocked, &other] {
        sim.customer_says(psid, json!({"text": "Hi", "webhook": false}))
            .await;
    }
    sim.control(
        Method::POST,
        "/faults",
        json!({"code": 551, "psid": blocked}),
    )
    .await;

    let (refused, body) = sim.send(text_message(&blocked, "Hello")).await;
    let (sent, _) = sim.send(text_message(&other, "Hello")).await;

    assert_eq!(refused, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 551, Some(1_545_041));
    assert_eq!(body["error"]["is_transient"], false);
    assert_eq!(sent, StatusCode::OK);
    let armed = sim.control(Method::GET, "/faults", json!({})).await;
    assert_eq!(armed["data"][0]["answered"], 1, "{armed}");
}

#[tokio::test]
async fn rough_paging_gives_short_and_empty_pages_caps_the_limit_and_expires_cursors() {
    let sim = spawn_sim(simulator::SimConfig {
        rate_limits: simulator::RateLimits::off(),
        ..fast_config()
    })
    .await;
    for _ in 0..7 {
        let psid = sim.customer(json!({})).await;
        sim.customer_says(&psid, json!({"text": "Hi", "webhook": false}))
            .await;
    }
    sim.control(
        Method::PUT,
        "/paging",
        json!({"max_page": 3, "empty_pages": true}),
    )
    .await;

    // Short pages and empty ones, until `next` is absent.
    let (_, mut page) = sim
        .graph_get(&format!("/{}/conversations?limit=500", sim.page_id))
        .await;
    let mut sizes = Vec::new();
    loop {
        sizes.push(page["data"].as_array().unwrap().len());
        let Some(next) = page["paging"]["next"].as_str().map(str::to_owned) else {
            break;
        };
        assert!(next.contains("limit=100"), "the limit is capped: {next}");
        page = sim.get_url(&next).await.1;
    }
    assert_eq!(sizes, vec![3, 0, 3, 0, 1]);

    // A cursor refused as expired.
    sim.control(Method::PUT, "/paging", json!({"expire_next": 1}))
        .await;
    let (_, first) = sim
        .graph_get(&format!("/{}/conversations?limit=2", sim.page_id))
        .await;
    let next = first["paging"]["next"].as_str().unwrap().to_owned();
    let (status, expired) = sim.get_url(&next).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&expired, 100, None);
    let (again, _) = sim.get_url(&next).await;
    assert_eq!(again, StatusCode::OK, "expire_next counts down");
}
