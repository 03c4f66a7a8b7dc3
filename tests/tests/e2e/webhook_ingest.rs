use mf_tests::webhook::{
    self, batch, delivery, echo, entry, envelope, message, message_with, postback, read,
};
use mf_tests::{CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, id_of, spawn_app};
use serde_json::{Value, json};

/// `T0` as the API shows it.
const T0_RFC3339: &str = "2025-11-26T13:25:26.123Z";

#[tokio::test]
async fn text_message_creates_the_page_the_conversation_and_an_inbound_message() {
    // Arrange
    let app = spawn_app().await;

    // Act
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hi", T0)]))
        .await;

    // Assert
    assert_eq!(app.page_ids().await, [PAGE]);
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["page"]["id"], PAGE);
    assert_eq!(conversation["customer"]["psid"], CUSTOMER);
    assert_eq!(conversation["lastMessageText"], "hi");
    assert_eq!(conversation["lastTimestamp"], T0_RFC3339);
    assert_eq!(conversation["unreadCount"], 1);
    let messages = app.messages(id_of(&conversation)).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let stored = &messages[0];
    assert_eq!(stored["mid"], "m1");
    assert_eq!(stored["conversationId"], conversation["id"]);
    assert_eq!(stored["direction"], "INBOUND");
    assert_eq!(stored["text"], "hi");
    assert_eq!(stored["timestamp"], T0_RFC3339);
    assert_eq!(stored["attachments"], json!([]));
    assert_eq!(stored["quickReplyPayload"], json!(null));
    assert_eq!(stored["replyToMid"], json!(null));
}

#[tokio::test]
async fn one_delivery_with_several_entries_stores_the_events_of_every_page() {
    // Arrange
    let body = envelope([
        entry(
            PAGE,
            [
                message(PAGE, CUSTOMER, "m1", "to page one", T0),
                message(PAGE, OTHER_CUSTOMER, "m2", "also to page one", T0 + 1),
            ],
        ),
        entry(
            OTHER_PAGE,
            [message(OTHER_PAGE, CUSTOMER, "m3", "to page two", T0 + 2)],
        ),
    ]);
    let app = spawn_app().await;

    // Act
    app.ingest(&body).await;

    // Assert
    assert_eq!(app.page_ids().await, [PAGE, OTHER_PAGE]);
    assert_eq!(app.conversations(PAGE).await.len(), 2);
    assert_eq!(app.conversations(OTHER_PAGE).await.len(), 1);
    let texts = |messages: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        messages.into_iter().map(|m| m["text"].clone()).collect()
    };
    assert_eq!(
        texts(app.messages_with(PAGE, CUSTOMER).await),
        ["to page one"]
    );
    assert_eq!(
        texts(app.messages_with(PAGE, OTHER_CUSTOMER).await),
        ["also to page one"]
    );
    assert_eq!(
        texts(app.messages_with(OTHER_PAGE, CUSTOMER).await),
        ["to page two"]
    );
}

#[tokio::test]
async fn conversations_are_one_per_page_and_customer() {
    // Arrange
    let app = spawn_app().await;

    // Act
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "one", T0)]))
        .await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m2", "two", T0 + 1000)],
    ))
    .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(OTHER_PAGE, CUSTOMER, "m3", "elsewhere", T0 + 2000)],
    ))
    .await;

    // Assert
    let on_page = app.conversations(PAGE).await;
    assert_eq!(on_page.len(), 1, "{on_page:#?}");
    assert_eq!(app.messages(id_of(&on_page[0])).await.len(), 2);
    let on_other_page = app.conversation_with(OTHER_PAGE, CUSTOMER).await;
    assert_ne!(on_other_page["id"], on_page[0]["id"]);
    assert_eq!(app.messages(id_of(&on_other_page)).await.len(), 1);
}

