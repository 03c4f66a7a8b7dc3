use mf_tests::webhook::{batch, message};
use mf_tests::{CUSTOMER, PAGE, T0, TestApp, error_code, id_of, nodes, spawn_app};
use serde_json::{Value, json};

const CONVERSATIONS: &str =
    "query($pageId: ID!, $first: Int, $after: String, $status: ConversationStatus) {
  conversations(pageId: $pageId, first: $first, after: $after, status: $status) {
    edges { cursor node { id status customer { psid } lastTimestamp } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

const CONVERSATIONS_DEFAULT_FIRST: &str = "query($pageId: ID!) {
  conversations(pageId: $pageId) { edges { node { id } } }
}";

const MESSAGES: &str = "query($id: ID!, $last: Int, $before: String) {
  messages(conversationId: $id, last: $last, before: $before) {
    edges { cursor node { mid } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

const MESSAGES_DEFAULT_LAST: &str = "query($id: ID!) {
  messages(conversationId: $id) { edges { node { mid } } }
}";

fn customer(i: i64) -> String {
    format!("30000000{i:02}")
}

/// Customers 1..=count each wrote once; customer `i` at `T0 + i` seconds.
async fn customers_wrote(app: &TestApp, count: i64) {
    let events: Vec<_> = (1..=count)
        .map(|i| message(PAGE, &customer(i), &format!("m{i}"), "hi", T0 + i * 1000))
        .collect();
    app.ingest(&batch(PAGE, events)).await;
}

/// One page of conversations: the customers' psids and the `pageInfo`.
async fn conversations_page(
    app: &TestApp,
    first: i64,
    after: Option<&str>,
) -> (Vec<String>, Value) {
    let data = app
        .gql_data(
            CONVERSATIONS,
            json!({ "pageId": PAGE, "first": first, "after": after }),
        )
        .await;
    let connection = &data["conversations"];
    let psids = psids(&nodes(connection));
    let edges = connection["edges"].as_array().expect("edges");
    if let Some(last) = edges.last() {
        assert_eq!(connection["pageInfo"]["endCursor"], last["cursor"]);
    }
    (psids, connection["pageInfo"].clone())
}

fn psids(conversations: &[Value]) -> Vec<String> {
    conversations
        .iter()
        .map(|conversation| {
            conversation["customer"]["psid"]
                .as_str()
                .expect("psid")
                .to_owned()
        })
        .collect()
}

fn end_cursor(page_info: &Value) -> &str {
    page_info["endCursor"].as_str().expect("an endCursor")
}

/// One page of messages: their mids and the `pageInfo`.
async fn messages_page(
    app: &TestApp,
    conversation_id: &str,
    last: i64,
    before: Option<&str>,
) -> (Vec<String>, Value) {
    let data = app
        .gql_data(
            MESSAGES,
            json!({ "id": conversation_id, "last": last, "before": before }),
        )
        .await;
    let connection = &data["messages"];
    let mids = nodes(connection)
        .iter()
        .map(|message| message["mid"].as_str().expect("mid").to_owned())
        .collect();
    (mids, connection["pageInfo"].clone())
}

fn start_cursor(page_info: &Value) -> &str {
    page_info["startCursor"].as_str().expect("a startCursor")
}

#[tokio::test]
async fn conversations_page_newest_first_through_after_cursors() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 12).await;

    // Act
    let (first, first_info) = conversations_page(&app, 5, None).await;
    let (second, second_info) = conversations_page(&app, 5, Some(end_cursor(&first_info))).await;
    let (third, third_info) = conversations_page(&app, 5, Some(end_cursor(&second_info))).await;

    // Assert
    let expected = |range: Vec<i64>| range.into_iter().map(customer).collect::<Vec<_>>();
    assert_eq!(first, expected(vec![12, 11, 10, 9, 8]));
    assert_eq!(first_info["hasNextPage"], true);
    assert_eq!(second, expected(vec![7, 6, 5, 4, 3]));
    assert_eq!(second_info["hasNextPage"], true);
    assert_eq!(third, expected(vec![2, 1]));
    assert_eq!(third_info["hasNextPage"], false);
}

