//! What customers send, shown as sent (issue 15, point 6): every attachment type stored and
//! queried with what the inbox shows of it.
use mf_tests::sim::{World, connected_page};
use mf_tests::webhook::{batch, message, message_with};
use mf_tests::{CUSTOMER, PAGE, T0, TIMEOUT, TestApp, eventually, id_of, nodes, spawn_app};
use serde_json::{Value, json};

/// Every attachment field the API has.
const ATTACHMENT_FIELDS: &str = "type url title name stickerId latitude longitude mapUrl";

/// The attachments of every message of the conversation with `CUSTOMER`, oldest first,
/// once it holds `count` messages.
async fn attachments_once(app: &TestApp, count: usize) -> Vec<Value> {
    let query = format!(
        "query($id: ID!) {{ messages(conversationId: $id, last: 100) \
         {{ edges {{ node {{ mid text attachments {{ {ATTACHMENT_FIELDS} }} }} }} }} }}"
    );
    eventually(TIMEOUT, async || {
        let Some(conversation) = app.conversations(PAGE).await.first().cloned() else {
            return Err("no conversation yet".to_owned());
        };
        let data = app
            .gql_data(&query, json!({ "id": id_of(&conversation) }))
            .await;
        let messages = nodes(&data["messages"]);
        if messages.len() >= count {
            Ok(messages)
        } else {
            Err(format!("{messages:#?}"))
        }
    })
    .await
}

/// The customer sends one message with `attachment` (a control API attachment).
async fn customer_sends(world: &World, attachment: Value) {
    world
        .sim
        .control(
            reqwest::Method::POST,
            &format!("/pages/{PAGE}/customers/{CUSTOMER}/messages"),
            Some(json!({ "attachments": [attachment] })),
        )
        .await;
}

#[tokio::test]
async fn each_attachment_type_a_customer_sends_is_stored_and_queried_as_sent() {
    // Arrange
    let world = connected_page().await;
    world
        .sim
        .create_customer(PAGE, CUSTOMER, "Ada", "Lovelace")
        .await;
    let sent = [
        json!({ "type": "image", "url": "https://cdn.example/photo.jpg" }),
        json!({ "type": "video", "url": "https://cdn.example/clip.mp4" }),
        json!({ "type": "audio", "url": "https://cdn.example/voice.mp4" }),
        json!({ "type": "file", "url": "https://cdn.example/v/Invoice%20May.pdf?dl=1" }),
        json!({ "type": "sticker",
                "payload": { "url": "https://cdn.example/thumbs-up.png", "sticker_id": 369239263222822_u64 } }),
        json!({ "type": "location", "title": "Ada's location",
                "payload": { "coordinates": { "lat": 60.1699, "long": 24.9384 } } }),
        json!({ "type": "fallback",
                "payload": { "title": "Analytical Engine notes", "url": "https://example.org/notes" } }),
    ];

    // Act: one message each, in order.
    for attachment in &sent {
        customer_sends(&world, attachment.clone()).await;
    }

    // Assert
    let messages = attachments_once(&world.app, sent.len()).await;
    let got: Vec<Value> = messages.iter().map(|m| m["attachments"].clone()).collect();
    let none = |kind: &str, url: &str| {
        json!([{ "type": kind, "url": url, "title": null, "name": null, "stickerId": null,
                 "latitude": null, "longitude": null, "mapUrl": null }])
    };
    assert_eq!(got[0], none("image", "https://cdn.example/photo.jpg"));
    assert_eq!(got[1], none("video", "https://cdn.example/clip.mp4"));
    assert_eq!(got[2], none("audio", "https://cdn.example/voice.mp4"));
    let mut file = none("file", "https://cdn.example/v/Invoice%20May.pdf?dl=1");
    file[0]["name"] = json!("Invoice May.pdf");
    assert_eq!(got[3], file);
    let mut sticker = none("sticker", "https://cdn.example/thumbs-up.png");
    sticker[0]["stickerId"] = json!("369239263222822");
    assert_eq!(got[4], sticker);
    assert_eq!(
        got[5],
        json!([{ "type": "location", "url": null, "title": "Ada's location", "name": null,
                 "stickerId": null, "latitude": 60.1699, "longitude": 24.9384,
                 "mapUrl": "https://www.openstreetmap.org/?mlat=60.1699&mlon=24.9384#map=16/60.1699/24.9384" }])
    );
    let mut link = none("fallback", "https://example.org/notes");
    link[0]["title"] = json!("Analytical Engine notes");
    assert_eq!(got[6], link);
    // The inbox's preview of an attachment-only message names its type.
    let conversation = world.app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastMessageText"], "[fallback]");
}

