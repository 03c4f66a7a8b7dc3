//! Sending and history sync end to end: the real api server against the `graph-simulator`
//! binary, which answers its Graph API calls and posts signed webhooks back to it.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use mf_tests::sim::{PAGE_INBOX_APP_ID, World, connected_page};
use mf_tests::{
    CONVERSATION_FIELDS, CUSTOMER, OTHER_CUSTOMER, PAGE, Subscription, TIMEOUT, TestApp,
    error_code, id_of, nodes,
};
use mf_tests::{eventually, eventually_every};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// The fields of a message these tests read.
const FIELDS: &str =
    "id mid conversationId status errorCode clientMutationId direction text appId timestamp tag";
const DAY_SECS: u64 = 24 * 60 * 60;
/// Long enough for a send retried through every backoff step (about 9 s at worst).
const RETRY_TIMEOUT: Duration = Duration::from_secs(20);

/// A connected Page and a customer who has a profile.
async fn page_with_customer(psid: &str) -> World {
    let world = connected_page().await;
    world
        .sim
        .create_customer(PAGE, psid, "Ada", "Lovelace")
        .await;
    world
}

/// The customer writes `text` (`ago_secs` ago) through the simulator, and the api stores
/// it from the webhook; returns the conversation's id.
async fn customer_writes(world: &World, psid: &str, text: &str, ago_secs: Option<u64>) -> String {
    let mut updates = world
        .app
        .subscribe(
            &format!(
                "subscription($page: ID!) {{ conversationUpdated(pageId: $page) \
                 {{ {CONVERSATION_FIELDS} }} }}"
            ),
            json!({ "page": PAGE }),
        )
        .await;
    world.sim.customer_says(PAGE, psid, text, ago_secs).await;
    // Each look reads the next event (no pause between them).
    eventually_every(Duration::ZERO, TIMEOUT, async || {
        let event = updates
            .next(TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("the webhook of {text:?} was not stored: {error:#}"));
        let conversation = &event["conversationUpdated"];
        if conversation["customer"]["psid"] == psid && conversation["lastMessageText"] == text {
            return Ok(id_of(conversation).to_owned());
        }
        Err(format!(
            "the webhook of {text:?} was not stored; last: {conversation}"
        ))
    })
    .await
}

/// `sendMessage` as the administrator; the whole response.
async fn send(app: &TestApp, conversation: &str, text: &str, key: Option<&str>) -> Value {
    app.gql(
        &format!(
            "mutation($input: SendMessageInput!) {{ sendMessage(input: $input) {{ {FIELDS} }} }}"
        ),
        json!({ "input": {
            "conversationId": conversation,
            "text": text,
            "clientMutationId": key,
        } }),
    )
    .await
}

/// The message a `sendMessage` response returned; the response must hold no errors.
fn sent_message(response: &Value) -> Value {
    assert!(
        response.get("errors").is_none(),
        "sendMessage failed: {response:#}"
    );
    response["data"]["sendMessage"].clone()
}

/// The conversation's messages (up to 100, oldest first) with [`FIELDS`].
async fn messages(app: &TestApp, conversation: &str) -> Vec<Value> {
    let data = app
        .gql_data(
            &format!(
                "query($id: ID!) {{ messages(conversationId: $id, last: 100) \
                 {{ edges {{ node {{ {FIELDS} }} }} }} }}"
            ),
            json!({ "id": conversation }),
        )
        .await;
    nodes(&data["messages"])
}

fn outbound(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|message| message["direction"] == "OUTBOUND")
        .cloned()
        .collect()
}

async fn message_updates(app: &TestApp, conversation: &str) -> Subscription {
    app.subscribe(
        &format!("subscription($id: ID!) {{ messageUpdated(conversationId: $id) {{ {FIELDS} }} }}"),
        json!({ "id": conversation }),
    )
    .await
}