#[tokio::test]
async fn conversations_default_to_the_first_five() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 7).await;

    // Act
    let data = app
        .gql_data(CONVERSATIONS_DEFAULT_FIRST, json!({ "pageId": PAGE }))
        .await;

    // Assert
    assert_eq!(nodes(&data["conversations"]).len(), 5);
}

#[tokio::test]
async fn conversations_variable_first_left_unset_defaults_to_five() {
    // Arrange: the contract's `first: Int = 5` lets a client declare `$first: Int` and omit it.
    let app = spawn_app().await;
    customers_wrote(&app, 7).await;

    // Act
    let data = app.gql_data(CONVERSATIONS, json!({ "pageId": PAGE })).await;

    // Assert
    assert_eq!(nodes(&data["conversations"]).len(), 5);
}

#[tokio::test]
async fn new_message_moves_its_conversation_to_the_top() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 3).await;

    // Act
    app.ingest(&batch(
        PAGE,
        [message(
            PAGE,
            &customer(1),
            "m_new",
            "me again",
            T0 + 100_000,
        )],
    ))
    .await;

    // Assert
    let (order, _) = conversations_page(&app, 5, None).await;
    assert_eq!(order, [customer(1), customer(3), customer(2)]);
}

#[tokio::test]
async fn paging_returns_conversations_with_equal_timestamps_once_each() {
    // Arrange
    let app = spawn_app().await;
    let events: Vec<_> = (1..=7)
        .map(|i| message(PAGE, &customer(i), &format!("m{i}"), "same time", T0))
        .collect();
    app.ingest(&batch(PAGE, events)).await;

    // Act
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let (psids, info) = conversations_page(&app, 3, after.as_deref()).await;
        seen.extend(psids);
        if info["hasNextPage"] != true {
            break;
        }
        after = Some(end_cursor(&info).to_owned());
    }

    // Assert
    seen.sort();
    assert_eq!(seen, (1..=7).map(customer).collect::<Vec<_>>());
}

#[tokio::test]
async fn conversations_filtered_by_status_hold_only_that_status() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 2).await;
    let all = app.conversations(PAGE).await;
    let status = all[0]["status"].as_str().expect("a status").to_owned();
    let other = if status == "RESOLVED" {
        "OPEN"
    } else {
        "RESOLVED"
    };

    // Act
    let same = app
        .gql_data(
            CONVERSATIONS,
            json!({ "pageId": PAGE, "first": 5, "status": status }),
        )
        .await;
    let different = app
        .gql_data(
            CONVERSATIONS,
            json!({ "pageId": PAGE, "first": 5, "status": other }),
        )
        .await;

    // Assert
    assert_eq!(nodes(&same["conversations"]).len(), 2);
    assert_eq!(nodes(&different["conversations"]).len(), 0);
}

#[tokio::test]
async fn first_outside_one_to_a_hundred_is_a_bad_user_input() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 1).await;

    for first in [0, -1, 101, 1000] {
        // Act
        let response = app
            .gql(CONVERSATIONS, json!({ "pageId": PAGE, "first": first }))
            .await;

        // Assert
        assert_eq!(
            error_code(&response),
            Some("BAD_USER_INPUT"),
            "first: {first}: {response:#}"
        );
    }
}

#[tokio::test]
async fn first_of_one_and_of_a_hundred_are_accepted() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 2).await;

    // Act
    let (one, _) = conversations_page(&app, 1, None).await;
    let (hundred, _) = conversations_page(&app, 100, None).await;

    // Assert
    assert_eq!(one.len(), 1);
    assert_eq!(hundred.len(), 2);
}

#[tokio::test]
async fn unreadable_conversations_cursor_is_a_bad_user_input() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 2).await;

    for after in ["definitely-not-a-cursor", "eyJub3QiOiJvdXJzIn0="] {
        // Act
        let response = app
            .gql(
                CONVERSATIONS,
                json!({ "pageId": PAGE, "first": 5, "after": after }),
            )
            .await;

        // Assert
        assert_eq!(
            error_code(&response),
            Some("BAD_USER_INPUT"),
            "after: {after:?}: {response:#}"
        );
    }
}

