use mf_tests::webhook::{batch, delivery, echo, read};
use mf_tests::{CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TestApp, spawn_app};
use serde_json::Value;

/// Three messages the page sent to `psid`, one second apart from `T0`.
async fn page_sent_three_messages(app: &TestApp, page: &str, psid: &str) {
    app.ingest(&batch(
        page,
        [
            echo(page, psid, &format!("{page}-{psid}-1"), "one", T0),
            echo(page, psid, &format!("{page}-{psid}-2"), "two", T0 + 1000),
            echo(page, psid, &format!("{page}-{psid}-3"), "three", T0 + 2000),
        ],
    ))
    .await;
}

async fn statuses(app: &TestApp, page: &str, psid: &str) -> Vec<Value> {
    app.messages_with(page, psid)
        .await
        .into_iter()
        .map(|message| message["status"].clone())
        .collect()
}

#[tokio::test]
async fn delivery_marks_outbound_messages_up_to_the_watermark_delivered() {
    // Arrange
    let app = spawn_app().await;
    page_sent_three_messages(&app, PAGE, CUSTOMER).await;

    // Act
    app.ingest(&batch(PAGE, [delivery(PAGE, CUSTOMER, T0 + 1000)]))
        .await;

    // Assert
    assert_eq!(
        statuses(&app, PAGE, CUSTOMER).await,
        ["DELIVERED", "DELIVERED", "SENT"]
    );
}

#[tokio::test]
async fn read_marks_outbound_messages_up_to_the_watermark_read() {
    // Arrange
    let app = spawn_app().await;
    page_sent_three_messages(&app, PAGE, CUSTOMER).await;

    // Act
    app.ingest(&batch(PAGE, [read(PAGE, CUSTOMER, T0 + 1000)]))
        .await;

    // Assert
    assert_eq!(
        statuses(&app, PAGE, CUSTOMER).await,
        ["READ", "READ", "SENT"]
    );
}

#[tokio::test]
async fn delivery_after_read_does_not_turn_read_messages_back_into_delivered() {
    // Arrange
    let app = spawn_app().await;
    page_sent_three_messages(&app, PAGE, CUSTOMER).await;
    app.ingest(&batch(PAGE, [read(PAGE, CUSTOMER, T0 + 1000)]))
        .await;

    // Act
    app.ingest(&batch(PAGE, [delivery(PAGE, CUSTOMER, T0 + 2000)]))
        .await;

    // Assert
    assert_eq!(
        statuses(&app, PAGE, CUSTOMER).await,
        ["READ", "READ", "DELIVERED"]
    );
}

#[tokio::test]
async fn read_and_delivery_in_one_batch_leave_read_messages_read() {
    // Arrange
    let app = spawn_app().await;
    page_sent_three_messages(&app, PAGE, CUSTOMER).await;

    // Act
    app.ingest(&batch(
        PAGE,
        [
            read(PAGE, CUSTOMER, T0 + 2000),
            delivery(PAGE, CUSTOMER, T0 + 2000),
        ],
    ))
    .await;

    // Assert
    assert_eq!(
        statuses(&app, PAGE, CUSTOMER).await,
        ["READ", "READ", "READ"]
    );
}

#[tokio::test]
async fn watermarks_change_only_the_conversation_of_the_customer_who_sent_them() {
    // Arrange
    let app = spawn_app().await;
    page_sent_three_messages(&app, PAGE, CUSTOMER).await;
    page_sent_three_messages(&app, PAGE, OTHER_CUSTOMER).await;
    page_sent_three_messages(&app, OTHER_PAGE, CUSTOMER).await;

    // Act
    app.ingest(&batch(
        PAGE,
        [
            delivery(PAGE, CUSTOMER, T0 + 2000),
            read(PAGE, CUSTOMER, T0),
        ],
    ))
    .await;

    // Assert
    assert_eq!(
        statuses(&app, PAGE, CUSTOMER).await,
        ["READ", "DELIVERED", "DELIVERED"]
    );
    assert_eq!(
        statuses(&app, PAGE, OTHER_CUSTOMER).await,
        ["SENT", "SENT", "SENT"]
    );
    assert_eq!(
        statuses(&app, OTHER_PAGE, CUSTOMER).await,
        ["SENT", "SENT", "SENT"]
    );
}

#[tokio::test]
async fn watermarks_store_no_messages() {
    // Arrange
    let app = spawn_app().await;
    page_sent_three_messages(&app, PAGE, CUSTOMER).await;

    // Act
    app.ingest(&batch(
        PAGE,
        [
            delivery(PAGE, CUSTOMER, T0 + 2000),
            read(PAGE, CUSTOMER, T0 + 2000),
        ],
    ))
    .await;

    // Assert
    assert_eq!(app.messages_with(PAGE, CUSTOMER).await.len(), 3);
}