/// Reads `messageUpdated` events until the message `mid` has `status`; the event.
async fn until_status(updates: &mut Subscription, mid: &str, status: &str) -> Value {
    let mut seen = Vec::new();
    // Each look reads the next event (no pause between them).
    eventually_every(Duration::ZERO, TIMEOUT, async || {
        let event = updates.next(TIMEOUT).await.unwrap_or_else(|error| {
            panic!("no messageUpdated {status} for {mid} ({error:#}); seen: {seen:#?}")
        });
        let message = event["messageUpdated"].clone();
        if message["mid"] == mid && message["status"] == status {
            return Ok(message);
        }
        seen.push(message);
        Err(format!(
            "no messageUpdated {status} for {mid}; seen: {seen:#?}"
        ))
    })
    .await
}

#[tokio::test]
async fn reply_within_a_day_is_sent_then_delivered_then_read_and_stored_once() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Is the tent waterproof?", None).await;
    let mut updates = message_updates(&world.app, &conversation).await;

    // Act
    let response = send(&world.app, &conversation, "Yes, up to 3000 mm.", None).await;

    // Assert: SENT with the simulator's mid, sent as a standard response with our metadata.
    let message = sent_message(&response);
    assert!(mf_tests::went_out(&message["status"]), "{message:#}");
    assert_eq!(message["direction"], "OUTBOUND");
    assert_eq!(message["text"], "Yes, up to 3000 mm.");
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["mid"], message["mid"]);
    assert_eq!(sent[0]["text"], "Yes, up to 3000 mm.");
    assert_eq!(sent[0]["messaging_type"], "RESPONSE");
    assert!(sent[0].get("tag").is_none(), "{:#}", sent[0]);
    let id = id_of(&message);
    assert_eq!(sent[0]["metadata"], format!("mf:{id}"));
    let mid = message["mid"].as_str().expect("a mid").to_owned();

    // Assert: the receipts arrive in order.
    let delivered = until_status(&mut updates, &mid, "DELIVERED").await;
    assert_eq!(delivered["id"], id);
    let read = until_status(&mut updates, &mid, "READ").await;
    assert_eq!(read["id"], id);

    // Assert: once the echo is in, the conversation still holds one reply.
    eventually(TIMEOUT, async || {
        let deliveries = world.sim.deliveries().await;
        let echo = deliveries.iter().find(|delivery| {
            let body = delivery["body"].as_str().unwrap_or_default();
            delivery["delivered"] == true
                && body.contains("\"is_echo\":true")
                && body.contains(mid.as_str())
        });
        echo.cloned()
            .ok_or(format!("the echo was not delivered: {deliveries:#?}"))
    })
    .await;
    let replies = outbound(&messages(&world.app, &conversation).await);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert_eq!(replies[0]["id"], id);
    assert_eq!(replies[0]["mid"], mid.as_str());
    assert_eq!(replies[0]["status"], "READ");
    assert_eq!(
        replies[0]["tag"],
        Value::Null,
        "a standard reply has no tag"
    );
}

#[tokio::test]
async fn reply_eight_days_after_the_customer_wrote_is_refused_before_anything_is_sent() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Hello?", Some(8 * DAY_SECS)).await;

    // Act
    let response = send(&world.app, &conversation, "Sorry for the wait!", None).await;

    // Assert
    assert_eq!(
        error_code(&response),
        Some("OUTSIDE_MESSAGING_WINDOW"),
        "{response:#}"
    );
    assert!(response["data"].is_null(), "{response:#}");
    assert_eq!(world.sim.sent(PAGE).await, Vec::<Value>::new());
    let stored = messages(&world.app, &conversation).await;
    assert_eq!(stored.len(), 1, "only the customer's message: {stored:#?}");
    assert_eq!(stored[0]["direction"], "INBOUND");
}

