//! The Send API: success shape, validation, messaging windows, tokens, throttling.

mod common;

use common::{assert_graph_error, fast_config, spawn_sim, text_message};
use reqwest::{Method, StatusCode};
use serde_json::json;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

#[tokio::test]
async fn a_reply_within_24_hours_answers_recipient_id_and_message_id() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!"})).await;

    let (status, body) = sim
        .send(text_message(&psid, "Hello, how can I help?"))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["recipient_id"], psid.as_str());
    let mid = body["message_id"].as_str().unwrap();
    assert!(mid.starts_with("m_"), "{mid}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    let sent = sim
        .control(
            Method::GET,
            &format!("/pages/{}/sent", sim.page_id),
            json!(null),
        )
        .await;
    assert_eq!(sent["data"][0]["mid"], mid);
    assert_eq!(sent["data"][0]["text"], "Hello, how can I help?");
}

#[tokio::test]
async fn text_of_2001_characters_is_refused_with_code_100() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!"})).await;

    let (status, body) = sim.send(text_message(&psid, &"ä".repeat(2001))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, None);

    let (status, _) = sim.send(text_message(&psid, &"ä".repeat(2000))).await;
    assert_eq!(status, StatusCode::OK, "2000 characters are allowed");
}

#[tokio::test]
async fn a_reply_after_24_hours_is_outside_the_window() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!", "ago_secs": DAY + 60}))
        .await;

    let (status, body) = sim.send(text_message(&psid, "Sorry for the wait")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 10, Some(2_018_278));
    assert_eq!(body["error"]["type"], "OAuthException");
}

#[tokio::test]
async fn human_agent_tag_reaches_a_customer_within_7_days() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!", "ago_secs": 6 * DAY}))
        .await;

    let (status, body) = sim
        .send(json!({
            "recipient": {"id": psid},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": {"text": "A colleague looked into it."}
        }))
        .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["message_id"].is_string());
}

#[tokio::test]
async fn human_agent_tag_after_7_days_is_outside_the_window() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!", "ago_secs": 7 * DAY + 60}))
        .await;

    let (status, body) = sim
        .send(json!({
            "recipient": {"id": psid},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": {"text": "Too late"}
        }))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 10, Some(2_018_278));
}

#[tokio::test]
async fn a_revoked_token_gives_code_190() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!"})).await;
    sim.control(
        Method::POST,
        &format!("/pages/{}/revoke", sim.page_id),
        json!({}),
    )
    .await;

    let (status, body) = sim.send(text_message(&psid, "Hello")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 190, Some(460));
    assert_eq!(body["error"]["type"], "OAuthException");
    let (_, unknown) = sim
        .send_with("EAAGnot-a-token", text_message(&psid, "Hello"))
        .await;
    assert_graph_error(&unknown, 190, None);
}

#[tokio::test]
async fn an_unknown_recipient_gives_code_100_subcode_2018001() {
    let sim = spawn_sim(fast_config()).await;

    let (status, body) = sim.send(text_message("999999999", "Hello")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, Some(2_018_001));
}

#[tokio::test]
async fn invalid_requests_are_refused_with_code_100() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!"})).await;
    let bad = [
        json!({"recipient": {"id": psid}, "message": {"text": "no messaging_type"}}),
        json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": ""}}),
        json!({"recipient": {"id": psid}, "messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE", "message": {"text": "x"}}),
        json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "x", "metadata": "m".repeat(1000)}}),
        json!({"recipient": {"id": psid}, "sender_action": "typing_on", "message": {"text": "x"}}),
        json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"attachment": {"type": "image", "payload": {}}}}),
    ];
    for body in bad {
        let (status, answer) = sim.send(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_graph_error(&answer, 100, None);
    }
}

#[tokio::test]
async fn sender_actions_and_attachments_are_accepted() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!"})).await;

    let (status, body) = sim
        .send(json!({"recipient": {"id": psid}, "sender_action": "mark_seen"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"recipient_id": psid}));

    let (status, body) = sim
        .send(json!({
            "recipient": {"id": psid},
            "messaging_type": "RESPONSE",
            "message": {"attachment": {"type": "image", "payload": {"url": "https://example.com/a.jpg", "is_reusable": true}}}
        }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn sends_above_the_rate_limit_get_code_613() {
    let sim = spawn_sim(fast_config()).await;
    sim.control(Method::PUT, "/rate_limits", json!({"send_per_sec": 2}))
        .await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!"})).await;

    let mut codes = Vec::new();
    for n in 0..3 {
        let (status, body) = sim.send(text_message(&psid, &format!("reply {n}"))).await;
        codes.push((status, body["error"]["code"].as_u64()));
    }

    assert_eq!(codes[0], (StatusCode::OK, None));
    assert_eq!(codes[1], (StatusCode::OK, None));
    assert_eq!(codes[2], (StatusCode::BAD_REQUEST, Some(613)));
}