#[tokio::test]
async fn a_malformed_attachment_is_skipped_and_the_good_events_beside_it_are_stored() {
    // Arrange: between two good messages, a message of each malformed attachment shape.
    let app = spawn_app().await;
    let bad = [
        json!([{ "type": "image", "payload": "https://cdn.example/a.png" }]),
        json!([{ "type": "image", "payload": { "url": "javascript:alert(1)" } }]),
        json!([{ "type": "location", "payload": { "coordinates": { "lat": 123, "long": 0 } } }]),
        json!([{ "type": "location", "payload": { "coordinates": { "lat": "n", "long": 0 } } }]),
        json!([{ "type": "sticker", "payload": { "sticker_id": { "id": 1 } } }]),
        json!({ "type": "image" }),
    ];
    let mut events = vec![message(PAGE, CUSTOMER, "m_before", "before", T0)];
    for (i, attachments) in bad.iter().enumerate() {
        let at = T0 + 1 + i as i64;
        events.push(message_with(
            PAGE,
            CUSTOMER,
            at,
            json!({ "mid": format!("m_bad_{i}"), "attachments": attachments }),
        ));
    }
    events.push(message_with(
        PAGE,
        CUSTOMER,
        T0 + 100,
        json!({ "mid": "m_after", "text": "after",
                "attachments": [{ "type": "image", "payload": { "url": "https://cdn.example/ok.png" } }] }),
    ));

    // Act
    let response = app.post_webhook(&batch(PAGE, events)).await;

    // Assert: answered 200 (Facebook must not retry a batch for one bad event), the good
    // ones stored, none of the bad.
    assert_eq!(response.status, 200, "{response:?}");
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    let mids: Vec<&str> = messages.iter().filter_map(|m| m["mid"].as_str()).collect();
    assert_eq!(mids, ["m_before", "m_after"], "{messages:#?}");
    assert_eq!(
        messages[1]["attachments"],
        json!([{ "type": "image", "url": "https://cdn.example/ok.png" }])
    );
}

// ---- reactions and edits ----

const PAGE_EVENTS: &str = "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) { \
    position kind message { mid text editCount editedAt reactions { emoji reaction reactorId reactedAt } } } }";

/// The customer reacts to `mid` with `emoji` (or takes the reaction back: `None`).
fn reaction(mid: &str, emoji: Option<&str>, at: i64) -> Value {
    let value = match emoji {
        Some(e) => json!({ "mid": mid, "action": "react", "emoji": e, "reaction": "love" }),
        None => json!({ "mid": mid, "action": "unreact" }),
    };
    mf_tests::webhook::event(CUSTOMER, PAGE, at, "reaction", value)
}

/// The customer edits `mid` to `text`, the `num_edit`th time.
fn edit(mid: &str, text: &str, num_edit: Value, at: i64) -> Value {
    mf_tests::webhook::event(
        CUSTOMER,
        PAGE,
        at,
        "message_edit",
        json!({ "mid": mid, "text": text, "num_edit": num_edit }),
    )
}

/// The Page's current event-log position.
async fn event_position(app: &TestApp) -> String {
    let data = app
        .gql_data("{ pages { id eventPosition } }", json!({}))
        .await;
    data["pages"][0]["eventPosition"]
        .as_str()
        .expect("eventPosition")
        .to_owned()
}

