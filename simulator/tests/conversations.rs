//! The Conversations API: paging, field expansion, throttling, and Graph's errors.

mod common;

use std::collections::HashSet;

use common::{assert_graph_error, fast_config, spawn_sim};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use simulator::RateLimits;

fn without_limits() -> simulator::SimConfig {
    simulator::SimConfig {
        rate_limits: RateLimits::off(),
        ..fast_config()
    }
}

#[tokio::test]
async fn paging_through_230_conversations_sees_each_once_newest_first() {
    let sim = spawn_sim(without_limits()).await;
    let path = format!("/pages/{}/seed", sim.page_id);
    let seeded = sim
        .control(
            Method::POST,
            &path,
            json!({"conversations": 230, "messages_per_conversation": 2}),
        )
        .await;
    assert_eq!(seeded["conversations"], 230);

    let (status, mut body) = sim
        .graph_get(&format!(
            "/{}/conversations?platform=messenger&fields=id,updated_time,participants&limit=25",
            sim.page_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut seen = Vec::new();
    let mut pages = 1;
    loop {
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 25);
        for thread in data {
            assert!(thread["id"].as_str().unwrap().starts_with("t_"));
            assert_eq!(thread["participants"]["data"].as_array().unwrap().len(), 2);
            seen.push((
                thread["id"].as_str().unwrap().to_owned(),
                thread["updated_time"].as_str().unwrap().to_owned(),
            ));
        }
        let cursors = &body["paging"]["cursors"];
        assert!(
            cursors["before"].is_string() && cursors["after"].is_string(),
            "{body}"
        );
        let Some(next) = body["paging"]["next"].as_str() else {
            break;
        };
        assert!(
            next.contains("after=") && next.contains("limit=25") && next.contains("fields="),
            "{next}"
        );
        let (status, next_body) = sim.get_url(next).await;
        assert_eq!(status, StatusCode::OK, "{next_body}");
        body = next_body;
        pages += 1;
    }

    assert_eq!(pages, 10);
    assert_eq!(seen.len(), 230);
    let unique: HashSet<&String> = seen.iter().map(|(id, _)| id).collect();
    assert_eq!(unique.len(), 230, "every conversation exactly once");
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = seen
        .iter()
        .map(|(_, t)| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[tokio::test]
async fn messages_page_newest_first_and_expand_inside_conversations() {
    let sim = spawn_sim(without_limits()).await;
    let psid = sim
        .customer(json!({"first_name": "Jörg", "last_name": "Müller"}))
        .await;
    for n in 0..5u64 {
        let ago = (10 - n) * 60;
        sim.customer_says(
            &psid,
            json!({"text": format!("message {n}"), "ago_secs": ago, "webhook": false}),
        )
        .await;
    }
    sim.customer_says(
        &psid,
        json!({"attachments": [{"type": "image", "url": "https://cdn.example/p.jpg"}], "webhook": false}),
    )
    .await;

    let fields = "messages.limit(2){id,created_time,from,to,message,attachments},message_count,unread_count,snippet";
    let (status, body) = sim
        .graph_get(&format!("/{}/conversations?fields={fields}", sim.page_id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let thread = &body["data"][0];
    assert_eq!(thread["message_count"], 6);
    assert_eq!(thread["unread_count"], 6);
    let inline = &thread["messages"];
    assert_eq!(inline["data"].as_array().unwrap().len(), 2);
    let newest = &inline["data"][0];
    assert_eq!(newest["message"], "");
    assert_eq!(
        newest["attachments"]["data"][0]["image_data"]["url"],
        "https://cdn.example/p.jpg"
    );
    assert_eq!(
        newest["from"],
        json!({"name": "Jörg Müller", "email": format!("{psid}@facebook.com"), "id": psid})
    );
    assert_eq!(newest["to"]["data"][0]["id"], sim.page_id.as_str());
    assert_eq!(inline["data"][1]["message"], "message 4");

    // The inline `next` continues in /{thread}/messages with the same sub-fields.
    let next = inline["paging"]["next"].as_str().unwrap();
    assert!(
        next.contains(&format!("/{}/messages?", thread["id"].as_str().unwrap())),
        "{next}"
    );
    let mut texts = Vec::new();
    let mut page: Value = sim.get_url(next).await.1;
    loop {
        for message in page["data"].as_array().unwrap() {
            assert!(message["created_time"].is_string() && message["from"].is_object());
            texts.push(message["message"].as_str().unwrap().to_owned());
        }
        let Some(next) = page["paging"]["next"].as_str() else {
            break;
        };
        page = sim.get_url(next).await.1;
    }
    assert_eq!(texts, ["message 3", "message 2", "message 1", "message 0"]);
}

#[tokio::test]
async fn the_third_conversations_call_within_a_second_is_throttled() {
    let sim = spawn_sim(fast_config()).await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi", "webhook": false}))
        .await;
    let list = format!("/{}/conversations?platform=messenger", sim.page_id);

    let (first, body) = sim.graph_get(&list).await;
    let thread = body["data"][0]["id"].as_str().unwrap().to_owned();
    let (second, _) = sim
        .graph_get(&format!("/{thread}/messages?fields=id,message"))
        .await;
    let (third, throttled) = sim.graph_get(&list).await;

    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    assert_eq!(third, StatusCode::BAD_REQUEST);
    assert_graph_error(&throttled, 80006, None);
    let profile = sim.graph_get(&format!("/{psid}?fields=first_name")).await.0;
    assert_eq!(
        profile,
        StatusCode::OK,
        "the profile API has its own budget"
    );
}

#[tokio::test]
async fn graph_errors_for_unknown_fields_paths_and_limits() {
    let sim = spawn_sim(without_limits()).await;

    let (status, body) = sim
        .graph_get(&format!("/{}/conversations?fields=id,colour", sim.page_id))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, None);

    let (status, body) = sim.graph_get("/1234567/conversations").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_graph_error(&body, 100, Some(33));
    assert_eq!(body["error"]["type"], "GraphMethodException");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported get request.")
    );

    let (_, body) = sim
        .graph_get(&format!("/{}/conversations?limit=lots", sim.page_id))
        .await;
    assert_graph_error(&body, 100, None);

    let (status, body) = sim
        .graph_get(&format!("/{}/conversations", sim.page_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"data": []}), "an empty list has no paging");
}

#[tokio::test]
async fn limit_above_100_is_clamped_to_100() {
    let sim = spawn_sim(without_limits()).await;
    let path = format!("/pages/{}/seed", sim.page_id);
    sim.control(
        Method::POST,
        &path,
        json!({"conversations": 120, "messages_per_conversation": 1}),
    )
    .await;

    let (_, body) = sim
        .graph_get(&format!("/{}/conversations?limit=500", sim.page_id))
        .await;

    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    assert!(
        body["paging"]["next"]
            .as_str()
            .unwrap()
            .contains("limit=100")
    );
}
