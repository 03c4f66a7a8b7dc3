//! Receipts as Facebook sends them (issue 14, point 4), the api against the simulator:
//! deliveries without `mids` (the watermark only), and read watermarks that come again,
//! late and lower. Watermarks only ever move forward.
use mf_tests::sim::{SIM_SECRET, Simulator, spawn_app_on};
use mf_tests::{CUSTOMER, PAGE, TIMEOUT, TestApp, eventually, id_of};
use serde_json::{Value, json};

/// A connected Page whose customer wrote; the conversation's id.
async fn conversation_with_customer(sim: &Simulator, app: &TestApp) -> String {
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    app.connect_page(PAGE, &token).await;
    sim.create_customer(PAGE, CUSTOMER, "Ada", "Lovelace").await;
    sim.customer_says(PAGE, CUSTOMER, "Is the tent waterproof?", None)
        .await;
    let conversation = eventually(TIMEOUT, async || {
        let list = app.conversations(PAGE).await;
        list.first()
            .cloned()
            .ok_or(format!("the customer's message was not stored: {list:#?}"))
    })
    .await;
    id_of(&conversation).to_owned()
}

/// `sendMessage`; the new message's mid.
async fn reply(app: &TestApp, conversation: &str, text: &str) -> String {
    let data = app
        .gql_data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { mid status } }",
            json!({ "input": { "conversationId": conversation, "text": text } }),
        )
        .await;
    data["sendMessage"]["mid"]
        .as_str()
        .unwrap_or_else(|| panic!("no mid in {data}"))
        .to_owned()
}

/// Waits until every message with one of `mids` has `status`; the conversation's messages.
async fn until_status(
    app: &TestApp,
    conversation: &str,
    mids: &[&str],
    status: &str,
) -> Vec<Value> {
    eventually(TIMEOUT, async || {
        let messages = app.messages(conversation).await;
        let done = mids.iter().all(|mid| {
            messages
                .iter()
                .any(|m| m["mid"] == *mid && m["status"] == status)
        });
        if done {
            Ok(messages)
        } else {
            Err(format!("not all of {mids:?} are {status}: {messages:#?}"))
        }
    })
    .await
}

/// When the simulator stored the Page's message `mid` (ms): what receipts' watermarks name.
async fn sent_at(sim: &Simulator, mid: &str) -> i64 {
    let sent = sim.sent(PAGE).await;
    sent.iter()
        .find(|m| m["mid"] == mid)
        .and_then(|m| m["timestamp"].as_i64())
        .unwrap_or_else(|| panic!("{mid} is not in what the Page sent: {sent:#?}"))
}

/// The read watermarks of these webhook bodies, in the order they were posted.
fn read_watermarks(bodies: &[String]) -> Vec<i64> {
    bodies
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .flat_map(|body| {
            body["entry"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|e| e["messaging"].as_array().cloned().unwrap_or_default())
        })
        .filter_map(|event| event["read"]["watermark"].as_i64())
        .collect()
}

#[tokio::test]
async fn deliveries_without_mids_mark_every_reply_up_to_their_watermark_delivered() {
    // Arrange: deliveries carry the watermark only, as older Messenger clients send them,
    // and nobody reads, so DELIVERED can only come from them.
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    sim.set_receipts(json!({ "mids": "never", "reads": false }))
        .await;
    let conversation = conversation_with_customer(&sim, &app).await;

    // Act
    let first = reply(&app, &conversation, "Yes, up to 3000 mm.").await;
    let second = reply(&app, &conversation, "And the seams are taped.").await;

    // Assert: both delivered from watermarks alone.
    until_status(&app, &conversation, &[&first, &second], "DELIVERED").await;
    let bodies = sim.delivered_bodies().await;
    let deliveries = bodies
        .iter()
        .map(|b| b.matches("\"delivery\"").count())
        .sum::<usize>();
    assert!(deliveries >= 2, "{bodies:#?}");
    for body in &bodies {
        assert!(
            !body.contains("\"mids\""),
            "a delivery named its mids: {body}"
        );
    }
}

#[tokio::test]
async fn a_late_lower_read_watermark_changes_nothing() {
    // Arrange: every read comes twice, then the thread's earlier, lower reads come again.
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    sim.set_receipts(json!({ "mids": "random", "stale_reads": true }))
        .await;
    let conversation = conversation_with_customer(&sim, &app).await;
    let first = reply(&app, &conversation, "Yes, up to 3000 mm.").await;
    until_status(&app, &conversation, &[&first], "READ").await;
    let second = reply(&app, &conversation, "And the seams are taped.").await;
    until_status(&app, &conversation, &[&first, &second], "READ").await;
    let (low, high) = (sent_at(&sim, &first).await, sent_at(&sim, &second).await);
    assert!(low < high, "{low} {high}");

    // Act: the last read the api gets is the lower one, after the higher one (twice).
    let bodies = eventually(TIMEOUT, async || {
        let bodies = sim.delivered_bodies().await;
        let reads = read_watermarks(&bodies);
        let high_then_low = reads
            .iter()
            .position(|w| *w == high)
            .is_some_and(|first_high| reads.len() > first_high + 2 && reads.last() == Some(&low));
        if high_then_low
            && sim
                .deliveries()
                .await
                .iter()
                .all(|d| d["delivered"] == true)
        {
            Ok(bodies)
        } else {
            Err(format!("the stale read has not arrived yet: {reads:?}"))
        }
    })
    .await;
    // A person's reply from the Page Inbox, written between the two and echoed only now:
    // the thread's read watermark (the higher one) already covers it, so no receipt follows.
    let late = sim
        .inbox_reply_at(PAGE, CUSTOMER, "We also sell footprints.", low + 1)
        .await;

    // Assert: the late echo is READ at once, as the higher watermark says, and the replies
    // are still READ.
    let messages = until_status(&app, &conversation, &[&first, &second, &late], "READ").await;
    assert_eq!(
        messages
            .iter()
            .filter(|m| m["direction"] == "OUTBOUND")
            .count(),
        3,
        "{messages:#?}"
    );
    let after = sim.delivered_bodies().await;
    assert!(
        read_watermarks(&after[bodies.len()..]).is_empty(),
        "a read receipt came after the late echo: {after:#?}"
    );
}
