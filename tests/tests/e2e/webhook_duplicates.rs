use mf_tests::webhook::{batch, echo, message};
use mf_tests::{CUSTOMER, PAGE, T0, spawn_app};

#[tokio::test]
async fn same_mid_twice_in_one_delivery_stores_one_message() {
    // Arrange
    let app = spawn_app().await;
    let hello = message(PAGE, CUSTOMER, "m1", "hello", T0);

    // Act
    app.ingest(&batch(PAGE, [hello.clone(), hello])).await;

    // Assert
    assert_eq!(app.messages_with(PAGE, CUSTOMER).await.len(), 1);
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["unreadCount"], 1);
}

#[tokio::test]
async fn repeated_delivery_stores_one_message_and_counts_it_once() {
    // Arrange
    let app = spawn_app().await;
    let body = batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hello", T0)]);

    // Act
    for _ in 0..3 {
        app.ingest(&body).await;
    }

    // Assert
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["unreadCount"], 1);
    assert_eq!(app.conversations(PAGE).await.len(), 1);
}

#[tokio::test]
async fn repeated_echo_stores_one_outbound_message() {
    // Arrange
    let app = spawn_app().await;
    let body = batch(PAGE, [echo(PAGE, CUSTOMER, "m_echo", "On our way", T0)]);

    // Act
    app.ingest(&body).await;
    app.ingest(&body).await;

    // Assert
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["direction"], "OUTBOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_deliveries_of_one_event_store_one_message() {
    // Arrange
    let app = spawn_app().await;
    let body = batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hello", T0)]);

    // Act
    let responses = futures::future::join_all((0..20).map(|_| app.post_webhook(&body))).await;

    // Assert
    for response in &responses {
        assert_eq!(response.status, 200, "{response:?}");
    }
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(app.conversations(PAGE).await.len(), 1);
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["unreadCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_messages_of_one_customer_share_one_conversation() {
    // Arrange
    let app = spawn_app().await;
    let bodies: Vec<_> = (0..20)
        .map(|i| {
            batch(
                PAGE,
                [message(PAGE, CUSTOMER, &format!("m{i}"), "hello", T0 + i)],
            )
        })
        .collect();

    // Act
    let responses =
        futures::future::join_all(bodies.iter().map(|body| app.post_webhook(body))).await;

    // Assert
    for response in &responses {
        assert_eq!(response.status, 200, "{response:?}");
    }
    let conversations = app.conversations(PAGE).await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    assert_eq!(conversations[0]["unreadCount"], 20);
    assert_eq!(app.messages_with(PAGE, CUSTOMER).await.len(), 20);
}
