//! Subscriptions filter everything (issue 14, point 5): `connectPage` subscribes the Page to
//! every webhook field the api parses, and the simulator, like Facebook, delivers no event
//! of a field the Page is not subscribed to, also those injected through its control API.
use api::facebook::events::SUBSCRIBED_FIELDS;
use mf_tests::sim::{SIM_SECRET, Simulator, spawn_app_on};
use mf_tests::{CUSTOMER, PAGE, T0, TIMEOUT, TestApp, eventually};
use serde_json::{Value, json};

async fn connected(sim: &Simulator, app: &TestApp) {
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    app.connect_page(PAGE, &token).await;
    sim.create_customer(PAGE, CUSTOMER, "Ada", "Lovelace").await;
}

/// A messaging object from the customer to the Page with one event field.
fn from_customer(at: i64, event: Value) -> Value {
    let mut object = json!({
        "sender": { "id": CUSTOMER }, "recipient": { "id": PAGE }, "timestamp": at,
    });
    if let (Some(object), Some(event)) = (object.as_object_mut(), event.as_object()) {
        object.extend(event.clone());
    }
    object
}

/// The texts of the conversation's messages once it holds `count` of them.
async fn texts_once(app: &TestApp, count: usize) -> Vec<String> {
    eventually(TIMEOUT, async || {
        let conversations = app.conversations(PAGE).await;
        let Some(conversation) = conversations.first() else {
            return Err("no conversation yet".to_owned());
        };
        let messages = app.messages(mf_tests::id_of(conversation)).await;
        let texts: Vec<String> = messages
            .iter()
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect();
        if texts.len() >= count {
            Ok(texts)
        } else {
            Err(format!("{texts:?}"))
        }
    })
    .await
}

#[tokio::test]
async fn connect_page_subscribes_to_every_field_the_api_parses() {
    // Arrange
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;

    // Act
    connected(&sim, &app).await;

    // Assert: the Page's subscription is the parser's list, standby included.
    let fields = sim.subscribed_fields(PAGE).await;
    assert_eq!(fields, SUBSCRIBED_FIELDS, "{fields:?}");
    assert!(fields.iter().any(|f| f == "standby"), "{fields:?}");
    assert!(
        fields.iter().any(|f| f == "messaging_postbacks"),
        "{fields:?}"
    );
}

#[tokio::test]
async fn subscribed_postbacks_and_standby_arrive_and_unsubscribed_fields_never_do() {
    // Arrange
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    connected(&sim, &app).await;
    let postback = from_customer(
        T0,
        json!({ "postback": { "mid": "m_postback", "title": "Get Started", "payload": "GO" } }),
    );
    let standby = from_customer(
        T0 + 1000,
        json!({ "message": { "mid": "m_standby", "text": "answered by another app" } }),
    );
    let unsubscribed = [
        json!({ "pass_thread_control": { "new_owner_app_id": "1", "metadata": "x" } }),
        json!({ "optin": { "type": "notification_messages", "payload": "x" } }),
    ];

    // Act: the unsubscribed ones go first, so they would be in the api's first batch.
    let dropped = sim
        .raw_events(
            PAGE,
            unsubscribed
                .iter()
                .enumerate()
                .map(|(i, e)| from_customer(T0 + 10 + i as i64, e.clone()))
                .collect(),
            Vec::new(),
        )
        .await;
    let queued = sim.raw_events(PAGE, vec![postback], vec![standby]).await;

    // Assert: the subscribed two are stored; no delivery ever carried the others.
    assert_eq!(dropped, json!({ "queued": 0, "dropped": 2 }));
    assert_eq!(queued, json!({ "queued": 2, "dropped": 0 }));
    let texts = texts_once(&app, 2).await;
    assert_eq!(
        texts,
        ["Get Started", "answered by another app"],
        "{texts:?}"
    );
    let bodies = sim.delivered_bodies().await;
    for key in ["pass_thread_control", "optin"] {
        assert!(
            bodies.iter().all(|b| !b.contains(&format!("\"{key}\""))),
            "{key} was delivered: {bodies:#?}"
        );
    }
}
