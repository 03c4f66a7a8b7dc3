//! Webhooks out: signature over the raw bytes, Facebook's escaping, events, retries.

mod common;

use common::{Receiver, SECRET, VERIFY_TOKEN, fast_config, spawn_sim, text_message};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::atomic::Ordering;

fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_digest) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

async fn sim_with_receiver() -> (common::TestSim, Receiver) {
    let receiver = Receiver::start().await;
    let sim = spawn_sim(fast_config()).await;
    sim.control(Method::PUT, "/webhook", json!({"url": receiver.url}))
        .await;
    sim.subscribe_all().await;
    (sim, receiver)
}

#[tokio::test]
async fn a_customer_message_arrives_signed_over_the_raw_escaped_bytes() {
    let (sim, mut receiver) = sim_with_receiver().await;
    let psid = sim.customer(json!({"first_name": "Jörg"})).await;

    let stored = sim
        .customer_says(
            &psid,
            json!({"text": "Grüß Gott, wo ist mein Paket? äöå 😀"}),
        )
        .await;
    let post = receiver.next().await;

    let raw = std::str::from_utf8(&post.body).unwrap();
    assert!(raw.is_ascii(), "non-ASCII is escaped: {raw}");
    assert!(raw.contains(r"Gr\u00fc\u00df"), "{raw}");
    assert!(raw.contains(r"\u00e4\u00f6\u00e5 \ud83d\ude00"), "{raw}");
    let signature = post.signature.clone().expect("X-Hub-Signature-256 header");
    assert!(
        verify(SECRET, &post.body, &signature),
        "signature over the raw bytes"
    );
    let reserialised = serde_json::to_vec(&post.json()).unwrap();
    assert!(
        !verify(SECRET, &reserialised, &signature),
        "re-serialised JSON must not verify"
    );

    let prefix = format!(
        r#"{{"object":"page","entry":[{{"id":"{}","time":"#,
        sim.page_id
    );
    assert!(raw.starts_with(&prefix), "Facebook's key order: {raw}");
    assert!(
        raw.contains(&format!(
            r#""messaging":[{{"sender":{{"id":"{psid}"}},"recipient""#
        )),
        "{raw}"
    );
    let envelope = post.json();
    assert_eq!(envelope["object"], "page");
    assert_eq!(envelope["entry"][0]["id"], sim.page_id.as_str());
    assert!(envelope["entry"][0]["time"].is_i64());
    let event = &envelope["entry"][0]["messaging"][0];
    assert_eq!(event["sender"]["id"], psid.as_str());
    assert_eq!(event["recipient"]["id"], sim.page_id.as_str());
    assert_eq!(event["timestamp"], stored["timestamp"]);
    assert_eq!(event["message"]["mid"], stored["mid"]);
    assert_eq!(
        event["message"]["text"],
        "Grüß Gott, wo ist mein Paket? äöå 😀"
    );
}

#[tokio::test]
async fn attachments_and_quick_replies_arrive_in_facebook_shape() {
    let (sim, mut receiver) = sim_with_receiver().await;
    let psid = sim.customer(json!({})).await;

    sim.customer_says(
        &psid,
        json!({"text": "Yes", "quick_reply_payload": "ORDER_STATUS",
               "attachments": [{"type": "image", "url": "https://cdn.example/a.jpg"}]}),
    )
    .await;
    let post = receiver.next().await;

    assert!(
        std::str::from_utf8(&post.body)
            .unwrap()
            .contains(r"https:\/\/cdn.example\/a.jpg")
    );
    let message = &post.events()[0]["message"];
    assert_eq!(message["quick_reply"], json!({"payload": "ORDER_STATUS"}));
    assert_eq!(
        message["attachments"],
        json!([{"type": "image", "payload": {"url": "https://cdn.example/a.jpg"}}])
    );
}