#[tokio::test]
async fn reply_three_days_after_the_customer_wrote_is_sent_with_the_human_agent_tag() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Hello?", Some(3 * DAY_SECS)).await;

    // Act
    let response = send(&world.app, &conversation, "Sorry for the wait!", None).await;

    // Assert
    let message = sent_message(&response);
    assert!(mf_tests::went_out(&message["status"]), "{message:#}");
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["mid"], message["mid"]);
    assert_eq!(sent[0]["messaging_type"], "MESSAGE_TAG");
    assert_eq!(sent[0]["tag"], "HUMAN_AGENT");
    // The inbox is told so, then and later.
    assert_eq!(message["tag"], "HUMAN_AGENT", "{message:#}");
    let replies = outbound(&messages(&world.app, &conversation).await);
    assert_eq!(replies[0]["tag"], "HUMAN_AGENT", "{replies:#?}");
}

#[tokio::test]
async fn revoked_token_fails_the_send_and_marks_the_page_for_reconnection() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Hi there", None).await;
    world.sim.revoke(PAGE).await;

    // Act
    let first = send(&world.app, &conversation, "Hello!", None).await;
    let pages = world
        .app
        .gql_data("{ pages { id connected needsReconnect } }", json!({}))
        .await;
    let second = send(&world.app, &conversation, "Hello again!", None).await;

    // Assert
    let failed = sent_message(&first);
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    assert_eq!(failed["errorCode"], "PAGE_NEEDS_RECONNECT");
    let page = pages["pages"]
        .as_array()
        .and_then(|pages| pages.iter().find(|page| page["id"] == PAGE))
        .unwrap_or_else(|| panic!("no page {PAGE} in {pages:#}"));
    assert_eq!(page["needsReconnect"], true, "{page:#}");
    assert_eq!(error_code(&second), Some("FORBIDDEN"), "{second:#}");
    assert_eq!(world.sim.sent(PAGE).await, Vec::<Value>::new());
    let replies = outbound(&messages(&world.app, &conversation).await);
    assert_eq!(replies.len(), 1, "only the failed reply: {replies:#?}");
    assert_eq!(replies[0]["status"], "FAILED");
}

#[tokio::test]
async fn rate_limited_sends_are_retried_until_all_are_sent() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Three questions", None).await;
    world
        .sim
        .set_rate_limits(json!({ "send_per_sec": 1 }))
        .await;
    let texts = ["Answer one", "Answer two", "Answer three"];

    // Act
    let responses = tokio::time::timeout(
        RETRY_TIMEOUT,
        futures::future::join_all(
            texts
                .iter()
                .map(|text| send(&world.app, &conversation, text, None)),
        ),
    )
    .await
    .expect("the three sends finished");

    // Assert
    // Each one was sent; a delivery or read receipt may already have moved it on by the
    // time the answer was written (statuses only move forward).
    let sent_here: Vec<Value> = responses.iter().map(sent_message).collect();
    for message in &sent_here {
        let status = message["status"].as_str().unwrap_or_default();
        assert!(
            ["SENT", "DELIVERED", "READ"].contains(&status),
            "{sent_here:#?}"
        );
    }
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let mut texts_sent: Vec<&str> = sent.iter().filter_map(|m| m["text"].as_str()).collect();
    texts_sent.sort_unstable();
    let mut expected = texts.to_vec();
    expected.sort_unstable();
    assert_eq!(texts_sent, expected);
    let mids: HashSet<&Value> = sent_here.iter().map(|m| &m["mid"]).collect();
    let sim_mids: HashSet<&Value> = sent.iter().map(|m| &m["mid"]).collect();
    assert_eq!(mids, sim_mids);
}

#[tokio::test]
async fn repeated_client_mutation_id_returns_the_first_message_and_sends_once() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Hello", None).await;

    // Act
    let first = send(&world.app, &conversation, "Hi!", Some("reply-1")).await;
    let again = send(&world.app, &conversation, "Hi!", Some("reply-1")).await;

    // Assert
    let (first, again) = (sent_message(&first), sent_message(&again));
    assert_eq!(first["id"], again["id"], "{first:#}\n{again:#}");
    assert_eq!(first["mid"], again["mid"]);
    assert_eq!(again["clientMutationId"], "reply-1");
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(
        outbound(&messages(&world.app, &conversation).await).len(),
        1
    );
}

