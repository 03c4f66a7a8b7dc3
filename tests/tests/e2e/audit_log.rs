//! The audit log (`auditLog`): every administrative action, sign-in (failed ones too) and
//! conversation change appears once, with its actor and object, newest first in Relay
//! pages; only administrators read it; it refuses updates; entries past the retention
//! (`MF_AUDIT_RETENTION_DAYS`) are pruned.
use std::time::Duration;

use mf_tests::sim::connected_page;
use mf_tests::webhook::{batch, message};
use mf_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_PASSWORD, CUSTOMER, PAGE, T0, TestApp, error_code, id_of,
    spawn_app, spawn_app_with,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const AUDIT_LOG: &str = "query($first: Int, $after: String) {
  auditLog(first: $first, after: $after) {
    edges { cursor node {
      id createdAt action actor { id } actorApiTokenId actorEmail
      objectKind objectId objectName pageId fromValue toValue ip userAgent
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Every entry, newest first, read page by page (`first` at a time) as the administrator.
async fn whole_log(app: &TestApp, first: i64) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = app
            .gql_data(AUDIT_LOG, json!({ "first": first, "after": after }))
            .await;
        let connection = &data["auditLog"];
        let edges = connection["edges"].as_array().cloned().unwrap_or_default();
        assert!(edges.len() as i64 <= first, "{connection:#}");
        assert_eq!(
            connection["pageInfo"]["hasPreviousPage"],
            after.is_some(),
            "{connection:#}"
        );
        entries.extend(edges.into_iter().map(|e| e["node"].clone()));
        if connection["pageInfo"]["hasNextPage"] != true {
            return entries;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
}

/// What a test compares of an entry: action, actor, token, object, Page, change.
fn summary(entry: &Value) -> Value {
    json!([
        entry["action"],
        entry["actor"]["id"],
        entry["actorApiTokenId"],
        entry["objectKind"],
        entry["objectId"],
        entry["pageId"],
        entry["fromValue"],
        entry["toValue"],
    ])
}

async fn admin_id(app: &TestApp) -> String {
    app.gql_data("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

async fn mutate(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    app.gql_data_as(token, query, variables).await
}

#[tokio::test]
async fn every_recorded_action_appears_once_with_its_actor_and_object() {
    let world = connected_page().await;
    let app = &world.app;
    let admin = admin_id(app).await;
    let admin_token = app.admin_token.clone();
    // A failed sign-in from a browser, and one for an email that is nobody's.
    let failed = app
        .send(
            app.request(reqwest::Method::POST, "/graphql")
                .header(reqwest::header::USER_AGENT, "audit-test/1.0")
                .json(&json!({
                    "query": "mutation { login(email: \"ADMIN@example.com \", password: \"not-the-password-42\") { token } }",
                })),
        )
        .await
        .json();
    assert_eq!(error_code(&failed), Some("UNAUTHENTICATED"), "{failed:#}");
    let unknown = app
        .gql_as(
            None,
            "mutation { login(email: \"nobody@example.com\", password: \"whatever-it-is\") { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("UNAUTHENTICATED"), "{unknown:#}");

    let alice = app.create_agent("alice@example.com", "Alice").await;
    app.add_page_member(PAGE, &alice).await;
    app.add_page_member(PAGE, &alice).await; // already a member: nothing to record
    let alice_session = app.login("alice@example.com", AGENT_PASSWORD).await;
    let token = app
        .create_api_token(&alice_session, "alice's integration", &[PAGE])
        .await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hello", T0)]))
        .await;
    let conversation = id_of(&app.conversation_with(PAGE, CUSTOMER).await).to_owned();
    let update = "mutation($id: ID!, $input: UpdateConversationInput!) { updateConversation(id: $id, input: $input) { id } }";
    mutate(
        app,
        &token.token,
        update,
        json!({ "id": conversation, "input": { "status": "RESOLVED" } }),
    )
    .await;
    mutate(
        app,
        &alice_session,
        update,
        json!({ "id": conversation, "input": { "assigneeId": alice } }),
    )
    .await;
    // A change that changes nothing records nothing.
    mutate(
        app,
        &alice_session,
        update,
        json!({ "id": conversation, "input": { "assigneeId": alice } }),
    )
    .await;
    mutate(
        app,
        &admin_token,
        "mutation($id: ID!) { setAgentRole(id: $id, role: ADMIN) { id } }",
        json!({ "id": alice }),
    )
    .await;
    let reset = mutate(
        app,
        &admin_token,
        "mutation($id: ID!) { resetAgentPassword(id: $id) { password } }",
        json!({ "id": alice }),
    )
    .await;
    let new_password = reset["resetAgentPassword"]["password"]
        .as_str()
        .expect("a generated password")
        .to_owned();
    app.login("alice@example.com", &new_password).await;
    app.revoke_api_token(&admin_token, &token.id).await;
    app.revoke_api_token(&admin_token, &token.id).await; // revoked already
    app.remove_page_member(PAGE, &alice).await;
    mutate(
        app,
        &admin_token,
        "mutation($id: ID!) { deactivateAgent(id: $id) { id } }",
        json!({ "id": alice }),
    )
    .await;
    let second = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.logout(&second).await;

    let mut entries = whole_log(app, 3).await;
    entries.reverse();
    let expected = vec![
        // The first administrator, made from configuration by nobody.
        json!([
            "AGENT_CREATED",
            null,
            null,
            "AGENT",
            admin,
            null,
            null,
            "ADMIN"
        ]),
        json!(["SIGN_IN", admin, null, "AGENT", admin, null, null, null]),
        json!([
            "PAGE_CONNECTED",
            admin,
            null,
            "PAGE",
            PAGE,
            PAGE,
            null,
            null
        ]),
        json!([
            "SIGN_IN_FAILED",
            null,
            null,
            "AGENT",
            admin,
            null,
            null,
            null
        ]),
        json!(["SIGN_IN_FAILED", null, null, null, null, null, null, null]),
        json!([
            "AGENT_CREATED",
            admin,
            null,
            "AGENT",
            alice,
            null,
            null,
            "AGENT"
        ]),
        json!([
            "PAGE_MEMBER_ADDED",
            admin,
            null,
            "AGENT",
            alice,
            PAGE,
            null,
            null
        ]),
        json!(["SIGN_IN", alice, null, "AGENT", alice, null, null, null]),
        json!([
            "API_TOKEN_CREATED",
            alice,
            null,
            "API_TOKEN",
            token.id,
            null,
            null,
            PAGE
        ]),
        json!([
            "CONVERSATION_STATUS_CHANGED",
            alice,
            token.id,
            "CONVERSATION",
            conversation,
            PAGE,
            "OPEN",
            "RESOLVED"
        ]),
        json!([
            "CONVERSATION_ASSIGNED",
            alice,
            null,
            "CONVERSATION",
            conversation,
            PAGE,
            null,
            alice
        ]),
        json!([
            "AGENT_ROLE_CHANGED",
            admin,
            null,
            "AGENT",
            alice,
            null,
            "AGENT",
            "ADMIN"
        ]),
        json!([
            "AGENT_PASSWORD_RESET",
            admin,
            null,
            "AGENT",
            alice,
            null,
            null,
            "GENERATED"
        ]),
        json!(["SIGN_IN", alice, null, "AGENT", alice, null, null, null]),
        json!([
            "API_TOKEN_REVOKED",
            admin,
            null,
            "API_TOKEN",
            token.id,
            null,
            null,
            null
        ]),
        json!([
            "PAGE_MEMBER_REMOVED",
            admin,
            null,
            "AGENT",
            alice,
            PAGE,
            null,
            null
        ]),
        json!([
            "AGENT_DEACTIVATED",
            admin,
            null,
            "AGENT",
            alice,
            null,
            null,
            null
        ]),
        json!(["SIGN_IN", admin, null, "AGENT", admin, null, null, null]),
        json!(["SIGN_OUT", admin, null, "AGENT", admin, null, null, null]),
    ];
    let got: Vec<Value> = entries.iter().map(summary).collect();
    assert_eq!(got, expected, "the whole log: {entries:#?}");

    // Who and from where, as the entries keep them.
    let entries = &entries[1..];
    let failed = &entries[2];
    assert_eq!(
        failed["actorEmail"], "ADMIN@example.com",
        "as typed: {failed:#}"
    );
    assert_eq!(failed["userAgent"], "audit-test/1.0", "{failed:#}");
    assert_eq!(entries[3]["actorEmail"], "nobody@example.com");
    assert_eq!(entries[7]["objectName"], "alice's integration");
    assert_eq!(entries[4]["objectName"], "alice@example.com");
    assert_eq!(entries[1]["objectName"], "Nordlicht Outdoor");
    for entry in entries {
        assert_eq!(entry["ip"], "127.0.0.1", "{entry:#}");
        assert!(
            entry["createdAt"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
    }
    // Newest first, ids never repeated.
    let ids: Vec<i64> = entries
        .iter()
        .map(|e| {
            e["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("an id")
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // The passwords tried and chosen are nowhere in the log.
    let text = serde_json::to_string(entries).expect("JSON");
    for secret in [
        "not-the-password-42",
        "whatever-it-is",
        new_password.as_str(),
        AGENT_PASSWORD,
        token.token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
}

#[tokio::test]
async fn a_failed_sign_in_keeps_the_email_tried_and_never_the_password() {
    let app = spawn_app().await;
    let password = "hunter2-but-longer";
    let tried = format!("  Mallory\u{7}@example.com{}", "x".repeat(400));
    let response = app
        .gql_as(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            json!({ "e": tried, "p": password }),
        )
        .await;
    assert_eq!(
        error_code(&response),
        Some("UNAUTHENTICATED"),
        "{response:#}"
    );

    let entries = whole_log(&app, 100).await;
    let failed = &entries[0];
    assert_eq!(failed["action"], "SIGN_IN_FAILED", "{entries:#?}");
    assert_eq!(failed["actor"], Value::Null);
    let email = failed["actorEmail"].as_str().expect("the email tried");
    assert!(email.starts_with("Mallory@example.com"), "{email}");
    assert_eq!(email.chars().count(), 256, "cut to 256 characters");
    // Not in any column of any row.
    let rows = entity::audit_entry::Entity::find()
        .all(app.db())
        .await
        .expect("reading the audit log");
    let stored = serde_json::to_string(&rows).expect("JSON");
    assert!(!stored.contains(password), "{stored}");
    assert!(
        !serde_json::to_string(&entries)
            .expect("JSON")
            .contains(password)
    );
}

#[tokio::test]
async fn only_administrators_signed_in_read_the_audit_log() {
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hello", T0)]))
        .await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let alices_token = app.create_api_token(&alice.token, "alice's", &[PAGE]).await;
    let admins_token = app
        .create_api_token(&app.admin_token, "admin's", &[PAGE])
        .await;
    for (who, token, code) in [
        ("an agent", Some(alice.token.as_str()), "FORBIDDEN"),
        (
            "an agent's API token",
            Some(alices_token.token.as_str()),
            "FORBIDDEN",
        ),
        (
            "an administrator's API token",
            Some(admins_token.token.as_str()),
            "FORBIDDEN",
        ),
        ("nobody", None, "UNAUTHENTICATED"),
    ] {
        let response = app.gql_as(token, AUDIT_LOG, json!({})).await;
        assert_eq!(error_code(&response), Some(code), "{who}: {response:#}");
        assert_eq!(response["data"], Value::Null, "{who}: {response:#}");
    }
    assert!(!whole_log(&app, 100).await.is_empty());
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_with_relay_cursors() {
    let app = spawn_app().await;
    for n in 0..6 {
        app.create_agent(&format!("agent{n}@example.com"), &format!("Agent {n}"))
            .await;
    }
    let all = whole_log(&app, 100).await;
    assert_eq!(
        all.len(),
        8,
        "the first administrator, its sign-in and six agents: {all:#?}"
    );
    for first in [1, 2, 3, 8] {
        let paged = whole_log(&app, first).await;
        assert_eq!(paged, all, "paging {first} at a time");
    }
    assert_eq!(all[0]["objectName"], "agent5@example.com", "newest first");
    assert_eq!(all[6]["action"], "SIGN_IN");
    // The default page is 50; the last page says so.
    let data = app.gql_data(AUDIT_LOG, json!({})).await;
    assert_eq!(data["auditLog"]["edges"].as_array().map(Vec::len), Some(8));
    assert_eq!(data["auditLog"]["pageInfo"]["hasNextPage"], false);
    // Bad pages and cursors are refused.
    let conversations_cursor = "MTc2NDE2MzUyNjEyMzox"; // "1764163526123:1", another list's
    for (first, after) in [
        (json!(0), Value::Null),
        (json!(101), Value::Null),
        (json!(5), json!("not a cursor")),
        (json!(5), json!(conversations_cursor)),
    ] {
        let response = app
            .gql(AUDIT_LOG, json!({ "first": first, "after": after }))
            .await;
        assert_eq!(
            error_code(&response),
            Some("BAD_USER_INPUT"),
            "first {first}, after {after}: {response:#}"
        );
    }
}

/// Stores an entry `age_days` old, as the log would have it.
async fn old_entry(app: &TestApp, age_days: i64, email: &str) {
    entity::audit_entry::ActiveModel {
        created_at: Set(chrono::Utc::now().timestamp_millis() - age_days * DAY_MS),
        action: Set(entity::audit_entry::Action::SignInFailed),
        actor_email: Set(Some(email.to_owned())),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("storing an old entry");
}

async fn emails(app: &TestApp) -> Vec<String> {
    whole_log(app, 100)
        .await
        .iter()
        .filter_map(|e| e["actorEmail"].as_str().map(str::to_owned))
        .filter(|e| e.starts_with("aged-"))
        .collect()
}

/// Waits until the log's aged entries are `expected`.
async fn until_aged_entries_are(app: &TestApp, expected: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = emails(app).await;
        if now == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the aged entries stayed {now:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn entries_older_than_the_retention_are_pruned() {
    let first = spawn_app().await;
    old_entry(&first, 401, "aged-401@example.com").await;
    old_entry(&first, 399, "aged-399@example.com").await;
    old_entry(&first, 2, "aged-2@example.com").await;
    until_aged_entries_are(
        &first,
        &[
            "aged-2@example.com",
            "aged-399@example.com",
            "aged-401@example.com",
        ],
    )
    .await;

    // An instance starting on the database prunes at once: 400 days by default.
    let on = |app: &TestApp, days: u64| {
        let (database_url, redis_url, channel) = (
            app.database_url.clone(),
            app.redis_url.clone(),
            app.redis_channel.clone(),
        );
        move |config: &mut api::Config| {
            config.database_url = database_url;
            config.redis_url = redis_url;
            config.redis_channel = channel;
            config.audit_retention_days = days;
        }
    };
    let default = api::Config::with_database("sqlite::memory:").audit_retention_days;
    assert_eq!(default, 400);
    let second = spawn_app_with(on(&first, default)).await;
    until_aged_entries_are(&second, &["aged-2@example.com", "aged-399@example.com"]).await;
    // A shorter retention, configured.
    let third = spawn_app_with(on(&first, 1)).await;
    until_aged_entries_are(&third, &[]).await;
    // Recent entries stay.
    assert!(!whole_log(&third, 100).await.is_empty());
}

#[tokio::test]
async fn the_audit_log_refuses_updates() {
    let app = spawn_app().await;
    let before = whole_log(&app, 100).await;
    assert_eq!(before.len(), 2, "{before:#?}");
    let rewritten = entity::audit_entry::Entity::update_many()
        .col_expr(
            entity::audit_entry::Column::ActorEmail,
            Expr::val("someone-else@example.com"),
        )
        .exec(app.db())
        .await;
    let error = rewritten.expect_err("an UPDATE of the audit log must fail");
    assert!(
        error.to_string().contains("append-only"),
        "the trigger's refusal: {error}"
    );
    assert_eq!(whole_log(&app, 100).await, before);
    assert_eq!(
        entity::audit_entry::Entity::find()
            .count(app.db())
            .await
            .expect("counting"),
        2
    );
}
