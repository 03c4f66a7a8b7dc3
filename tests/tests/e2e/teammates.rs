//! Teammates and tokens as Settings administers them: `agents` (with their Pages),
//! `resetAgentPassword` (a chosen or a generated password; the agent's other sessions
//! end, live ones too), and `apiTokens` (every token for an administrator, one's own for
//! an agent, never for an API token).
use std::time::Duration;

use mf_tests::webhook::{batch, message};
use mf_tests::ws::Ending;
use mf_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_PASSWORD, CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0,
    TestApp, error_code, spawn_app,
};
use serde_json::{Value, json};

const AGENTS: &str = "{ agents { id email name role active pageIds } }";
const API_TOKENS: &str =
    "{ apiTokens { id name pageIds createdAt revoked revokedAt agent { id email } } }";
const RESET: &str = "mutation($id: ID!, $password: String) {
  resetAgentPassword(id: $id, password: $password) { agent { id email } password }
}";

async fn two_pages() -> TestApp {
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "a1", "hello A", T0)]))
        .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(OTHER_PAGE, OTHER_CUSTOMER, "b1", "hello B", T0)],
    ))
    .await;
    app
}

fn signs_in(response: &Value) -> bool {
    response["data"]["login"]["token"].is_string()
}

async fn try_login(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql_as(
        None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        json!({ "e": email, "p": password }),
    )
    .await
}

async fn me_code(app: &TestApp, token: &str) -> Option<String> {
    let response = app.gql_as(Some(token), "{ me { id } }", json!({})).await;
    error_code(&response).map(str::to_owned)
}

#[tokio::test]
async fn agents_lists_every_agent_with_its_pages_and_state_for_administrators() {
    let app = two_pages().await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let bob = app
        .agent_on("bob@example.com", "Bob", &[PAGE, OTHER_PAGE])
        .await;
    app.gql_data(
        "mutation($id: ID!) { deactivateAgent(id: $id) { id } }",
        json!({ "id": alice.id }),
    )
    .await;

    let agents = app.gql_data(AGENTS, json!({})).await["agents"].clone();
    assert_eq!(
        agents,
        json!([
            { "id": "1", "email": ADMIN_EMAIL, "name": "Administrator", "role": "ADMIN", "active": true, "pageIds": [] },
            { "id": alice.id, "email": "alice@example.com", "name": "Alice", "role": "AGENT", "active": false, "pageIds": [PAGE] },
            { "id": bob.id, "email": "bob@example.com", "name": "Bob", "role": "AGENT", "active": true, "pageIds": [PAGE, OTHER_PAGE] },
        ]),
    );
    // Others are refused; their Pages' agents are `pageAgents`, and there another
    // agent's Pages are only those the caller sees.
    let carol = app.agent_on("carol@example.com", "Carol", &[PAGE]).await;
    let refused = app.gql_as(Some(&carol.token), AGENTS, json!({})).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused:#}");
    let seen = app
        .gql_data_as(
            &carol.token,
            "query($p: ID!) { pageAgents(pageId: $p) { agent { email pageIds } } }",
            json!({ "p": PAGE }),
        )
        .await;
    let bob_seen = seen["pageAgents"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|a| a["agent"]["email"] == "bob@example.com")
        })
        .cloned()
        .unwrap_or_else(|| panic!("bob is on carol's Page: {seen:#}"));
    assert_eq!(bob_seen["agent"]["pageIds"], json!([PAGE]), "not Page B");
}

