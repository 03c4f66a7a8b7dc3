//! `search` (issue 15, point 4): customer names and message texts, word prefixes without
//! case or accents, newest first, paged, only of the Pages the caller may see, and bounded.
use mf_tests::webhook::{batch, event, message};
use mf_tests::{
    CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TestApp, error_code, error_message, id_of,
    nodes, spawn_app,
};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!, $page: ID, $first: Int, $after: String) {
  search(query: $q, pageId: $page, first: $first, after: $after) {
    edges { cursor node {
      conversation { id page { id } customer { psid name } }
      message { id mid text }
      snippet highlights { start length }
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

async fn search_as(app: &TestApp, token: Option<&str>, q: &str, variables: Value) -> Value {
    let mut variables = variables;
    variables["q"] = json!(q);
    match token {
        Some(token) => app.gql_as(Some(token), SEARCH, variables).await,
        None => app.gql(SEARCH, variables).await,
    }
}

/// The administrator's hits: message mids (or `name:<customer name>` for a conversation hit), in order.
async fn hits(app: &TestApp, q: &str) -> Vec<String> {
    let answer = search_as(app, None, q, json!({})).await;
    assert!(answer["errors"].is_null(), "{answer:#}");
    nodes(&answer["data"]["search"])
        .iter()
        .map(|hit| match hit["message"]["mid"].as_str() {
            Some(mid) => mid.to_owned(),
            None => format!(
                "name:{}",
                hit["conversation"]["customer"]["name"].as_str().unwrap()
            ),
        })
        .collect()
}

/// The characters of `snippet` that `highlights` mark.
fn marked(hit: &Value) -> Vec<String> {
    let chars: Vec<char> = hit["snippet"].as_str().unwrap().chars().collect();
    hit["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let start = r["start"].as_u64().unwrap() as usize;
            let length = r["length"].as_u64().unwrap() as usize;
            chars[start..start + length].iter().collect()
        })
        .collect()
}

async fn name_customer(app: &TestApp, page: &str, psid: &str, name: &str) {
    let conversation = app.conversation_with(page, psid).await;
    app.db()
        .execute_unprepared(&format!(
            "UPDATE conversations SET customer_name = '{name}' WHERE id = {}",
            id_of(&conversation)
        ))
        .await
        .expect("naming the customer");
}

#[tokio::test]
async fn messages_are_found_by_the_start_of_words_without_case_or_accents_newest_first() {
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [
            message(PAGE, CUSTOMER, "m1", "Le café est fermé ?", T0),
            message(PAGE, CUSTOMER, "m2", "CAFETERIA opens at nine", T0 + 1),
            message(PAGE, CUSTOMER, "m3", "nothing to see here", T0 + 2),
            message(PAGE, CUSTOMER, "m4", "another cafe, décaféiné", T0 + 3),
        ],
    ))
    .await;

    assert_eq!(hits(&app, "cafe").await, ["m4", "m2", "m1"]);
    assert_eq!(
        hits(&app, "Café FER").await,
        ["m1"],
        "every word must match"
    );
    assert_eq!(
        hits(&app, "afe").await,
        Vec::<String>::new(),
        "words match from their start"
    );
    assert_eq!(hits(&app, "decafeine").await, ["m4"]);

    let answer = search_as(&app, None, "cafe", json!({})).await;
    let first = &nodes(&answer["data"]["search"])[0];
    assert_eq!(first["snippet"], "another cafe, décaféiné");
    assert_eq!(marked(first), ["cafe"], "{first:#}");
    let last = &nodes(&answer["data"]["search"])[2];
    assert_eq!(marked(last), ["café"]);
    assert_eq!(last["conversation"]["customer"]["psid"], CUSTOMER);
}

#[tokio::test]
async fn a_customers_name_is_found_and_comes_before_messages() {
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(
            PAGE,
            CUSTOMER,
            "m1",
            "my name is Müller, order 42",
            T0,
        )],
    ))
    .await;
    name_customer(&app, PAGE, CUSTOMER, "Zoë Müller").await;

    assert_eq!(hits(&app, "zoe").await, ["name:Zoë Müller"]);
    assert_eq!(hits(&app, "muller").await, ["name:Zoë Müller", "m1"]);
    let answer = search_as(&app, None, "zoe", json!({})).await;
    let hit = &nodes(&answer["data"]["search"])[0];
    assert!(hit["message"].is_null(), "{hit:#}");
    assert_eq!(marked(hit), ["Zoë"]);

    // A new name replaces the old one in the index.
    name_customer(&app, PAGE, CUSTOMER, "Zoe Schmidt").await;
    assert_eq!(hits(&app, "muller").await, ["m1"]);
    assert_eq!(hits(&app, "schmidt").await, ["name:Zoe Schmidt"]);
}