/// The next `pageEvents` item of `kind`.
async fn next_of(subscription: &mut mf_tests::ws::Subscription, kind: &str) -> Value {
    loop {
        let event = subscription.next(TIMEOUT).await.expect("a page event");
        if event["pageEvents"]["kind"] == kind {
            return event["pageEvents"].clone();
        }
    }
}

/// The stored message `mid` with its reactions and edits.
async fn stored(app: &TestApp, mid: &str) -> Value {
    let query = "query($id: ID!) { messages(conversationId: $id, last: 100) { edges { node { \
        mid text editCount editedAt reactions { emoji reaction reactorId reactedAt } } } } }";
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let data = app
        .gql_data(query, json!({ "id": id_of(&conversation) }))
        .await;
    nodes(&data["messages"])
        .into_iter()
        .find(|m| m["mid"] == mid)
        .unwrap_or_else(|| panic!("no message {mid}"))
}

#[tokio::test]
async fn a_reaction_and_its_unreact_are_pushed_live_and_replayed_after_a_position() {
    // Arrange: a message, and a subscriber from before anyone reacted.
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m1", "the tent", T0)],
    ))
    .await;
    let before = event_position(&app).await;
    let mut live = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": before }))
        .await;

    // Act + Assert: a react shows on the message, live.
    app.ingest(&batch(
        PAGE,
        [reaction("m1", Some("\u{2764}\u{fe0f}"), T0 + 10)],
    ))
    .await;
    let reacted = next_of(&mut live, "MESSAGE_UPDATED").await;
    assert_eq!(
        reacted["message"]["reactions"],
        json!([{ "emoji": "\u{2764}\u{fe0f}", "reaction": "love", "reactorId": CUSTOMER,
                 "reactedAt": "2025-11-26T13:25:26.133Z" }]),
        "{reacted:#}"
    );
    // ... and the unreact takes it off, live.
    app.ingest(&batch(PAGE, [reaction("m1", None, T0 + 20)]))
        .await;
    let unreacted = next_of(&mut live, "MESSAGE_UPDATED").await;
    assert_eq!(
        unreacted["message"]["reactions"],
        json!([]),
        "{unreacted:#}"
    );

    // Act + Assert: a subscriber coming back after the position from before gets both.
    let mut resumed = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": before }))
        .await;
    let first = next_of(&mut resumed, "MESSAGE_UPDATED").await;
    let second = next_of(&mut resumed, "MESSAGE_UPDATED").await;
    assert_eq!(first["position"], reacted["position"]);
    assert_eq!(second["position"], unreacted["position"]);
    assert_eq!(second["message"]["reactions"], json!([]));
}

#[tokio::test]
async fn repeated_and_late_reactions_change_nothing_and_an_unknown_mid_is_dropped() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m1", "the tent", T0)],
    ))
    .await;
    app.ingest(&batch(PAGE, [reaction("m1", Some("👍"), T0 + 10)]))
        .await;
    let before = event_position(&app).await;

    // Act: the same react again, an older react arriving late, a reaction to a message
    // that is not stored; then an unreact, and a react older than it.
    app.ingest(&batch(
        PAGE,
        [
            reaction("m1", Some("👍"), T0 + 10),
            reaction("m1", Some("😮"), T0 + 5),
            reaction("m_unknown", Some("😮"), T0 + 11),
        ],
    ))
    .await;
    let unchanged = stored(&app, "m1").await;
    let position = event_position(&app).await;
    app.ingest(&batch(PAGE, [reaction("m1", None, T0 + 30)]))
        .await;
    app.ingest(&batch(PAGE, [reaction("m1", Some("😮"), T0 + 25)]))
        .await;

    // Assert: one 👍 until the unreact, nothing announced for the repeats, no message made
    // for the unknown mid, and the late react does not bring a reaction back.
    assert_eq!(unchanged["reactions"][0]["emoji"], "👍", "{unchanged:#}");
    assert_eq!(unchanged["reactions"].as_array().map(Vec::len), Some(1));
    assert_eq!(position, before, "the repeats were announced");
    assert_eq!(stored(&app, "m1").await["reactions"], json!([]));
    assert_eq!(app.messages_with(PAGE, CUSTOMER).await.len(), 1);
}