#[tokio::test]
async fn attachments_come_back_with_their_type_and_url() {
    // Arrange
    let app = spawn_app().await;
    let with_attachments = message_with(
        PAGE,
        CUSTOMER,
        T0,
        json!({
            "mid": "m_attachments",
            "attachments": [
                { "type": "image", "payload": { "url": "https://cdn.example.com/cat.jpg" } },
                { "type": "file", "payload": { "url": "https://cdn.example.com/invoice.pdf" } },
                {
                    "type": "image",
                    "payload": { "url": "https://cdn.example.com/thumb.png", "sticker_id": 369239263222822_u64 }
                },
            ],
        }),
    );

    // Act
    app.ingest(&batch(PAGE, [with_attachments])).await;

    // Assert
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["text"], json!(null));
    assert_eq!(
        messages[0]["attachments"],
        json!([
            { "type": "image", "url": "https://cdn.example.com/cat.jpg" },
            { "type": "file", "url": "https://cdn.example.com/invoice.pdf" },
            // An image with a sticker id is a sticker (Facebook's shape before the
            // `sticker` type): see the `media` module.
            { "type": "sticker", "url": "https://cdn.example.com/thumb.png" },
        ])
    );
}

#[tokio::test]
async fn quick_reply_payload_and_reply_to_mid_are_stored() {
    // Arrange
    let app = spawn_app().await;
    let answer = message_with(
        PAGE,
        CUSTOMER,
        T0 + 1000,
        json!({
            "mid": "m_answer",
            "text": "Yes please",
            "quick_reply": { "payload": "WANTS_NEWSLETTER" },
            "reply_to": { "mid": "m_question" },
        }),
    );

    // Act
    app.ingest(&batch(PAGE, [answer])).await;

    // Assert
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["text"], "Yes please");
    assert_eq!(messages[0]["quickReplyPayload"], "WANTS_NEWSLETTER");
    assert_eq!(messages[0]["replyToMid"], "m_question");
}

#[tokio::test]
async fn echo_is_stored_as_an_outbound_sent_message_in_the_customers_conversation() {
    // Arrange
    let app = spawn_app().await;

    // Act
    app.ingest(&batch(
        PAGE,
        [echo(PAGE, CUSTOMER, "m_echo", "Thanks for writing!", T0)],
    ))
    .await;

    // Assert
    assert_eq!(app.page_ids().await, [PAGE]);
    let conversations = app.conversations(PAGE).await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    assert_eq!(conversations[0]["customer"]["psid"], CUSTOMER);
    let messages = app.messages(id_of(&conversations[0])).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["mid"], "m_echo");
    assert_eq!(messages[0]["direction"], "OUTBOUND");
    assert_eq!(messages[0]["status"], "SENT");
    assert_eq!(messages[0]["text"], "Thanks for writing!");
}

#[tokio::test]
async fn inbound_messages_count_as_unread_and_echoes_do_not() {
    // Arrange
    let app = spawn_app().await;

    // Act
    app.ingest(&batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m1", "hello?", T0),
            message(PAGE, CUSTOMER, "m2", "anyone there?", T0 + 1000),
            echo(PAGE, CUSTOMER, "m3", "Yes, how can we help?", T0 + 2000),
        ],
    ))
    .await;

    // Assert
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["unreadCount"], 2);
    assert_eq!(conversation["lastMessageText"], "Yes, how can we help?");
    assert_eq!(conversation["lastTimestamp"], "2025-11-26T13:25:28.123Z");
}

#[tokio::test]
async fn postback_is_stored_as_an_inbound_message_with_the_button_title_as_text() {
    // Arrange
    let app = spawn_app().await;

    // Act
    app.ingest(&batch(
        PAGE,
        [postback(
            PAGE,
            CUSTOMER,
            "m_postback",
            "Get Started",
            "GET_STARTED",
            T0,
        )],
    ))
    .await;

    // Assert
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["mid"], "m_postback");
    assert_eq!(messages[0]["direction"], "INBOUND");
    assert_eq!(messages[0]["text"], "Get Started");
}

