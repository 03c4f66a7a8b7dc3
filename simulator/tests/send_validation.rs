//! The Send API as strict as Facebook: quick replies, templates, `notification_type`,
//! `attachment_id`s, and files (the Attachment Upload API and `filedata` on the Send API).

// Test helpers panic on purpose: a failed request is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestSim, assert_graph_error, fast_config, spawn_sim};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn sim_with_customer() -> (TestSim, String) {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi!"})).await;
    (sim, psid)
}

fn with_quick_replies(psid: &str, replies: Value) -> Value {
    json!({
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {"text": "Pick one", "quick_replies": replies}
    })
}

fn text_reply(title: &str, payload: &str) -> Value {
    json!({"content_type": "text", "title": title, "payload": payload})
}

fn template(psid: &str, payload: Value) -> Value {
    json!({
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {"attachment": {"type": "template", "payload": payload}}
    })
}

async fn sent_count(sim: &TestSim) -> usize {
    let sent = sim
        .control(
            Method::GET,
            &format!("/pages/{}/sent", sim.page_id),
            json!(null),
        )
        .await;
    sent["data"].as_array().unwrap().len()
}

/// A multipart POST to `edge` of the Page, with `fields` and a `filedata` part.
async fn multipart(
    sim: &TestSim,
    edge: &str,
    fields: &[(&str, Value)],
    file: Option<(&[u8], &str, &str)>,
) -> (StatusCode, Value) {
    let mut form = Form::new();
    for (name, value) in fields {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        form = form.text(name.to_string(), text);
    }
    if let Some((bytes, mime, name)) = file {
        let part = Part::bytes(bytes.to_vec())
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap();
        form = form.part("filedata", part);
    }
    let url = format!("{}/{}/{edge}", sim.handle.base_url(), sim.page_id);
    let response = sim
        .http
        .post(url)
        .bearer_auth(&sim.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    (status, response.json().await.unwrap())
}

async fn uploads(sim: &TestSim) -> Vec<Value> {
    let listed = sim
        .control(
            Method::GET,
            &format!("/pages/{}/attachments", sim.page_id),
            json!(null),
        )
        .await;
    listed["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn thirteen_quick_replies_are_sent_and_a_fourteenth_is_refused_with_code_100() {
    let (sim, psid) = sim_with_customer().await;
    let thirteen: Vec<Value> = (0..13)
        .map(|n| text_reply(&format!("Option {n}"), "P"))
        .collect();

    let (status, body) = sim.send(with_quick_replies(&psid, json!(thirteen))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let fourteen: Vec<Value> = (0..14)
        .map(|n| text_reply(&format!("Option {n}"), "P"))
        .collect();
    let (status, body) = sim.send(with_quick_replies(&psid, json!(fourteen))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, None);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("13"),
        "{body}"
    );
    assert_eq!(
        sent_count(&sim).await,
        1,
        "the refused message was not sent"
    );
}

#[tokio::test]
async fn quick_replies_follow_their_documented_rules() {
    let (sim, psid) = sim_with_customer().await;
    let refused = [
        json!([]),
        json!([{"content_type": "location"}]),
        json!([{"content_type": "text", "payload": "P"}]),
        json!([{"content_type": "text", "title": "", "payload": "P"}]),
        json!([text_reply(&"x".repeat(21), "P")]),
        json!([{"content_type": "text", "title": "Red"}]),
        json!([text_reply("Red", &"p".repeat(1001))]),
    ];
    for replies in refused {
        let (status, body) = sim.send(with_quick_replies(&psid, replies.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{replies}");
        assert_graph_error(&body, 100, None);
    }
    let accepted = [
        json!([text_reply(&"x".repeat(20), &"p".repeat(1000))]),
        json!([{"content_type": "user_email"}, {"content_type": "user_phone_number"}]),
        json!([{"content_type": "text", "title": "", "payload": "", "image_url": "https://example.com/red.png"}]),
        json!([{"content_type": "text", "title": "Seven", "payload": 7}]),
    ];
    for replies in accepted {
        let (status, body) = sim.send(with_quick_replies(&psid, replies.clone())).await;
        assert_eq!(status, StatusCode::OK, "{replies}: {body}");
    }
}

#[tokio::test]
async fn templates_missing_a_field_or_over_their_counts_are_refused() {
    let (sim, psid) = sim_with_customer().await;
    let button = json!({"type": "postback", "title": "Start", "payload": "START"});
    let refused = [
        json!({"elements": [{"title": "No type"}]}),
        json!({"template_type": "generic", "elements": [{"subtitle": "No title"}]}),
        json!({"template_type": "generic", "elements": [{"title": "Only a title"}]}),
        json!({"template_type": "generic", "elements": []}),
        json!({"template_type": "generic", "elements": vec![json!({"title": "T", "subtitle": "S"}); 11]}),
        json!({"template_type": "generic", "elements": [{"title": "x".repeat(81), "subtitle": "S"}]}),
        json!({"template_type": "generic", "elements": [{"title": "T", "buttons": vec![button.clone(); 4]}]}),
        json!({"template_type": "button", "buttons": [button.clone()]}),
        json!({"template_type": "button", "text": "No buttons", "buttons": []}),
        json!({"template_type": "button", "text": "x".repeat(641), "buttons": [button.clone()]}),
        json!({"template_type": "button", "text": "Go", "buttons": [{"type": "web_url", "title": "Open"}]}),
        json!({"template_type": "button", "text": "Go", "buttons": [{"type": "postback", "title": "No payload"}]}),
        json!({"template_type": "button", "text": "Go", "buttons": [{"type": "teleport", "title": "T"}]}),
    ];
    for payload in refused {
        let (status, body) = sim.send(template(&psid, payload.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{payload}");
        assert_graph_error(&body, 100, None);
    }
    let accepted = [
        json!({"template_type": "generic", "elements": vec![json!({"title": "T", "subtitle": "S", "buttons": vec![button.clone(); 3]}); 10]}),
        json!({"template_type": "button", "text": "x".repeat(640), "buttons": [button.clone(), {"type": "web_url", "url": "https://example.com", "title": "Open"}]}),
    ];
    for payload in accepted {
        let (status, body) = sim.send(template(&psid, payload.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(sent_count(&sim).await, 2);
}

#[tokio::test]
async fn notification_type_must_be_regular_silent_push_or_no_push() {
    let (sim, psid) = sim_with_customer().await;
    for kind in ["REGULAR", "SILENT_PUSH", "NO_PUSH", "no_push"] {
        let (status, body) = sim
            .send(json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "notification_type": kind, "message": {"text": "x"}}))
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
    }
    let (status, body) = sim
        .send(json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "notification_type": "LOUD", "message": {"text": "x"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, None);
}

#[tokio::test]
async fn an_attachment_id_must_exist_for_the_page_that_sends_it() {
    let (sim, psid) = sim_with_customer().await;
    let by_id = |id: &str| {
        json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE",
               "message": {"attachment": {"type": "image", "payload": {"attachment_id": id}}}})
    };
    let (status, body) = sim.send(by_id("1234567890")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, None);

    // Another Page's upload is not this Page's to send.
    let other = sim
        .control(
            Method::POST,
            "/pages",
            json!({"id": "2000002", "name": "Other"}),
        )
        .await;
    let url = format!("{}/2000002/message_attachments", sim.handle.base_url());
    let theirs: Value = sim
        .http
        .post(url)
        .bearer_auth(other["access_token"].as_str().unwrap())
        .json(&json!({"message": {"attachment": {"type": "image", "payload": {"url": "https://example.com/a.png", "is_reusable": true}}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let theirs = theirs["attachment_id"].as_str().unwrap().to_owned();
    let (status, body) = sim.send(by_id(&theirs)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_graph_error(&body, 100, None);
    assert_eq!(sent_count(&sim).await, 0);
}

#[tokio::test]
async fn a_file_uploaded_with_the_attachment_upload_api_is_sent_by_its_id() {
    let (sim, psid) = sim_with_customer().await;
    let message = json!({"attachment": {"type": "image", "payload": {"is_reusable": true}}});
    let (status, body) = multipart(
        &sim,
        "message_attachments",
        &[("message", message)],
        Some((PNG, "image/png", "dot.png")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["attachment_id"].as_str().unwrap().to_owned();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");

    for _ in 0..2 {
        let (status, body) = sim
            .send(json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE",
                         "message": {"attachment": {"type": "image", "payload": {"attachment_id": id}}}}))
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a reusable id is sent again and again: {body}"
        );
    }
    let listed = uploads(&sim).await;
    assert_eq!(listed[0]["attachment_id"], id.as_str());
    assert_eq!(listed[0]["mime_type"], "image/png");
    assert_eq!(listed[0]["sha256"], hex::encode(Sha256::digest(PNG)));
    assert_eq!(listed[0]["sends"], 2);

    let sent = sim
        .control(
            Method::GET,
            &format!("/pages/{}/sent", sim.page_id),
            json!(null),
        )
        .await;
    let url = sent["data"][0]["attachments"][0]["payload"]["url"]
        .as_str()
        .unwrap();
    let served = sim.http.get(url).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test]
async fn the_send_api_takes_a_file_as_filedata() {
    let (sim, psid) = sim_with_customer().await;
    let fields = [
        ("recipient", json!({"id": psid})),
        ("messaging_type", json!("RESPONSE")),
        (
            "message",
            json!({"attachment": {"type": "file", "payload": {"is_reusable": false}}}),
        ),
    ];
    let (status, body) = multipart(
        &sim,
        "messages",
        &fields,
        Some((b"%PDF-1.7 hello", "application/pdf", "a.pdf")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["message_id"].as_str().unwrap().starts_with("m_"));
    assert!(
        body.get("attachment_id").is_none(),
        "not reusable: no id: {body}"
    );
    let listed = uploads(&sim).await;
    assert_eq!(listed[0]["file_name"], "a.pdf");
    assert_eq!(listed[0]["size"], 14);

    let reusable = [
        ("recipient", json!({"id": psid})),
        ("messaging_type", json!("RESPONSE")),
        (
            "message",
            json!({"attachment": {"type": "image", "payload": {"is_reusable": true}}}),
        ),
    ];
    let (status, body) = multipart(
        &sim,
        "messages",
        &reusable,
        Some((PNG, "image/png", "dot.png")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["attachment_id"].as_str().is_some(), "{body}");
}

#[tokio::test]
async fn a_file_of_the_wrong_type_empty_or_over_25_mb_is_refused() {
    let (sim, psid) = sim_with_customer().await;
    let fields = |kind: &str| {
        [
            ("recipient", json!({"id": psid})),
            ("messaging_type", json!("RESPONSE")),
            (
                "message",
                json!({"attachment": {"type": kind, "payload": {}}}),
            ),
        ]
    };
    let (status, body) = multipart(
        &sim,
        "messages",
        &fields("image"),
        Some((b"%PDF-1.7", "application/pdf", "a.png")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, Some(2_018_047));
    let (status, body) = multipart(
        &sim,
        "messages",
        &fields("audio"),
        Some((PNG, "image/png", "a.mp3")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, Some(2_018_047));
    let (status, body) = multipart(
        &sim,
        "messages",
        &fields("file"),
        Some((b"", "text/plain", "empty.txt")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, Some(2_018_047));
    let big = vec![b'a'; 25 * 1024 * 1024 + 1];
    let (status, body) = multipart(
        &sim,
        "messages",
        &fields("file"),
        Some((&big, "text/plain", "big.txt")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, Some(2_018_047));
    let (status, body) = multipart(&sim, "messages", &fields("file"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no url, id or filedata");
    assert_graph_error(&body, 100, None);

    assert_eq!(sent_count(&sim).await, 0);
    assert!(uploads(&sim).await.is_empty(), "nothing refused was kept");
}
