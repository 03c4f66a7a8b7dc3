//! What an integration's API token may not do on its creator's behalf: revoke other
//! tokens (it may revoke itself), or set its creator's presence.
use mf_tests::webhook::{batch, message};
use mf_tests::{CUSTOMER, PAGE, T0, TestApp, error_code, error_message, spawn_app};
use serde_json::{Value, json};

const REVOKE: &str = "mutation($id: ID!) { revokeApiToken(id: $id) }";

async fn arranged() -> (TestApp, mf_tests::Agent) {
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hello", T0)]))
        .await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    (app, alice)
}

async fn pages(app: &TestApp, token: &str) -> Value {
    app.gql_as(Some(token), "{ pages { id } }", json!({})).await
}

#[tokio::test]
async fn an_api_token_cannot_revoke_another_token_of_its_creator() {
    // Arrange
    let (app, alice) = arranged().await;
    let leaked = app.create_api_token(&alice.token, "leaked", &[PAGE]).await;
    let other = app.create_api_token(&alice.token, "other", &[PAGE]).await;

    // Act
    let response = app
        .gql_as(Some(&leaked.token), REVOKE, json!({ "id": other.id }))
        .await;

    // Assert: refused with a reason, and the other token still works.
    assert_eq!(error_code(&response), Some("FORBIDDEN"), "{response:#}");
    assert!(
        error_message(&response).is_some_and(|m| m.contains("only itself")),
        "{response:#}"
    );
    assert_eq!(
        pages(&app, &other.token).await["data"]["pages"],
        json!([{ "id": PAGE }])
    );
}

#[tokio::test]
async fn an_api_token_may_revoke_itself() {
    // Arrange
    let (app, alice) = arranged().await;
    let token = app.create_api_token(&alice.token, "mine", &[PAGE]).await;

    // Act
    let response = app
        .gql_as(Some(&token.token), REVOKE, json!({ "id": token.id }))
        .await;

    // Assert
    assert_eq!(response["data"]["revokeApiToken"], true, "{response:#}");
    let after = pages(&app, &token.token).await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "{after:#}");
}

#[tokio::test]
async fn an_api_token_cannot_set_its_creators_presence() {
    // Arrange
    let (app, alice) = arranged().await;
    let token = app.create_api_token(&alice.token, "mine", &[PAGE]).await;

    // Act
    let response = app
        .gql_as(
            Some(&token.token),
            "mutation { setPresence(status: AWAY) { status } }",
            json!({}),
        )
        .await;

    // Assert: refused, and alice's presence is unchanged.
    assert_eq!(error_code(&response), Some("FORBIDDEN"), "{response:#}");
    assert!(
        error_message(&response).is_some_and(|m| m.contains("presence")),
        "{response:#}"
    );
    let agents = app
        .gql_data(
            "query($p: ID!) { pageAgents(pageId: $p) { agent { id } status } }",
            json!({ "p": PAGE }),
        )
        .await;
    let hers = agents["pageAgents"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|a| a["agent"]["id"] == alice.id.as_str())
        .cloned()
        .expect("alice works on the Page");
    assert_eq!(hers["status"], "OFFLINE", "{agents:#}");
}
