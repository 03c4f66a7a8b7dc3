//! The customer's story (issue 15, point 5): referrals from the webhook, stored once, and
//! `customerStory` with who the customer is, their counts and how they came; pushed live
//! through `pageEvents` and replayed after a position.
use mf_tests::sim::connected_page;
use mf_tests::webhook::{batch, echo, event, message};
use mf_tests::{CUSTOMER, OTHER_PAGE, PAGE, T0, TIMEOUT, TestApp, eventually, id_of, spawn_app};
use serde_json::{Value, json};

const STORY: &str = "query($id: ID!) { customerStory(conversationId: $id) { \
    psid name pictureUrl firstContactAt lastContactAt inboundCount outboundCount \
    conversation { id } otherConversations { id page { id } status } \
    referrals { id conversationId source type ref adId adTitle refererUri at } } }";

const PAGE_EVENTS: &str = "subscription($p: ID!, $after: String) { pageEvents(pageId: $p, after: $after) { \
    position kind referral { id conversationId source ref adId position } } }";

/// A standalone referral (`messaging_referrals`) of `psid` on `page` at `at`.
fn referral(page: &str, psid: &str, at: i64, value: Value) -> Value {
    event(psid, page, at, "referral", value)
}

async fn story(app: &TestApp, conversation_id: &str) -> Value {
    app.gql_data(STORY, json!({ "id": conversation_id })).await["customerStory"].clone()
}

async fn event_position(app: &TestApp, page: &str) -> String {
    let data = app
        .gql_data("{ pages { id eventPosition } }", json!({}))
        .await;
    data["pages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"] == page)
        .and_then(|p| p["eventPosition"].as_str())
        .expect("eventPosition")
        .to_owned()
}

async fn next_referral(subscription: &mut mf_tests::ws::Subscription) -> Value {
    loop {
        let event = subscription.next(TIMEOUT).await.expect("a page event");
        if event["pageEvents"]["kind"] == "REFERRAL_ADDED" {
            return event["pageEvents"].clone();
        }
    }
}

#[tokio::test]
async fn a_retried_referral_is_stored_once_and_the_story_says_how_the_customer_came() {
    // Arrange: the customer wrote twice and was answered once.
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m1", "do you have tents?", T0),
            echo(PAGE, CUSTOMER, "m2", "we do", T0 + 60_000),
            message(PAGE, CUSTOMER, "m3", "great", T0 + 120_000),
        ],
    ))
    .await;
    let ad = batch(
        PAGE,
        [referral(
            PAGE,
            CUSTOMER,
            T0 + 200_000,
            json!({ "ref": "spring", "ad_id": "6045246247433", "source": "ADS",
                    "type": "OPEN_THREAD", "ads_context_data": { "ad_title": "Tents -20%" } }),
        )],
    );

    // Act: Facebook delivers the ad referral three times (it retries).
    for _ in 0..3 {
        app.ingest(&ad).await;
    }
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let story = story(&app, id_of(&conversation)).await;

    // Assert
    assert_eq!(story["psid"], CUSTOMER);
    assert_eq!(story["conversation"]["id"], id_of(&conversation));
    assert_eq!(story["inboundCount"], 2, "{story:#}");
    assert_eq!(story["outboundCount"], 1, "{story:#}");
    assert_eq!(story["firstContactAt"], "2025-11-26T13:25:26.123Z");
    assert_eq!(story["lastContactAt"], "2025-11-26T13:27:26.123Z");
    assert_eq!(story["otherConversations"], json!([]));
    let referrals = story["referrals"].as_array().expect("referrals");
    assert_eq!(referrals.len(), 1, "stored once: {story:#}");
    assert_eq!(
        referrals[0]["conversationId"],
        id_of(&conversation),
        "{story:#}"
    );
    assert_eq!(referrals[0]["source"], "ADS");
    assert_eq!(referrals[0]["type"], "OPEN_THREAD");
    assert_eq!(referrals[0]["ref"], "spring");
    assert_eq!(referrals[0]["adId"], "6045246247433");
    assert_eq!(referrals[0]["adTitle"], "Tents -20%");
    assert_eq!(referrals[0]["refererUri"], Value::Null);
    assert_eq!(referrals[0]["at"], "2025-11-26T13:28:46.123Z");
}