#[tokio::test]
async fn unknown_event_types_and_unknown_fields_are_ignored() {
    // Arrange
    let app = spawn_app().await;
    let optin = webhook::event(
        CUSTOMER,
        PAGE,
        T0 + 1,
        "optin",
        json!({ "type": "notification_messages", "payload": "x" }),
    );
    let future_event = webhook::event(
        CUSTOMER,
        PAGE,
        T0 + 2,
        "some_future_event",
        json!({ "anything": [1, 2, 3] }),
    );
    let mut text = message_with(
        PAGE,
        CUSTOMER,
        T0,
        json!({ "mid": "m1", "text": "hi", "future_field": { "nested": true } }),
    );
    text["another_future_field"] = json!("x");
    let mut body = batch(PAGE, [text, optin, future_event]);
    body["entry"][0]["future_entry_field"] = json!(42);
    body["future_envelope_field"] = json!(null);

    // Act
    let response = app.post_webhook(&body).await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["mid"], "m1");
    assert_eq!(messages[0]["text"], "hi");
}

#[tokio::test]
async fn malformed_event_is_skipped_and_the_good_events_beside_it_are_stored() {
    // Arrange
    let app = spawn_app().await;
    let message_not_an_object = webhook::event(CUSTOMER, PAGE, T0 + 1, "message", json!("oops"));
    let mut without_sender = message(PAGE, CUSTOMER, "m_no_sender", "lost", T0 + 2);
    without_sender
        .as_object_mut()
        .expect("an event is an object")
        .remove("sender");
    let body = batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m1", "before", T0),
            message_not_an_object,
            without_sender,
            message(PAGE, CUSTOMER, "m2", "after", T0 + 3),
        ],
    );

    // Act
    let response = app.post_webhook(&body).await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    let mids: Vec<_> = app
        .messages_with(PAGE, CUSTOMER)
        .await
        .into_iter()
        .map(|message| message["mid"].clone())
        .collect();
    assert_eq!(mids, ["m1", "m2"]);
}

#[tokio::test]
async fn newer_message_sets_last_message_text_and_last_timestamp() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "first", T0)]))
        .await;

    // Act
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m2", "second", T0 + 1000)],
    ))
    .await;

    // Assert
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastMessageText"], "second");
    assert_eq!(conversation["lastTimestamp"], "2025-11-26T13:25:27.123Z");
    assert_eq!(conversation["unreadCount"], 2);
}

#[tokio::test]
async fn late_older_message_does_not_move_last_timestamp_back() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m2", "newer", T0 + 60_000)],
    ))
    .await;

    // Act
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "older", T0)]))
        .await;

    // Assert
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastTimestamp"], "2025-11-26T13:26:26.123Z");
    assert_eq!(conversation["unreadCount"], 2);
}

#[tokio::test]
async fn late_older_message_does_not_replace_last_message_text() {
    // Arrange
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m2", "newer", T0 + 60_000)],
    ))
    .await;

    // Act
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "older", T0)]))
        .await;

    // Assert
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastMessageText"], "newer");
}

#[tokio::test]
async fn messages_come_back_in_timestamp_order_whatever_the_arrival_order() {
    // Arrange
    let app = spawn_app().await;

    // Act
    app.ingest(&batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m3", "third", T0 + 2000),
            message(PAGE, CUSTOMER, "m1", "first", T0),
        ],
    ))
    .await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m2", "second", T0 + 1000)],
    ))
    .await;

    // Assert
    let mids: Vec<_> = app
        .messages_with(PAGE, CUSTOMER)
        .await
        .into_iter()
        .map(|message| message["mid"].clone())
        .collect();
    assert_eq!(mids, ["m1", "m2", "m3"]);
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastTimestamp"], "2025-11-26T13:25:28.123Z");
}