#[tokio::test]
async fn a_client_mutation_id_is_unique_per_conversation_not_per_page() {
    // Arrange: two customers, each with a conversation; an integration numbers its keys
    // 1, 2, … in each conversation.
    let world = page_with_customer(CUSTOMER).await;
    world
        .sim
        .create_customer(PAGE, OTHER_CUSTOMER, "Grace", "Hopper")
        .await;
    let first_conversation = customer_writes(&world, CUSTOMER, "Hello", None).await;
    let second_conversation = customer_writes(&world, OTHER_CUSTOMER, "Hi there", None).await;

    // Act
    let to_first = send(&world.app, &first_conversation, "For Ada", Some("1")).await;
    let to_second = send(&world.app, &second_conversation, "For Grace", Some("1")).await;
    let first_again = send(&world.app, &first_conversation, "For Ada", Some("1")).await;

    // Assert: two messages, one in each conversation, each sent once.
    let (to_first, to_second) = (sent_message(&to_first), sent_message(&to_second));
    assert_ne!(
        to_first["id"], to_second["id"],
        "{to_first:#}\n{to_second:#}"
    );
    assert_eq!(to_second["conversationId"], second_conversation.as_str());
    assert_eq!(to_second["text"], "For Grace");
    assert_eq!(sent_message(&first_again)["id"], to_first["id"]);
    let sent = world.sim.sent(PAGE).await;
    let mut texts: Vec<&str> = sent.iter().filter_map(|m| m["text"].as_str()).collect();
    texts.sort_unstable();
    assert_eq!(texts, ["For Ada", "For Grace"], "{sent:#?}");
    for (conversation, text) in [
        (&first_conversation, "For Ada"),
        (&second_conversation, "For Grace"),
    ] {
        let replies = outbound(&messages(&world.app, conversation).await);
        assert_eq!(replies.len(), 1, "{replies:#?}");
        assert_eq!(replies[0]["text"], text);
    }
}

#[tokio::test]
async fn concurrent_sends_with_one_client_mutation_id_store_and_send_one_message() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Hello", None).await;

    // Act
    let responses = futures::future::join_all(
        (0..10).map(|_| send(&world.app, &conversation, "Hi!", Some("double-click"))),
    )
    .await;

    // Assert
    let ids: HashSet<Value> = responses
        .iter()
        .map(|response| sent_message(response)["id"].clone())
        .collect();
    assert_eq!(ids.len(), 1, "{responses:#?}");
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(
        outbound(&messages(&world.app, &conversation).await).len(),
        1
    );
}

#[tokio::test]
async fn reply_written_in_business_suite_shows_up_once_as_outbound_with_its_app_id() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Do you ship to Norway?", None).await;
    let mut added = world
        .app
        .subscribe(
            &format!(
                "subscription($id: ID!) {{ messageAdded(conversationId: $id) {{ {FIELDS} }} }}"
            ),
            json!({ "id": conversation }),
        )
        .await;

    // Act
    let mid = world
        .sim
        .inbox_reply(PAGE, CUSTOMER, "We do, in 3 days.")
        .await;

    // Assert
    let event = added.next(TIMEOUT).await.expect("a messageAdded event");
    let message = &event["messageAdded"];
    assert_eq!(message["mid"], mid.as_str(), "{message:#}");
    assert_eq!(message["direction"], "OUTBOUND");
    assert_eq!(message["text"], "We do, in 3 days.");
    assert_eq!(message["appId"], PAGE_INBOX_APP_ID);
    added.expect_nothing(Duration::from_millis(300)).await;
    let stored = messages(&world.app, &conversation).await;
    let with_mid: Vec<&Value> = stored.iter().filter(|m| m["mid"] == mid.as_str()).collect();
    assert_eq!(with_mid.len(), 1, "{stored:#?}");
    assert_eq!(outbound(&stored).len(), 1, "{stored:#?}");
}