#[tokio::test]
async fn a_postbacks_and_a_messages_referral_are_kept_beside_them_and_a_bad_one_loses_nothing() {
    // Arrange: a Get Started postback from an m.me link, a message from the chat plugin,
    // and beside them a referral whose address is a script, which must not be stored.
    let app = spawn_app().await;
    let delivery = batch(
        PAGE,
        [
            event(
                CUSTOMER,
                PAGE,
                T0,
                "postback",
                json!({ "mid": "m_start", "title": "Get Started", "payload": "GO",
                        "referral": { "ref": "winter-sale", "source": "SHORTLINK", "type": "OPEN_THREAD" } }),
            ),
            referral(
                PAGE,
                CUSTOMER,
                T0 + 500,
                json!({ "source": "CUSTOMER_CHAT_PLUGIN", "referer_uri": "javascript:alert(1)" }),
            ),
            event(
                CUSTOMER,
                PAGE,
                T0 + 1000,
                "message",
                json!({ "mid": "m_plugin", "text": "from your website",
                        "referral": { "source": "CUSTOMER_CHAT_PLUGIN", "type": "OPEN_THREAD",
                                      "referer_uri": "https://shop.example/tents" } }),
            ),
        ],
    );

    // Act: twice, as Facebook may.
    app.ingest(&delivery).await;
    app.ingest(&delivery).await;

    // Assert: both messages, both good referrals, newest first; nothing of the bad one.
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let texts: Vec<Value> = app
        .messages(id_of(&conversation))
        .await
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(texts, [json!("Get Started"), json!("from your website")]);
    let story = story(&app, id_of(&conversation)).await;
    let found: Vec<(Value, Value, Value)> = story["referrals"]
        .as_array()
        .expect("referrals")
        .iter()
        .map(|r| {
            (
                r["source"].clone(),
                r["ref"].clone(),
                r["refererUri"].clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                json!("CUSTOMER_CHAT_PLUGIN"),
                Value::Null,
                json!("https://shop.example/tents")
            ),
            (json!("SHORTLINK"), json!("winter-sale"), Value::Null),
        ],
        "{story:#}"
    );
}

#[tokio::test]
async fn the_same_psid_on_another_page_is_someone_else_and_never_in_the_story() {
    // Arrange: the same digits write to two Pages, and each gets a referral.
    let app = spawn_app().await;
    for page in [PAGE, OTHER_PAGE] {
        app.ingest(&batch(
            page,
            [
                message(page, CUSTOMER, &format!("m_{page}"), "hello", T0),
                referral(
                    page,
                    CUSTOMER,
                    T0 + 10,
                    json!({ "source": "SHORTLINK", "ref": format!("ref-{page}") }),
                ),
            ],
        ))
        .await;
    }

    // Act
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    let story = story(&app, id_of(&conversation)).await;

    // Assert: only this Page's conversation and referral.
    assert_eq!(story["otherConversations"], json!([]), "{story:#}");
    let refs: Vec<&Value> = story["referrals"]
        .as_array()
        .expect("referrals")
        .iter()
        .map(|r| &r["ref"])
        .collect();
    assert_eq!(refs, [&json!(format!("ref-{PAGE}"))], "{story:#}");
}

#[tokio::test]
async fn a_referral_is_pushed_live_and_replayed_after_a_position() {
    // Arrange: a conversation, and a subscriber from before the referral.
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hi", T0)]))
        .await;
    let before = event_position(&app, PAGE).await;
    let mut live = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": before }))
        .await;

    // Act
    app.ingest(&batch(
        PAGE,
        [referral(
            PAGE,
            CUSTOMER,
            T0 + 10,
            json!({ "source": "ADS", "ad_id": "42", "ref": "live" }),
        )],
    ))
    .await;

    // Assert: live, with its position; and again for a subscriber resuming after `before`.
    let pushed = next_referral(&mut live).await;
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(pushed["referral"]["conversationId"], id_of(&conversation));
    assert_eq!(pushed["referral"]["adId"], "42");
    assert_eq!(pushed["referral"]["position"], pushed["position"]);
    let mut resumed = app
        .subscribe(PAGE_EVENTS, json!({ "p": PAGE, "after": before }))
        .await;
    let replayed = next_referral(&mut resumed).await;
    assert_eq!(replayed["position"], pushed["position"]);
    assert_eq!(replayed["referral"]["ref"], "live");
}

#[tokio::test]
async fn a_referral_sent_through_the_simulator_reaches_the_story_of_a_connected_page() {
    // Arrange: a connected Page (subscribed by `connectPage`) and a customer who wrote.
    let world = connected_page().await;
    world
        .sim
        .create_customer(PAGE, CUSTOMER, "Ada", "Lovelace")
        .await;
    world.sim.customer_says(PAGE, CUSTOMER, "hello", None).await;

    // Act: she comes back through an m.me link.
    let answer = world
        .sim
        .control(
            reqwest::Method::POST,
            &format!("/pages/{PAGE}/customers/{CUSTOMER}/referral"),
            Some(json!({ "source": "SHORTLINK", "ref": "newsletter-12" })),
        )
        .await;
    assert_eq!(answer["queued"], 1, "the Page is subscribed: {answer}");

    // Assert
    let app = &world.app;
    let found = eventually(TIMEOUT, async || {
        let conversations = app.conversations(PAGE).await;
        let Some(conversation) = conversations.first() else {
            return Err("no conversation yet".to_owned());
        };
        let story = story(app, id_of(conversation)).await;
        match story["referrals"].as_array() {
            Some(list) if !list.is_empty() && story["name"].is_string() => Ok(story),
            _ => Err(format!("{story:#}")),
        }
    })
    .await;
    assert_eq!(found["referrals"][0]["ref"], "newsletter-12");
    assert_eq!(found["referrals"][0]["source"], "SHORTLINK");
    assert_eq!(
        found["name"], "Ada Lovelace",
        "the profile, as on the list: {found:#}"
    );
}