#[tokio::test]
async fn timestamps_show_milliseconds_even_when_they_are_zero() {
    // Arrange
    let app = spawn_app().await;
    let on_the_second = T0 - 123;

    // Act
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m1", "hi", on_the_second)],
    ))
    .await;

    // Assert
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastTimestamp"], "2025-11-26T13:25:26.000Z");
    let messages = app.messages(id_of(&conversation)).await;
    assert_eq!(messages[0]["timestamp"], "2025-11-26T13:25:26.000Z");
}

/// Our reply, PENDING or FAILED, whose mid a history sync already imported as another row:
/// its echo (with our metadata) completes our row and the imported copy is merged into it,
/// instead of hitting the unique `(page_id, mid)` and failing the delivery on every retry.
#[tokio::test]
async fn an_echo_of_our_reply_already_imported_by_a_sync_merges_the_two_rows() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    // Arrange: a conversation; the reply imported as a row of its own (as a sync stores
    // it: outbound, no agent, no key); our own row of that reply, FAILED with no mid.
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-hello", "hello", T0)],
    ))
    .await;
    app.ingest(&batch(
        PAGE,
        [echo(PAGE, CUSTOMER, "m-reply", "Hi Ada!", T0 + 1_000)],
    ))
    .await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let conversation_id: i64 = id_of(&conversation).parse().expect("a numeric id");
    let imported = app.messages(id_of(&conversation)).await;
    let imported_id = imported
        .iter()
        .find(|m| m["mid"] == "m-reply")
        .map(|m| id_of(m).to_owned())
        .expect("the imported reply");
    let admin: i64 = app.gql_data("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the administrator's id");
    let ours = entity::message::ActiveModel {
        page_id: Set(PAGE.to_owned()),
        conversation_id: Set(conversation_id),
        mid: Set("pending:00112233445566778899aabb".to_owned()),
        direction: Set(entity::message::Direction::Outbound),
        text: Set(Some("Hi Ada!".to_owned())),
        timestamp: Set(T0 + 900),
        status: Set(entity::message::Status::Failed),
        error_code: Set(Some("GRAPH_API_ERROR".to_owned())),
        created_at: Set(T0 + 900),
        client_mutation_id: Set(Some("reply-1".to_owned())),
        agent_id: Set(Some(admin)),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("storing our failed reply");
    let position = app
        .gql_data("{ pages { id eventPosition } }", json!({}))
        .await["pages"][0]["eventPosition"]
        .as_str()
        .expect("eventPosition")
        .to_owned();
    let mut events = app
        .subscribe(
            "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) \
             { kind removedMessageId message { id mid status } } }",
            json!({ "p": PAGE, "after": position }),
        )
        .await;
    let mut our_echo = echo(PAGE, CUSTOMER, "m-reply", "Hi Ada!", T0 + 1_000);
    our_echo["message"]["metadata"] = json!(format!("mf:{}", ours.id));
    let delivery = batch(
        PAGE,
        [
            our_echo,
            message(PAGE, CUSTOMER, "m-good", "thanks", T0 + 2_000),
        ],
    );

    // Act
    let response = app.post_webhook(&delivery).await;
    let retried = app.post_webhook(&delivery).await;

    // Assert: stored, once; our row survives with the mid, the imported copy is gone.
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(retried.status, 200, "{retried:?}");
    let messages = app.messages(id_of(&conversation)).await;
    let mids: Vec<&str> = messages.iter().filter_map(|m| m["mid"].as_str()).collect();
    assert_eq!(mids, ["m-hello", "m-reply", "m-good"], "{messages:#?}");
    let reply = &messages[1];
    assert_eq!(id_of(reply), ours.id.to_string());
    assert_eq!(reply["status"], "SENT");
    assert_eq!(reply["text"], "Hi Ada!");
    // Subscribers: our row updated (now with the mid), then the copy removed.
    let mut updated = false;
    loop {
        let event = events
            .next(mf_tests::TIMEOUT)
            .await
            .expect("the merge reached the subscriber")["pageEvents"]
            .clone();
        if event["kind"] == "MESSAGE_UPDATED" && event["message"]["mid"] == "m-reply" {
            assert_eq!(id_of(&event["message"]), ours.id.to_string(), "{event:#}");
            updated = true;
        }
        if event["kind"] == "MESSAGE_REMOVED" {
            assert!(updated, "removed before our row was updated: {event:#}");
            assert_eq!(event["removedMessageId"], imported_id.as_str(), "{event:#}");
            break;
        }
    }
}

fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(since_epoch.as_millis()).expect("a time in range")
}

fn ms_of(rfc3339: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("a time"))
        .expect("an RFC 3339 time")
        .timestamp_millis()
}

/// Signed deliveries with absurd times (as a broken or hostile sender could sign them)
/// are stored without a panic (debug builds check overflow), at the time they arrived,
/// and do not pin the conversation: a normal message afterwards is its last one, and a
/// reply after a far-future read watermark is not READ.
#[tokio::test]
async fn extreme_timestamps_and_watermarks_neither_panic_nor_corrupt_ordering() {
    // Arrange
    let app = spawn_app().await;
    let far_future = 4_102_444_800_000 * 1000; // the year 131,970
    let extremes = [i64::MAX, i64::MIN, -1, 0, far_future, i64::MAX - 1];
    let started = now_ms();

    // Act
    for (i, &at) in extremes.iter().enumerate() {
        let events = [
            message(PAGE, CUSTOMER, &format!("m-extreme-{i}"), "extreme", at),
            postback(
                PAGE,
                CUSTOMER,
                &format!("pb-extreme-{i}"),
                "Tapped",
                "P",
                at,
            ),
            echo(PAGE, CUSTOMER, &format!("e-extreme-{i}"), "echoed", at),
            delivery(PAGE, CUSTOMER, at),
            read(PAGE, CUSTOMER, at),
        ];
        let response = app.post_webhook(&batch(PAGE, events)).await;
        assert_eq!(response.status, 200, "timestamp {at}: {response:?}");
    }
    let later = now_ms() + 1;
    app.ingest(&batch(
        PAGE,
        [message(
            PAGE,
            CUSTOMER,
            "m-normal",
            "the real last one",
            later,
        )],
    ))
    .await;
    app.ingest(&batch(
        PAGE,
        [echo(PAGE, CUSTOMER, "e-reply", "a reply", later + 1)],
    ))
    .await;

    // Assert: the server answers; every time is sane and the normal message is the last.
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(
        conversation["lastMessageText"], "a reply",
        "{conversation:#}"
    );
    assert_eq!(ms_of(&conversation["lastTimestamp"]), later + 1);
    let messages = app.messages(id_of(&conversation)).await;
    assert_eq!(messages.len(), 3 * extremes.len() + 2, "{messages:#?}");
    let finished = now_ms();
    for message in &messages {
        let at = ms_of(&message["timestamp"]);
        assert!(
            (started..=finished + 1).contains(&at),
            "a time outside the test's run: {message:#}"
        );
    }
    let last_two: Vec<&str> = messages[messages.len() - 2..]
        .iter()
        .filter_map(|m| m["mid"].as_str())
        .collect();
    assert_eq!(last_two, ["m-normal", "e-reply"]);
    let reply = &messages[messages.len() - 1];
    assert_eq!(reply["status"], "SENT", "{reply:#}");

    // A time stored before times were checked still answers (debug builds would panic
    // adding the window to it).
    use sea_orm::{ConnectionTrait, Statement};
    app.db()
        .execute_raw(Statement::from_string(
            app.db().get_database_backend(),
            format!(
                "UPDATE conversations SET last_inbound_timestamp = {}",
                i64::MAX
            ),
        ))
        .await
        .expect("storing an extreme time");
    let windows = app
        .gql_data(
            "query($id: ID!) { conversation(id: $id) { windowExpiresAt humanAgentWindowExpiresAt } }",
            json!({ "id": id_of(&conversation) }),
        )
        .await;
    assert!(
        windows["conversation"]["windowExpiresAt"].is_string(),
        "{windows:#}"
    );
}