#[tokio::test]
async fn paging_walks_every_hit_once_names_then_messages() {
    let app = spawn_app().await;
    let events: Vec<Value> = (0..7)
        .map(|i| {
            message(
                PAGE,
                CUSTOMER,
                &format!("m{i}"),
                &format!("parcel {i}"),
                T0 + i,
            )
        })
        .collect();
    app.ingest(&batch(PAGE, events)).await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, OTHER_CUSTOMER, "o1", "hi", T0)],
    ))
    .await;
    name_customer(&app, PAGE, OTHER_CUSTOMER, "Parcelia Dupont").await;

    let mut seen = Vec::new();
    let mut after = Value::Null;
    for _ in 0..10 {
        let answer = search_as(&app, None, "parcel", json!({ "first": 3, "after": after })).await;
        assert!(answer["errors"].is_null(), "{answer:#}");
        let connection = &answer["data"]["search"];
        for hit in nodes(connection) {
            seen.push(match hit["message"]["mid"].as_str() {
                Some(mid) => mid.to_owned(),
                None => "name".to_owned(),
            });
        }
        if connection["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["name", "m6", "m5", "m4", "m3", "m2", "m1", "m0"]);
}

#[tokio::test]
async fn an_edited_message_is_found_by_its_new_text_only_and_a_retried_delivery_once() {
    let app = spawn_app().await;
    let delivery = batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m1", "blue jacket size M", T0)],
    );
    app.ingest(&delivery).await;
    app.ingest(&delivery).await;
    assert_eq!(
        hits(&app, "jacket").await,
        ["m1"],
        "a retried delivery is one hit"
    );

    app.ingest(&batch(
        PAGE,
        [event(
            CUSTOMER,
            PAGE,
            T0 + 60_000,
            "message_edit",
            json!({ "mid": "m1", "text": "red coat size L", "num_edit": 1 }),
        )],
    ))
    .await;
    assert_eq!(hits(&app, "jacket").await, Vec::<String>::new());
    assert_eq!(hits(&app, "coat").await, ["m1"]);
}

#[tokio::test]
async fn an_agent_and_a_token_find_only_what_their_pages_hold() {
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "a1", "secret plan A", T0)],
    ))
    .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(
            OTHER_PAGE,
            OTHER_CUSTOMER,
            "b1",
            "secret plan B",
            T0,
        )],
    ))
    .await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let token = app
        .create_api_token(&alice.token, "alice's tool", &[PAGE])
        .await;

    assert_eq!(
        hits(&app, "secret").await.len(),
        2,
        "the administrator sees both"
    );
    for credential in [&alice.token, &token.token] {
        let answer = search_as(&app, Some(credential), "secret", json!({})).await;
        let mids: Vec<String> = nodes(&answer["data"]["search"])
            .iter()
            .map(|h| h["message"]["mid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(mids, ["a1"], "{answer:#}");
        for page in [OTHER_PAGE, "1999999999"] {
            let answer = search_as(&app, Some(credential), "secret", json!({ "page": page })).await;
            assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{answer:#}");
        }
    }
}

#[tokio::test]
async fn queries_that_are_empty_too_long_or_too_wide_are_refused_naming_the_field() {
    let app = spawn_app().await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m1", "hello NEAR world", T0)],
    ))
    .await;
    let too_long = "x".repeat(201);
    for (q, variables, field) in [
        ("", json!({}), "query"),
        ("  *  \"\" () ", json!({}), "query"),
        (too_long.as_str(), json!({}), "query"),
        ("a b c d e f g h i", json!({}), "query"),
        ("hello", json!({ "first": 0 }), "first"),
        ("hello", json!({ "first": 51 }), "first"),
        ("hello", json!({ "after": "not-a-cursor" }), "cursor"),
        (
            "hello",
            json!({ "page": "12; DROP TABLE messages" }),
            "page",
        ),
    ] {
        let answer = search_as(&app, None, q, variables.clone()).await;
        assert_eq!(
            error_code(&answer),
            Some("BAD_USER_INPUT"),
            "{q:?} {variables}: {answer:#}"
        );
        let message = error_message(&answer).unwrap_or_default().to_lowercase();
        assert!(message.contains(field), "{q:?}: {message}");
    }
    // The FTS5 and tsquery languages cannot be reached: operators, quotes, column names
    // and stars are separators.
    for q in [
        "\"hello\" OR world*",
        "body:hello",
        "NEAR(hello world)",
        "hello & !world",
        "'hello':* | x",
        "hello\" OR \"1",
    ] {
        let answer = search_as(&app, None, q, json!({})).await;
        assert!(answer["errors"].is_null(), "{q:?}: {answer:#}");
    }
    assert_eq!(hits(&app, "near world").await, ["m1"]);
    assert_eq!(hits(&app, "NEAR(hello world)").await, ["m1"]);
    assert_eq!(
        hits(&app, "hello OR nothing").await,
        Vec::<String>::new(),
        "OR is a word"
    );
}