/// The conversations of `PAGE` the inbox shows, newest first (every page of the connection).
async fn inbox(app: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = app
            .gql_data(
                &format!(
                    "query($page: ID!, $after: String) {{ \
                     conversations(pageId: $page, first: 100, after: $after) {{ \
                     edges {{ node {{ {CONVERSATION_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
                ),
                json!({ "page": PAGE, "after": after }),
            )
            .await;
        let connection = &data["conversations"];
        all.extend(nodes(connection));
        if connection["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
}

#[tokio::test]
async fn sync_conversations_imports_the_five_newest_conversations_with_names_and_messages() {
    // Arrange
    let world = connected_page().await;
    let seeded = world.sim.seed(PAGE, 12, 3).await;
    let names: HashMap<String, String> = world
        .sim
        .customers(PAGE)
        .await
        .iter()
        .map(|c| {
            (
                c["psid"].as_str().unwrap_or_default().to_owned(),
                format!(
                    "{} {}",
                    c["first_name"].as_str().unwrap_or_default(),
                    c["last_name"].as_str().unwrap_or_default()
                ),
            )
        })
        .collect();

    // Act
    let data = world
        .app
        .gql_data(
            "mutation($page: ID!) { syncConversations(pageId: $page) \
             { conversations messages newMessages } }",
            json!({ "page": PAGE }),
        )
        .await;

    // Assert: the five newest, newest first, named, with all their messages, none unread.
    assert_eq!(
        data["syncConversations"],
        json!({ "conversations": 5, "messages": 15, "newMessages": 15 })
    );
    let conversations = inbox(&world.app).await;
    let psids: Vec<&str> = conversations
        .iter()
        .map(|c| c["customer"]["psid"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(psids, seeded.psids[..5].to_vec(), "{conversations:#?}");
    let history: HashMap<String, Vec<String>> = world
        .sim
        .graph_history(PAGE, &world.token)
        .await
        .into_iter()
        .map(|thread| (thread.psid, thread.mids))
        .collect();
    for conversation in &conversations {
        let psid = conversation["customer"]["psid"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            conversation["customer"]["name"],
            names[psid].as_str(),
            "{conversation:#}"
        );
        assert_eq!(conversation["unreadCount"], 0, "{conversation:#}");
        let stored = messages(&world.app, id_of(conversation)).await;
        let mut stored_mids: Vec<&str> = stored
            .iter()
            .map(|m| m["mid"].as_str().unwrap_or_default())
            .collect();
        stored_mids.sort_unstable();
        let mut expected: Vec<&str> = history[psid].iter().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(stored_mids, expected, "{psid}: {stored:#?}");
    }
}

#[tokio::test]
async fn full_history_sync_imports_every_conversation_while_customers_keep_writing() {
    // Arrange: 300 threads, the default Conversations API limit of 2 calls/s.
    let world = connected_page().await;
    let seeded = world.sim.seed(PAGE, 300, 3).await;
    assert_eq!(seeded.messages, 900);

    // Act: start the job and follow it; once it is under way, ten customers write.
    let data = world
        .app
        .gql_data(
            "mutation($page: ID!) { syncFullHistory(pageId: $page) \
             { id status conversations messages error } }",
            json!({ "page": PAGE }),
        )
        .await;
    let job_id = id_of(&data["syncFullHistory"]).to_owned();
    let mut progress = world
        .app
        .subscribe(
            "subscription($id: ID!) { syncProgress(jobId: $id) \
             { id status conversations messages error } }",
            json!({ "id": job_id }),
        )
        .await;
    let writers: Vec<String> = seeded.psids.iter().step_by(30).cloned().collect();
    assert_eq!(writers.len(), 10);
    let mut new_mids = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    // A deadline, not a timing: the job needs about 8 s at 2 calls/s (counting, then
    // importing), and a loaded CI machine has taken more than 20.
    let within = Duration::from_secs(60);
    // Each look reads the next event (no pause between them).
    let finished = eventually_every(Duration::ZERO, within, async || {
        let event = progress
            .next(within)
            .await
            .unwrap_or_else(|error| panic!("the job did not finish ({error:#}): {events:#?}"));
        let job = event["syncProgress"].clone();
        events.push(job.clone());
        if job["status"] != "RUNNING" {
            return Ok(job);
        }
        if new_mids.is_empty() && job["conversations"].as_i64().unwrap_or(0) > 0 {
            for (n, psid) in writers.iter().enumerate() {
                let text = format!("Any news on my order? ({n})");
                new_mids.push(world.sim.customer_says(PAGE, psid, &text, None).await);
            }
        }
        Err(format!("the job did not finish: {events:#?}"))
    })
    .await;

    // Assert: the job ended DONE after several progress events with growing counts.
    assert_eq!(finished["status"], "DONE", "{events:#?}");
    assert!(finished["error"].is_null(), "{finished:#}");
    assert_eq!(new_mids.len(), 10, "the customers never wrote: {events:#?}");
    let running = events.iter().filter(|e| e["status"] == "RUNNING").count();
    assert!(running >= 3, "only {running} progress events: {events:#?}");
    for pair in events.windows(2) {
        for count in ["conversations", "messages"] {
            assert!(
                pair[1][count].as_i64() >= pair[0][count].as_i64(),
                "{count} went down: {events:#?}"
            );
        }
    }

    // Assert: every webhook reached the api before counting.
    eventually(TIMEOUT, async || {
        let deliveries = world.sim.deliveries().await;
        let all_new_seen = new_mids.iter().all(|mid| {
            deliveries.iter().any(|d| {
                d["delivered"] == true
                    && d["body"].as_str().is_some_and(|b| b.contains(mid.as_str()))
            })
        });
        all_new_seen
            .then_some(())
            .ok_or(format!("not every webhook was delivered: {deliveries:#?}"))
    })
    .await;

    // Assert: every seeded conversation is in the inbox.
    let conversations = inbox(&world.app).await;
    let in_inbox: HashSet<&str> = conversations
        .iter()
        .map(|c| c["customer"]["psid"].as_str().unwrap_or_default())
        .collect();
    let missing: Vec<&String> = seeded
        .psids
        .iter()
        .filter(|psid| !in_inbox.contains(psid.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} conversations missing: {missing:?}",
        missing.len()
    );
    assert_eq!(conversations.len(), 300);

    // Assert: every message the simulator holds is stored exactly once.
    world
        .sim
        .set_rate_limits(json!({ "conversations_per_sec": null }))
        .await;
    let history = world.sim.graph_history(PAGE, &world.token).await;
    let expected: HashSet<String> = history.iter().flat_map(|t| t.mids.clone()).collect();
    assert_eq!(expected.len(), 910, "the simulator's own count");
    let stored: Vec<String> = entity::message::Entity::find()
        .filter(entity::message::Column::PageId.eq(PAGE))
        .all(world.app.db())
        .await
        .expect("reading the stored messages")
        .into_iter()
        .map(|m| m.mid)
        .collect();
    let stored_set: HashSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored_set.len(), stored.len(), "a mid stored twice");
    let not_stored: Vec<(&str, usize)> = history
        .iter()
        .map(|t| {
            let missing = t.mids.iter().filter(|m| !stored_set.contains(*m)).count();
            (t.psid.as_str(), missing)
        })
        .filter(|(_, missing)| *missing > 0)
        .collect();
    let writers_missing: Vec<&&str> = not_stored
        .iter()
        .map(|(psid, _)| psid)
        .filter(|psid| writers.iter().any(|w| w == **psid))
        .collect();
    assert_eq!(
        stored.len(),
        expected.len(),
        "stored {} of the simulator's {} messages; threads missing messages (psid, how many): \
         {not_stored:?}; of them, customers who wrote during the sync: {writers_missing:?}; \
         the job: {finished}",
        stored.len(),
        expected.len()
    );
    assert_eq!(stored_set, expected);

    // Assert: imported history is not unread; only the ten new messages are.
    for conversation in &conversations {
        let psid = conversation["customer"]["psid"]
            .as_str()
            .unwrap_or_default();
        let unread = i64::from(writers.iter().any(|w| w == psid));
        assert_eq!(conversation["unreadCount"], unread, "{conversation:#}");
    }
}

#[tokio::test]
async fn mark_read_resets_unread_count_and_tells_facebook_the_page_has_seen_it() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    world
        .sim
        .create_customer(PAGE, OTHER_CUSTOMER, "Grace", "Hopper")
        .await;
    customer_writes(&world, CUSTOMER, "Hello", None).await;
    let conversation = customer_writes(&world, CUSTOMER, "Anyone there?", None).await;
    customer_writes(&world, OTHER_CUSTOMER, "Hi", None).await;
    let before = world.app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(before["unreadCount"], 2, "{before:#}");

    // Act
    let data = world
        .app
        .gql_data(
            "mutation($id: ID!) { updateConversation(id: $id, input: { markRead: true }) \
             { id unreadCount } }",
            json!({ "id": conversation }),
        )
        .await;

    // Assert
    assert_eq!(data["updateConversation"]["unreadCount"], 0, "{data:#}");
    let after = world.app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(after["unreadCount"], 0, "{after:#}");
    let other = world.app.conversation_with(PAGE, OTHER_CUSTOMER).await;
    assert_eq!(other["unreadCount"], 1, "{other:#}");
    let action = eventually(TIMEOUT, async || {
        let actions = world.sim.sender_actions(PAGE).await;
        let seen = actions.iter().find(|a| a["sender_action"] == "mark_seen");
        seen.cloned()
            .ok_or(format!("no mark_seen reached the simulator: {actions:#?}"))
    })
    .await;
    assert_eq!(action["recipient_id"], CUSTOMER, "{action:#}");
    assert_eq!(world.sim.sent(PAGE).await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_new_customer_from_a_webhook_gets_the_name_and_picture_of_their_profile() {
    // Arrange: a customer with a profile, whom the inbox has never seen.
    let world = page_with_customer("5550001").await;
    let mut updates = world
        .app
        .subscribe(
            "subscription($page: ID!) { conversationUpdated(pageId: $page) \
             { customer { psid name pictureUrl } } }",
            json!({ "page": PAGE }),
        )
        .await;

    // Act
    world
        .sim
        .customer_says(PAGE, "5550001", "Hello?", None)
        .await;

    // Assert: first the message without a name, then the profile's name and picture.
    let within = Duration::from_secs(10);
    // Each look reads the next event (no pause between them).
    eventually_every(Duration::ZERO, within, async || {
        let event = updates
            .next(within)
            .await
            .expect("the customer's name in time");
        let customer = &event["conversationUpdated"]["customer"];
        assert_eq!(customer["psid"], "5550001");
        if customer["name"] == "Ada Lovelace" {
            assert!(
                customer["pictureUrl"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("http"))
            );
            return Ok(());
        }
        Err(format!("the customer's name in time; last: {customer}"))
    })
    .await;
    let stored = world.app.conversation_with(PAGE, "5550001").await;
    assert_eq!(stored["customer"]["name"], "Ada Lovelace");
}

#[tokio::test]
async fn an_image_by_url_is_sent_as_an_attachment_and_stored_with_it() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Can you show me?", None).await;
    let url = "https://cdn.example.com/catalogue/boot-42.jpg";

    // Act
    let data = world
        .app
        .gql_data(
            "mutation($c: ID!, $u: String!) { sendMessage(input: { conversationId: $c, \
             attachment: { type: IMAGE, url: $u } }) { status text attachments { type url } } }",
            json!({ "c": conversation, "u": url }),
        )
        .await;

    // Assert
    let message = &data["sendMessage"];
    assert_ne!(message["status"], "FAILED", "{message:#}");
    assert_eq!(message["text"], Value::Null);
    assert_eq!(
        message["attachments"],
        json!([{ "type": "image", "url": url }])
    );
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].to_string().contains(url), "{:#}", sent[0]);
    let stored = world.app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(stored["lastMessageText"], "[image]");
}

