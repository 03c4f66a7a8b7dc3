use std::time::Duration;

use mf_tests::node::NodeScript;
use mf_tests::webhook::{batch, delivery, echo, message, read};
use mf_tests::{
    CONVERSATION_FIELDS, CUSTOMER, MESSAGE_FIELDS, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TIMEOUT,
    TestApp, id_of, spawn_app, spawn_app_with,
};
use serde_json::json;

fn message_added() -> String {
    format!("subscription($id: ID!) {{ messageAdded(conversationId: $id) {{ {MESSAGE_FIELDS} }} }}")
}

fn message_updated() -> String {
    format!(
        "subscription($id: ID!) {{ messageUpdated(conversationId: $id) {{ {MESSAGE_FIELDS} }} }}"
    )
}

fn conversation_updated() -> String {
    format!(
        "subscription($pageId: ID!) {{ conversationUpdated(pageId: $pageId) {{ {CONVERSATION_FIELDS} }} }}"
    )
}

/// The customer wrote once, so the conversation exists; returns its id.
async fn conversation_started(app: &TestApp, page: &str, psid: &str) -> String {
    app.ingest(&batch(
        page,
        [message(
            page,
            psid,
            &format!("{page}-{psid}-first"),
            "first",
            T0,
        )],
    ))
    .await;
    id_of(&app.conversation_with(page, psid).await).to_owned()
}

#[tokio::test]
async fn message_added_pushes_a_message_stored_after_the_subscription_started() {
    // Arrange
    let app = spawn_app().await;
    let conversation = conversation_started(&app, PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&message_added(), json!({ "id": conversation }))
        .await;

    // Act
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m2", "are you there?", T0 + 1000)],
    ))
    .await;

    // Assert
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageAdded event");
    let added = &event["messageAdded"];
    assert_eq!(added["mid"], "m2");
    assert_eq!(added["text"], "are you there?");
    assert_eq!(added["direction"], "INBOUND");
    assert_eq!(added["conversationId"], conversation.as_str());
    assert_eq!(added["timestamp"], "2025-11-26T13:25:27.123Z");
}

#[tokio::test]
async fn message_added_pushes_echoes_as_outbound_messages() {
    // Arrange
    let app = spawn_app().await;
    let conversation = conversation_started(&app, PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&message_added(), json!({ "id": conversation }))
        .await;

    // Act
    app.ingest(&batch(
        PAGE,
        [echo(
            PAGE,
            CUSTOMER,
            "m_echo",
            "Hello from the page",
            T0 + 1000,
        )],
    ))
    .await;

    // Assert
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageAdded event");
    assert_eq!(event["messageAdded"]["mid"], "m_echo");
    assert_eq!(event["messageAdded"]["direction"], "OUTBOUND");
}

#[tokio::test]
async fn message_added_ignores_other_conversations() {
    // Arrange
    let app = spawn_app().await;
    let conversation = conversation_started(&app, PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&message_added(), json!({ "id": conversation }))
        .await;

    // Act: other conversations first, so a leak would arrive before the awaited event.
    app.ingest(&batch(
        PAGE,
        [message(
            PAGE,
            OTHER_CUSTOMER,
            "m_other_customer",
            "x",
            T0 + 1000,
        )],
    ))
    .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(
            OTHER_PAGE,
            CUSTOMER,
            "m_other_page",
            "y",
            T0 + 1000,
        )],
    ))
    .await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m_ours", "z", T0 + 2000)],
    ))
    .await;

    // Assert
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageAdded event");
    assert_eq!(event["messageAdded"]["mid"], "m_ours");
}

#[tokio::test]
async fn duplicate_delivery_pushes_message_added_once() {
    // Arrange
    let app = spawn_app().await;
    let conversation = conversation_started(&app, PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&message_added(), json!({ "id": conversation }))
        .await;
    let twice = batch(PAGE, [message(PAGE, CUSTOMER, "m2", "twice", T0 + 1000)]);

    // Act
    app.ingest(&twice).await;
    app.ingest(&twice).await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m3", "once", T0 + 2000)],
    ))
    .await;

    // Assert
    let first = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageAdded event");
    let second = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageAdded event");
    assert_eq!(first["messageAdded"]["mid"], "m2");
    assert_eq!(second["messageAdded"]["mid"], "m3");
}

#[tokio::test]
async fn conversation_updated_pushes_a_new_message_of_the_page() {
    // Arrange
    let app = spawn_app().await;
    conversation_started(&app, PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&conversation_updated(), json!({ "pageId": PAGE }))
        .await;

    // Act: another page first, so a leak would arrive before the awaited event.
    app.ingest(&batch(
        OTHER_PAGE,
        [message(
            OTHER_PAGE,
            OTHER_CUSTOMER,
            "m_other_page",
            "x",
            T0 + 1000,
        )],
    ))
    .await;
    app.ingest(&batch(
        PAGE,
        [message(
            PAGE,
            OTHER_CUSTOMER,
            "m_new",
            "new customer here",
            T0 + 2000,
        )],
    ))
    .await;

    // Assert
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a conversationUpdated event");
    let updated = &event["conversationUpdated"];
    assert_eq!(updated["page"]["id"], PAGE);
    assert_eq!(updated["customer"]["psid"], OTHER_CUSTOMER);
    assert_eq!(updated["lastMessageText"], "new customer here");
    assert_eq!(updated["lastTimestamp"], "2025-11-26T13:25:28.123Z");
    assert_eq!(updated["unreadCount"], 1);
}