#[tokio::test]
async fn messages_page_backwards_through_before_cursors_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let events: Vec<_> = (1..=7)
        .map(|i| message(PAGE, CUSTOMER, &format!("m{i}"), "hi", T0 + i * 1000))
        .collect();
    app.ingest(&batch(PAGE, events)).await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let id = id_of(&conversation);

    // Act
    let (newest, newest_info) = messages_page(&app, id, 3, None).await;
    let (middle, middle_info) = messages_page(&app, id, 3, Some(start_cursor(&newest_info))).await;
    let (oldest, oldest_info) = messages_page(&app, id, 3, Some(start_cursor(&middle_info))).await;

    // Assert
    assert_eq!(newest, ["m5", "m6", "m7"]);
    assert_eq!(newest_info["hasPreviousPage"], true);
    assert_eq!(middle, ["m2", "m3", "m4"]);
    assert_eq!(middle_info["hasPreviousPage"], true);
    assert_eq!(oldest, ["m1"]);
    assert_eq!(oldest_info["hasPreviousPage"], false);
}

#[tokio::test]
async fn messages_default_to_the_last_fifty() {
    // Arrange
    let app = spawn_app().await;
    let events: Vec<_> = (1..=55)
        .map(|i| message(PAGE, CUSTOMER, &format!("m{i:02}"), "hi", T0 + i * 1000))
        .collect();
    app.ingest(&batch(PAGE, events)).await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;

    // Act
    let data = app
        .gql_data(MESSAGES_DEFAULT_LAST, json!({ "id": id_of(&conversation) }))
        .await;

    // Assert
    let mids: Vec<_> = nodes(&data["messages"])
        .iter()
        .map(|message| message["mid"].clone())
        .collect();
    let expected: Vec<_> = (6..=55).map(|i| json!(format!("m{i:02}"))).collect();
    assert_eq!(mids, expected);
}

#[tokio::test]
async fn messages_variable_last_left_unset_defaults_to_fifty() {
    // Arrange: the contract's `last: Int = 50` lets a client declare `$last: Int` and omit it.
    let app = spawn_app().await;
    let events: Vec<_> = (1..=55)
        .map(|i| message(PAGE, CUSTOMER, &format!("m{i:02}"), "hi", T0 + i * 1000))
        .collect();
    app.ingest(&batch(PAGE, events)).await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;

    // Act
    let data = app
        .gql_data(MESSAGES, json!({ "id": id_of(&conversation) }))
        .await;

    // Assert
    assert_eq!(nodes(&data["messages"]).len(), 50);
}

#[tokio::test]
async fn known_conversation_is_found_by_id() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 1).await;
    let listed = app.conversation_with(PAGE, &customer(1)).await;

    // Act
    let data = app
        .gql_data(
            "query($id: ID!) { conversation(id: $id) { id customer { psid } } }",
            json!({ "id": id_of(&listed) }),
        )
        .await;

    // Assert
    assert_eq!(data["conversation"]["id"], listed["id"]);
    assert_eq!(data["conversation"]["customer"]["psid"], customer(1));
}

#[tokio::test]
async fn unknown_conversation_is_null() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 1).await;

    // Act
    let response = app
        .gql(
            "query($id: ID!) { conversation(id: $id) { id } }",
            json!({ "id": "999999999" }),
        )
        .await;

    // Assert
    assert!(response.get("errors").is_none(), "{response:#}");
    assert_eq!(response["data"]["conversation"], json!(null));
}

#[tokio::test]
async fn messages_of_an_unknown_conversation_are_not_found() {
    // Arrange
    let app = spawn_app().await;
    customers_wrote(&app, 1).await;

    // Act
    let response = app
        .gql(MESSAGES, json!({ "id": "999999999", "last": 10 }))
        .await;

    // Assert
    assert_eq!(error_code(&response), Some("NOT_FOUND"), "{response:#}");
}