#[tokio::test]
async fn the_typing_indicator_reaches_facebook_as_sender_actions() {
    // Arrange
    let world = page_with_customer(CUSTOMER).await;
    let conversation = customer_writes(&world, CUSTOMER, "Hello", None).await;
    let typing =
        "mutation($c: ID!, $on: Boolean!) { sendTypingIndicator(conversationId: $c, typing: $on) }";

    // Act
    world
        .app
        .gql_data(typing, json!({ "c": conversation, "on": true }))
        .await;
    world
        .app
        .gql_data(typing, json!({ "c": conversation, "on": false }))
        .await;

    // Assert
    let actions: Vec<String> = world
        .sim
        .sender_actions(PAGE)
        .await
        .iter()
        .filter_map(|a| a["sender_action"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(actions, ["typing_on", "typing_off"]);
    assert_eq!(world.sim.sent(PAGE).await, Vec::<Value>::new());
}

/// A Graph API stand-in whose Send API answers every send with the mid `mid`: enough to
/// connect a Page and reply (profile lookups get 404).
async fn graph_answering_sends_with(mid: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the fake Graph API");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                let (head, body_start) = loop {
                    let Ok(read) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&chunk[..read]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (
                            String::from_utf8_lossy(&request[..end]).into_owned(),
                            end + 4,
                        );
                    }
                };
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while request.len() < body_start + length {
                    let Ok(read) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if read == 0 {
                        break;
                    }
                    request.extend_from_slice(&chunk[..read]);
                }
                let line = head.lines().next().unwrap_or_default().to_owned();
                let (status, body) = if line.starts_with("GET /me") {
                    ("200 OK", json!({ "id": PAGE, "name": "Fake Page" }))
                } else if line.contains("/subscribed_apps") {
                    ("200 OK", json!({ "success": true }))
                } else if line.starts_with(&format!("POST /{PAGE}/messages")) {
                    (
                        "200 OK",
                        json!({ "recipient_id": CUSTOMER, "message_id": mid }),
                    )
                } else {
                    (
                        "404 Not Found",
                        json!({ "error": { "message": "unknown", "type": "GraphMethodException", "code": 100 } }),
                    )
                };
                let body = body.to_string();
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// The Send API answers with a mid that a history sync already imported (a copy of this
/// very reply: outbound, no agent): the copy is merged into our message, which becomes
/// SENT with the mid, instead of staying PENDING for ever behind the unique mid.
#[tokio::test]
async fn a_send_whose_mid_a_sync_already_imported_merges_the_copy_and_is_sent() {
    use mf_tests::webhook::{batch, echo, message};
    // Arrange
    let graph = graph_answering_sends_with("m-known").await;
    let app = mf_tests::spawn_app_with(move |config| config.fb_graph_url = graph).await;
    let page = app.connect_page(PAGE, "fake-page-token").await;
    assert_eq!(page["connected"], true, "{page:#}");
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("a clock after 1970")
            .as_millis(),
    )
    .expect("a time in range");
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-hello", "Hello", now)],
    ))
    .await;
    app.ingest(&batch(
        PAGE,
        [echo(PAGE, CUSTOMER, "m-known", "Hi!", now + 1)],
    ))
    .await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let copy = app
        .messages(id_of(&conversation))
        .await
        .into_iter()
        .find(|m| m["mid"] == "m-known")
        .expect("the imported copy");

    // Act
    let sent = sent_message(&send(&app, id_of(&conversation), "Hi!", Some("reply-1")).await);

    // Assert
    assert!(mf_tests::went_out(&sent["status"]), "{sent:#}");
    assert_eq!(sent["mid"], "m-known", "{sent:#}");
    assert_ne!(sent["id"], copy["id"]);
    let stored = outbound(&messages(&app, id_of(&conversation)).await);
    assert_eq!(stored.len(), 1, "{stored:#?}");
    assert_eq!(stored[0]["id"], sent["id"]);
    assert_eq!(stored[0]["clientMutationId"], "reply-1");
}
