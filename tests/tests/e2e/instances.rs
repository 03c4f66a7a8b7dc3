//! Several `api` instances on one database and one Redis: what a webhook delivers to one
//! reaches the subscribers of the other. Runs in the PostgreSQL + Redis pass of
//! `scripts/test` (`MF_TEST_REDIS_URL`); without Redis, instances share no bus.
use std::time::Duration;

use mf_tests::require;
use mf_tests::webhook::{batch, message};
use mf_tests::{CUSTOMER, PAGE, T0, id_of, spawn_app, spawn_beside};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

/// Without Redis, instances share no bus: skipped, or failed under CI (`require`).
fn redis_in_use() -> bool {
    require::services(&["MF_TEST_REDIS_URL"])
}

#[tokio::test]
async fn a_webhook_posted_to_one_instance_reaches_subscribers_of_the_other() {
    if !redis_in_use() {
        return;
    }
    // Arrange: the conversation exists; a subscriber listens on instance two.
    let one = spawn_app().await;
    let two = spawn_beside(&one).await;
    one.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-1", "first", T0)]))
        .await;
    let conversation = id_of(&two.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let mut added = two
        .subscribe(
            "subscription($id: ID!) { messageAdded(conversationId: $id) { mid text } }",
            json!({ "id": conversation }),
        )
        .await;
    let mut updated = two
        .subscribe(
            "subscription($p: ID!) { conversationUpdated(pageId: $p) { id lastMessageText } }",
            json!({ "p": PAGE }),
        )
        .await;

    // Act: the webhook goes to instance one.
    one.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-2", "second", T0 + 1)],
    ))
    .await;

    // Assert
    let event = added
        .next(WAIT)
        .await
        .expect("messageAdded on instance two");
    assert_eq!(event["messageAdded"]["mid"], "m-2");
    let event = updated
        .next(WAIT)
        .await
        .expect("conversationUpdated on instance two");
    assert_eq!(event["conversationUpdated"]["lastMessageText"], "second");
}

#[tokio::test]
async fn presence_on_one_instance_is_pushed_to_the_other() {
    if !redis_in_use() {
        return;
    }
    // Arrange: an agent of the Page watches presence on instance two.
    let one = spawn_app().await;
    let two = spawn_beside(&one).await;
    one.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-1", "hi", T0)]))
        .await;
    let alice = two.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let mut presence = two
        .subscribe(
            "subscription($p: ID!) { agentPresence(pageId: $p) { agent { id } status } }",
            json!({ "p": PAGE }),
        )
        .await;

    // Act: alice opens a connection on instance one.
    let _alice_tab = one.connect_as(&alice.token).await;

    // Assert
    let event = presence.next(WAIT).await.expect("presence on instance two");
    assert_eq!(event["agentPresence"]["agent"]["id"], alice.id.as_str());
    assert_eq!(event["agentPresence"]["status"], "ONLINE");
}