#[tokio::test]
async fn a_send_is_echoed_then_delivered_then_read() {
    let (sim, mut receiver) = sim_with_receiver().await;
    sim.control(Method::PUT, "/receipts", json!({"mids": "always"}))
        .await;
    let psid = sim.customer(json!({})).await;
    sim.customer_says(&psid, json!({"text": "Hi"})).await;
    receiver.next().await;

    let mut body = text_message(&psid, "Hej! Vi tittar på det.");
    body["message"]["metadata"] = json!("agent:42");
    let (status, sent) = sim.send(body).await;
    assert_eq!(status, StatusCode::OK);
    let mid = sent["message_id"].as_str().unwrap().to_owned();

    let has = |events: &[Value], field: &str| events.iter().any(|e| e.get(field).is_some());
    let events = receiver
        .events_until(|events| {
            has(events, "read") && has(events, "delivery") && has(events, "message")
        })
        .await;

    let echo = events.iter().find(|e| e.get("message").is_some()).unwrap();
    assert_eq!(echo["sender"]["id"], sim.page_id.as_str());
    assert_eq!(echo["recipient"]["id"], psid.as_str());
    assert_eq!(echo["message"]["is_echo"], true);
    assert_eq!(echo["message"]["app_id"], simulator::config::DEFAULT_APP_ID);
    assert_eq!(echo["message"]["mid"], mid.as_str());
    assert_eq!(echo["message"]["metadata"], "agent:42");
    assert_eq!(echo["message"]["text"], "Hej! Vi tittar på det.");
    let delivery = events.iter().find(|e| e.get("delivery").is_some()).unwrap();
    assert_eq!(delivery["sender"]["id"], psid.as_str());
    assert_eq!(delivery["delivery"]["mids"], json!([mid]));
    assert_eq!(delivery["delivery"]["watermark"], echo["timestamp"]);
    let read = events.iter().find(|e| e.get("read").is_some()).unwrap();
    assert_eq!(read["read"]["watermark"], echo["timestamp"]);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_it_gets_a_200() {
    let (sim, mut receiver) = sim_with_receiver().await;
    receiver.fail_first.store(2, Ordering::SeqCst);
    let psid = sim.customer(json!({})).await;

    sim.customer_says(&psid, json!({"text": "Anyone there?"}))
        .await;
    let first = receiver.next().await;
    let second = receiver.next().await;
    let third = receiver.next().await;

    assert_eq!(first.body, second.body, "a retry sends the same bytes");
    assert_eq!(second.body, third.body);
    let log = sim
        .control(Method::GET, "/webhook/deliveries", json!(null))
        .await;
    let attempts: Vec<u64> = log["data"][0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [500, 500, 200]);
    assert_eq!(log["data"][0]["delivered"], true);
}

#[tokio::test]
async fn fields_the_page_did_not_subscribe_to_are_not_sent() {
    let receiver = Receiver::start().await;
    let sim = spawn_sim(fast_config()).await;
    sim.control(Method::PUT, "/webhook", json!({"url": receiver.url}))
        .await;
    let mut receiver = receiver;
    let psid = sim.customer(json!({})).await;

    sim.customer_says(&psid, json!({"text": "not subscribed yet"}))
        .await;
    sim.subscribe_all().await;
    sim.customer_says(&psid, json!({"text": "now subscribed"}))
        .await;

    let post = receiver.next().await;
    assert_eq!(post.events()[0]["message"]["text"], "now subscribed");
}

#[tokio::test]
async fn raw_events_such_as_postbacks_and_standby_are_posted_as_given() {
    let (sim, mut receiver) = sim_with_receiver().await;
    let page = sim.page_id.as_str();
    sim.subscribe("messages,messaging_postbacks,standby").await;
    let postback = json!({"sender": {"id": "42"}, "recipient": {"id": page}, "timestamp": 1,
                          "postback": {"title": "Get Started", "payload": "GET_STARTED"}});
    let standby = json!({"sender": {"id": "42"}, "recipient": {"id": page}, "timestamp": 2,
                         "message": {"mid": "m_other_app", "text": "handled elsewhere"}});

    let answer = sim
        .control(
            Method::POST,
            &format!("/pages/{page}/events"),
            json!({"messaging": [postback.clone()], "standby": [standby.clone()]}),
        )
        .await;
    let post = receiver.next().await;

    assert_eq!(answer, json!({"queued": 2, "dropped": 0}));
    let entry = &post.json()["entry"][0];
    assert_eq!(entry["messaging"], json!([postback]));
    assert_eq!(entry["standby"], json!([standby]));
}

#[tokio::test]
async fn raw_events_of_fields_the_page_did_not_subscribe_to_are_never_posted() {
    let (sim, mut receiver) = sim_with_receiver().await;
    let page = sim.page_id.as_str();
    sim.subscribe("messages").await;
    let event = |body: Value| {
        let mut event = json!({"sender": {"id": "42"}, "recipient": {"id": page}, "timestamp": 1});
        event
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        event
    };
    let postback = event(json!({"postback": {"title": "Get Started", "payload": "GO"}}));
    let reaction = event(json!({"reaction": {"mid": "m_1", "action": "react", "emoji": "x"}}));
    let edit = event(json!({"message_edit": {"mid": "m_1", "text": "edited", "num_edit": 1}}));
    let echo = event(json!({"message": {"mid": "m_2", "is_echo": true, "text": "from the Page"}}));
    let message = event(json!({"message": {"mid": "m_3", "text": "subscribed"}}));
    let standby = event(json!({"message": {"mid": "m_4", "text": "another app's thread"}}));

    let answer = sim
        .control(
            Method::POST,
            &format!("/pages/{page}/events"),
            json!({"messaging": [postback, reaction, edit, echo, message.clone()],
                   "standby": [standby]}),
        )
        .await;
    let post = receiver.next().await;

    assert_eq!(answer, json!({"queued": 1, "dropped": 5}));
    let entry = &post.json()["entry"][0];
    assert_eq!(entry["messaging"], json!([message]));
    assert!(entry.get("standby").is_none(), "{entry}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(receiver.rx.try_recv().is_err(), "nothing else is posted");
}

#[tokio::test]
async fn a_callback_is_only_accepted_after_answering_the_challenge() {
    let receiver = Receiver::start().await;
    let sim = spawn_sim(fast_config()).await;
    let url = format!("{}/webhook", sim.handle.control_url());

    let wrong = sim
        .http
        .put(&url)
        .json(&json!({"url": receiver.url, "verify_token": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let right = sim
        .control(
            Method::PUT,
            "/webhook",
            json!({"url": receiver.url, "verify_token": VERIFY_TOKEN}),
        )
        .await;
    assert_eq!(right["url"], receiver.url.as_str());
}

#[tokio::test]
async fn a_customer_arriving_by_referral_is_posted_only_to_a_page_subscribed_to_referrals() {
    // Arrange: a customer, and a Page subscribed to messages only.
    let (sim, mut receiver) = sim_with_receiver().await;
    let page = sim.page_id.clone();
    let psid = sim.customer(json!({"first_name": "Ada"})).await;
    sim.subscribe("messages").await;
    let path = format!("/pages/{page}/customers/{psid}/referral");
    let ad = json!({"source": "ADS", "ref": "spring", "ad_id": "6045246247433",
                    "ad_title": "Tents -20%", "timestamp": 1_700_000_000_000_i64});

    // Act + Assert: dropped without `messaging_referrals`...
    let dropped = sim.control(Method::POST, &path, ad.clone()).await;
    assert_eq!(dropped["queued"], 0, "{dropped}");
    assert_eq!(dropped["dropped"], 1, "{dropped}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(receiver.rx.try_recv().is_err(), "nothing is posted");

    // ...and posted, in Facebook's shape, with it.
    sim.subscribe("messages,messaging_referrals,messaging_postbacks")
        .await;
    let queued = sim.control(Method::POST, &path, ad).await;
    assert_eq!(queued["queued"], 1, "{queued}");
    let event = receiver.next().await.events().remove(0);
    assert_eq!(event["sender"]["id"], psid.as_str());
    assert_eq!(event["timestamp"], 1_700_000_000_000_i64);
    assert_eq!(
        event["referral"],
        json!({"ref": "spring", "ad_id": "6045246247433", "source": "ADS", "type": "OPEN_THREAD",
               "ads_context_data": {"ad_title": "Tents -20%"}})
    );

    // A new thread's Get Started postback carries it too.
    let plugin = json!({"source": "CUSTOMER_CHAT_PLUGIN", "referer_uri": "https://shop.example/",
                        "get_started": true});
    sim.control(Method::POST, &path, plugin).await;
    let event = receiver.next().await.events().remove(0);
    assert_eq!(event["postback"]["title"], "Get Started");
    assert_eq!(
        event["postback"]["referral"]["referer_uri"],
        "https://shop.example/"
    );
}