#[tokio::test]
async fn conversation_updated_pushes_a_watermark_change() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [echo(PAGE, CUSTOMER, "m_echo", "hi", T0)]))
        .await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&conversation_updated(), json!({ "pageId": PAGE }))
        .await;

    // Act
    app.ingest(&batch(PAGE, [delivery(PAGE, CUSTOMER, T0)]))
        .await;

    // Assert
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a conversationUpdated event");
    assert_eq!(event["conversationUpdated"]["id"], conversation["id"]);
}

#[tokio::test]
async fn message_updated_pushes_delivered_then_read() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [echo(PAGE, CUSTOMER, "m_echo", "hi", T0)]))
        .await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&message_updated(), json!({ "id": id_of(&conversation) }))
        .await;

    // Act
    app.ingest(&batch(PAGE, [delivery(PAGE, CUSTOMER, T0)]))
        .await;
    app.ingest(&batch(PAGE, [read(PAGE, CUSTOMER, T0)])).await;

    // Assert
    let delivered = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageUpdated event");
    let read = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageUpdated event");
    assert_eq!(delivered["messageUpdated"]["mid"], "m_echo");
    assert_eq!(delivered["messageUpdated"]["status"], "DELIVERED");
    assert_eq!(read["messageUpdated"]["mid"], "m_echo");
    assert_eq!(read["messageUpdated"]["status"], "READ");
}

#[tokio::test]
async fn message_updated_ignores_other_conversations() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [
            echo(PAGE, CUSTOMER, "m_ours", "hi", T0),
            echo(PAGE, OTHER_CUSTOMER, "m_theirs", "hi", T0),
        ],
    ))
    .await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&message_updated(), json!({ "id": id_of(&conversation) }))
        .await;

    // Act: the other conversation first, so a leak would arrive before the awaited event.
    app.ingest(&batch(PAGE, [delivery(PAGE, OTHER_CUSTOMER, T0)]))
        .await;
    app.ingest(&batch(PAGE, [delivery(PAGE, CUSTOMER, T0)]))
        .await;

    // Assert
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageUpdated event");
    assert_eq!(event["messageUpdated"]["mid"], "m_ours");
}

#[tokio::test]
async fn watermark_that_changes_nothing_pushes_no_message_update() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [
            echo(PAGE, CUSTOMER, "m1", "one", T0),
            echo(PAGE, CUSTOMER, "m2", "two", T0 + 1000),
        ],
    ))
    .await;
    app.ingest(&batch(PAGE, [read(PAGE, CUSTOMER, T0)])).await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let mut subscription = app
        .subscribe(&message_updated(), json!({ "id": id_of(&conversation) }))
        .await;

    // Act: m1 is already read, so this delivery changes only m2.
    app.ingest(&batch(PAGE, [delivery(PAGE, CUSTOMER, T0 + 1000)]))
        .await;

    // Assert
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageUpdated event");
    assert_eq!(event["messageUpdated"]["mid"], "m2");
    assert_eq!(event["messageUpdated"]["status"], "DELIVERED");
    // And nothing for m1: the next update is a later marker's (m2 read), not m1's, however
    // slowly a push for m1 would have come.
    app.ingest(&batch(PAGE, [read(PAGE, CUSTOMER, T0 + 1000)]))
        .await;
    let marker = subscription
        .next(TIMEOUT)
        .await
        .expect("the marker's messageUpdated event");
    assert_eq!(
        (
            &marker["messageUpdated"]["mid"],
            &marker["messageUpdated"]["status"]
        ),
        (&json!("m2"), &json!("READ")),
        "{marker:#}"
    );
}

/// Subscribes with the `graphql-ws` npm client as integrations use it, with its default
/// `keepAlive: 0` (it never pings), and prints each event as a JSON line.
const STOCK_CLIENT: &str = r#"
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');
const [url, token, page] = process.argv.slice(1);
const print = (event) => console.log(JSON.stringify(event));
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  keepAlive: 0,
  retryAttempts: 0,
  on: {
    connected: () => print({ event: 'connected' }),
    closed: (close) => print({ event: 'closed', code: close.code }),
  },
});
client.subscribe(
  { query: 'subscription($p: ID!) { pageEvents(pageId: $p) { kind message { mid } } }', variables: { p: page } },
  {
    next: (value) => print({ event: 'next', value }),
    error: (error) => print({ event: 'error', error: String((error && error.message) || error) }),
    complete: () => print({ event: 'complete' }),
  },
);
"#;

#[tokio::test]
async fn a_stock_graphql_ws_client_that_never_pings_stays_subscribed_past_the_idle_timeout() {
    // Arrange: a 3 s idle timeout; the stock client connected.
    let idle = 3;
    let app = spawn_app_with(|config| config.ws_idle_timeout_secs = idle).await;
    let Some(mut client) = NodeScript::start(
        "a_stock_graphql_ws_client_that_never_pings_stays_subscribed_past_the_idle_timeout",
        STOCK_CLIENT,
        &[&app.ws_url(), &app.admin_token, PAGE],
    ) else {
        return;
    };
    let connected = client
        .next(TIMEOUT)
        .await
        .expect("the client's first event");
    assert_eq!(connected["event"], "connected", "{connected:#}");

    // Act: more than twice the idle timeout of silence from the client, then a message.
    // (A wait is what this test is about: the server must keep the quiet client.)
    tokio::time::sleep(Duration::from_secs(2 * idle + 1)).await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-late", "still there?", T0)],
    ))
    .await;

    // Assert: still connected (nothing printed meanwhile), and the message arrives.
    let event = loop {
        let event = client.next(TIMEOUT).await.expect("an event");
        assert_eq!(event["event"], "next", "the client was cut off: {event:#}");
        if event["value"]["data"]["pageEvents"]["kind"] == "MESSAGE_ADDED" {
            break event;
        }
    };
    assert_eq!(
        event["value"]["data"]["pageEvents"]["message"]["mid"],
        "m-late"
    );
}