#[tokio::test]
async fn a_chosen_password_ends_the_agents_sessions_and_live_subscriptions_but_not_its_tokens() {
    let app = two_pages().await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let second_session = app.login("alice@example.com", AGENT_PASSWORD).await;
    let token = app.create_api_token(&alice.token, "alice's", &[PAGE]).await;
    let mut live = app
        .subscribe_as(
            &alice.token,
            "subscription($p: ID!) { conversationUpdated(pageId: $p) { id } }",
            json!({ "p": PAGE }),
        )
        .await;

    let data = app
        .gql_data(
            RESET,
            json!({ "id": alice.id, "password": "a brand new password" }),
        )
        .await;
    assert_eq!(
        data["resetAgentPassword"]["password"],
        Value::Null,
        "chosen: not echoed"
    );
    assert_eq!(data["resetAgentPassword"]["agent"]["id"], json!(alice.id));

    for session in [&alice.token, &second_session] {
        assert_eq!(
            me_code(&app, session).await.as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    match live.ending(Duration::from_secs(2)).await {
        Ok(Ending::Errors(errors)) if error_code(&errors) == Some("UNAUTHENTICATED") => {}
        Ok(Ending::Closed(Some(4403))) => {}
        other => panic!("the live subscription should end: {other:?}"),
    }
    assert!(!signs_in(
        &try_login(&app, "alice@example.com", AGENT_PASSWORD).await
    ));
    assert!(signs_in(
        &try_login(&app, "alice@example.com", "a brand new password").await
    ));
    assert_eq!(me_code(&app, &token.token).await, None, "API tokens go on");
}

#[tokio::test]
async fn a_generated_password_is_shown_once_and_signs_in() {
    let app = two_pages().await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let data = app.gql_data(RESET, json!({ "id": alice.id })).await;
    let password = data["resetAgentPassword"]["password"]
        .as_str()
        .expect("the generated password")
        .to_owned();
    assert_eq!(password.chars().count(), 24, "{password}");
    assert!(signs_in(
        &try_login(&app, "alice@example.com", &password).await
    ));
    assert!(!signs_in(
        &try_login(&app, "alice@example.com", AGENT_PASSWORD).await
    ));
    // Never readable again.
    let agents = serde_json::to_string(&app.gql_data(AGENTS, json!({})).await).expect("JSON");
    assert!(!agents.contains(&password));
}

#[tokio::test]
async fn administrators_resetting_their_own_password_keep_the_session_they_did_it_from() {
    let app = two_pages().await;
    let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.gql_data(
        RESET,
        json!({ "id": "1", "password": "my own new password" }),
    )
    .await;
    assert_eq!(
        me_code(&app, &app.admin_token).await,
        None,
        "this session stays"
    );
    assert_eq!(
        me_code(&app, &other).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert!(signs_in(
        &try_login(&app, ADMIN_EMAIL, "my own new password").await
    ));
}

#[tokio::test]
async fn a_refused_reset_changes_nothing() {
    let app = two_pages().await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let bob = app.agent_on("bob@example.com", "Bob", &[PAGE]).await;
    let admins_token = app
        .create_api_token(&app.admin_token, "admin's", &[PAGE])
        .await;
    let gone = app.agent_on("gone@example.com", "Gone", &[PAGE]).await;
    app.gql_data(
        "mutation($id: ID!) { deactivateAgent(id: $id) { id } }",
        json!({ "id": gone.id }),
    )
    .await;
    let log_before = app
        .gql_data(
            "{ auditLog(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    for (why, token, variables, code) in [
        (
            "an agent",
            bob.token.as_str(),
            json!({ "id": alice.id, "password": "taken over now" }),
            "FORBIDDEN",
        ),
        (
            "an administrator's API token",
            admins_token.token.as_str(),
            json!({ "id": alice.id }),
            "FORBIDDEN",
        ),
        (
            "9 characters",
            app.admin_token.as_str(),
            json!({ "id": alice.id, "password": "123456789" }),
            "BAD_USER_INPUT",
        ),
        (
            "201 characters",
            app.admin_token.as_str(),
            json!({ "id": alice.id, "password": "p".repeat(201) }),
            "BAD_USER_INPUT",
        ),
        (
            "a malformed id",
            app.admin_token.as_str(),
            json!({ "id": "alice", "password": "long enough password" }),
            "BAD_USER_INPUT",
        ),
        (
            "an unknown agent",
            app.admin_token.as_str(),
            json!({ "id": "999999", "password": "long enough password" }),
            "NOT_FOUND",
        ),
        (
            "a deactivated agent",
            app.admin_token.as_str(),
            json!({ "id": gone.id, "password": "long enough password" }),
            "BAD_USER_INPUT",
        ),
    ] {
        let response = app.gql_as(Some(token), RESET, variables).await;
        assert_eq!(error_code(&response), Some(code), "{why}: {response:#}");
        assert_eq!(response["data"], Value::Null, "{why}");
    }
    assert_eq!(
        me_code(&app, &alice.token).await,
        None,
        "alice's session stays"
    );
    assert!(signs_in(
        &try_login(&app, "alice@example.com", AGENT_PASSWORD).await
    ));
    let log_after = app
        .gql_data(
            "{ auditLog(first: 100) { edges { node { id action } } } }",
            json!({}),
        )
        .await;
    let new: Vec<&Value> = log_after["auditLog"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["node"]["action"] != "SIGN_IN")
        .take_while(|e| {
            !log_before["auditLog"]["edges"]
                .as_array()
                .is_some_and(|b| b.iter().any(|o| o["node"]["id"] == e["node"]["id"]))
        })
        .collect();
    assert!(new.is_empty(), "a refused reset records nothing: {new:?}");
}

#[tokio::test]
async fn api_tokens_lists_all_for_administrators_and_their_own_for_agents() {
    let app = two_pages().await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let bob = app.agent_on("bob@example.com", "Bob", &[OTHER_PAGE]).await;
    let alices = app.create_api_token(&alice.token, "alice's", &[PAGE]).await;
    let bobs = app
        .create_api_token(&bob.token, "bob's", &[OTHER_PAGE])
        .await;
    let admins = app
        .create_api_token(&app.admin_token, "admin's", &[PAGE, OTHER_PAGE])
        .await;
    app.revoke_api_token(&alice.token, &alices.id).await;

    let all = app.gql_data(API_TOKENS, json!({})).await["apiTokens"].clone();
    let summary: Vec<Value> = all
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| {
            json!([
                t["id"],
                t["name"],
                t["pageIds"],
                t["revoked"],
                t["agent"]["email"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            json!([admins.id, "admin's", [PAGE, OTHER_PAGE], false, ADMIN_EMAIL]),
            json!([bobs.id, "bob's", [OTHER_PAGE], false, "bob@example.com"]),
            json!([alices.id, "alice's", [PAGE], true, "alice@example.com"]),
        ],
        "newest first: {all:#}"
    );
    assert!(all[2]["revokedAt"].is_string() && all[0]["revokedAt"].is_null());
    // The secret is never listed.
    let text = all.to_string();
    for secret in [&alices.token, &bobs.token, &admins.token] {
        assert!(!text.contains(secret.as_str()));
    }
    let own = app.gql_data_as(&alice.token, API_TOKENS, json!({})).await;
    let ids: Vec<&Value> = own["apiTokens"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| &t["id"])
        .collect();
    assert_eq!(ids, vec![&json!(alices.id)], "alice's only: {own:#}");
    let by_token = app.gql_as(Some(&bobs.token), API_TOKENS, json!({})).await;
    assert_eq!(error_code(&by_token), Some("FORBIDDEN"), "{by_token:#}");
}