#[tokio::test]
async fn an_edit_updates_the_text_and_marks_it_edited_and_a_stale_num_edit_changes_nothing() {
    // Arrange: a subscriber, and the customer's message (the conversation's last).
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m1", "teh tent", T0)],
    ))
    .await;
    let mut live = app
        .subscribe(
            PAGE_EVENTS,
            json!({ "p": PAGE, "after": event_position(&app).await }),
        )
        .await;

    // Act: the second edit comes first, then the first (late), then the second again;
    // Facebook's example writes num_edit as a string.
    app.ingest(&batch(PAGE, [edit("m1", "the tent!", json!("2"), T0 + 20)]))
        .await;
    let pushed = next_of(&mut live, "MESSAGE_UPDATED").await;
    // The list's preview is the edited text: its conversation's update follows.
    next_of(&mut live, "CONVERSATION_UPDATED").await;
    app.ingest(&batch(PAGE, [edit("m1", "the tent", json!(1), T0 + 10)]))
        .await;
    app.ingest(&batch(PAGE, [edit("m1", "the tent!", json!(2), T0 + 20)]))
        .await;

    // Assert: the newest text, marked edited, pushed once; the list's preview follows.
    assert_eq!(pushed["message"]["text"], "the tent!", "{pushed:#}");
    assert_eq!(pushed["message"]["editCount"], 2);
    assert_eq!(pushed["message"]["editedAt"], "2025-11-26T13:25:26.143Z");
    let now = stored(&app, "m1").await;
    assert_eq!(now["text"], "the tent!");
    assert_eq!(now["editCount"], 2);
    live.expect_nothing(std::time::Duration::from_millis(300))
        .await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastMessageText"], "the tent!");
    // An edit of a message not stored changes nothing and creates nothing.
    app.ingest(&batch(PAGE, [edit("m_unknown", "x", json!(1), T0 + 30)]))
        .await;
    assert_eq!(app.messages_with(PAGE, CUSTOMER).await.len(), 1);
}

#[tokio::test]
async fn malformed_reactions_and_edits_are_skipped_and_the_good_events_beside_them_kept() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m1", "the tent", T0)],
    ))
    .await;
    let bad = [
        mf_tests::webhook::event(
            CUSTOMER,
            PAGE,
            T0 + 1,
            "reaction",
            json!({ "mid": "m1", "emoji": "👍" }),
        ),
        mf_tests::webhook::event(
            CUSTOMER,
            PAGE,
            T0 + 2,
            "reaction",
            json!({ "mid": "m1", "action": "react" }),
        ),
        mf_tests::webhook::event(
            CUSTOMER,
            PAGE,
            T0 + 3,
            "reaction",
            json!({ "action": "react", "emoji": "👍" }),
        ),
        mf_tests::webhook::event(
            CUSTOMER,
            PAGE,
            T0 + 4,
            "reaction",
            json!({ "mid": "m1", "action": "react", "emoji": "x".repeat(65) }),
        ),
        edit("m1", "hacked", json!("two"), T0 + 5),
        edit("m1", "hacked", json!(0), T0 + 6),
        edit("m1", "hacked", json!(-3), T0 + 7),
        mf_tests::webhook::event(
            CUSTOMER,
            PAGE,
            T0 + 8,
            "message_edit",
            json!({ "mid": "m1", "num_edit": 1 }),
        ),
    ];
    let mut events: Vec<Value> = bad.into_iter().collect();
    events.push(reaction("m1", Some("👍"), T0 + 9));
    events.push(message(PAGE, CUSTOMER, "m2", "beside", T0 + 10));

    // Act
    let response = app.post_webhook(&batch(PAGE, events)).await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    let m1 = stored(&app, "m1").await;
    assert_eq!(m1["text"], "the tent", "{m1:#}");
    assert_eq!(m1["editCount"], 0);
    assert_eq!(m1["reactions"].as_array().map(Vec::len), Some(1), "{m1:#}");
    assert_eq!(app.messages_with(PAGE, CUSTOMER).await.len(), 2);
}
