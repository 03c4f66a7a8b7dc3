//! The introspection queries tools really send (their exact text in
//! `tests/fixtures/introspection`, generated from graphql-js and taken from Apollo Rover)
//! answer without errors and describe the whole schema, while the depth limit still
//! refuses ordinary queries that nest too deep.
use mf_tests::{TestApp, error_code, spawn_app};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/fixtures/introspection/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// Sends the fixture as the tool does (GraphiQL and graphql-js name the operation) and
/// checks the answer is the schema: no errors, the root types, and every type of
/// `schema.graphql` with its fields.
async fn introspect(app: &TestApp, name: &str, operation: &str) -> Value {
    let response = app
        .gql_http_named(Some(&app.admin_token), &fixture(name), operation)
        .await;
    assert_eq!(response.status, 200, "{name}: {response:?}");
    let body = response.json();
    assert!(body.get("errors").is_none(), "{name}: {body:#}");
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "QueryRoot", "{name}");
    assert_eq!(schema["mutationType"]["name"], "MutationRoot", "{name}");
    assert_eq!(
        schema["subscriptionType"]["name"], "SubscriptionRoot",
        "{name}"
    );
    let types = schema["types"].as_array().expect("types");
    let query = types
        .iter()
        .find(|t| t["name"] == "QueryRoot")
        .expect("QueryRoot among the types");
    let fields: Vec<&str> = query["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for expected in ["me", "pages", "conversations", "conversation", "messages"] {
        assert!(
            fields.contains(&expected),
            "{name}: {expected} in {fields:?}"
        );
    }
    // Every named type of the checked-in SDL is described.
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
        .expect("reading schema.graphql");
    for line in sdl.lines() {
        let Some(rest) = ["type ", "enum ", "input ", "scalar "]
            .iter()
            .find_map(|kind| line.strip_prefix(kind))
        else {
            continue;
        };
        let type_name = rest.split([' ', '{']).next().unwrap_or_default();
        assert!(
            types.iter().any(|t| t["name"] == type_name),
            "{name}: the type {type_name} is missing"
        );
    }
    // A list of a non-null type reads through its `ofType` chain:
    // `conversations` is `ConversationConnection!`.
    let conversations = query["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "conversations"))
        .expect("conversations");
    assert_eq!(conversations["type"]["kind"], "NON_NULL");
    assert_eq!(
        conversations["type"]["ofType"]["name"],
        "ConversationConnection"
    );
    body
}

#[tokio::test]
async fn graphql_js_default_introspection_query_answers_the_schema() {
    let app = spawn_app().await;
    introspect(&app, "graphql-js-default.graphql", "IntrospectionQuery").await;
}

#[tokio::test]
async fn graphiql_4_introspection_query_answers_the_schema_with_its_description() {
    let app = spawn_app().await;
    let body = introspect(&app, "graphiql-4.graphql", "IntrospectionQuery").await;
    // `schemaDescription: true` asks for it: present (null: the schema has none).
    assert!(
        body["data"]["__schema"].get("description").is_some(),
        "{body:#}"
    );
}

#[tokio::test]
async fn apollo_rover_introspection_query_answers_the_schema() {
    let app = spawn_app().await;
    introspect(&app, "rover.graphql", "GraphIntrospectQuery").await;
}

#[tokio::test]
async fn introspection_needs_no_sign_in_as_tools_send_it_before_any_header() {
    let app = spawn_app().await;
    let response = app
        .gql_http_named(None, &fixture("graphiql-4.graphql"), "IntrospectionQuery")
        .await
        .json();
    assert!(response.get("errors").is_none(), "{response:#}");
    assert!(response["data"]["__schema"]["types"].is_array());
}

#[tokio::test]
async fn a_deep_ordinary_query_is_still_refused_and_introspection_cannot_nest_its_lists() {
    let app = spawn_app().await;
    // Thirteen fields deep, outside introspection.
    let deep = format!(
        "{{ {}id{} }}",
        "conversation(id: \"1\") { page { ".repeat(6),
        " } }".repeat(6)
    );
    let response = app.gql(&deep, json!({})).await;
    assert_eq!(
        error_code(&response),
        Some("BAD_USER_INPUT"),
        "{response:#}"
    );
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("deeper than 12")),
        "{response:#}"
    );

    // `__type` below an ordinary field is no introspection root: the depth limit holds.
    let hidden = format!(
        "{{ me {{ {}__typename{} }} }}",
        "a { ".repeat(12),
        " }".repeat(12)
    );
    let response = app.gql(&hidden, json!({})).await;
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("deeper than 12")),
        "{response:#}"
    );

    // Introspection's lists inside one another multiply its work: four are refused.
    let lists = format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "fields { type { ".repeat(4),
        " } }".repeat(4)
    );
    let response = app.gql(&lists, json!({})).await;
    assert_eq!(
        error_code(&response),
        Some("BAD_USER_INPUT"),
        "{response:#}"
    );
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than 3 deep")),
        "{response:#}"
    );
}
