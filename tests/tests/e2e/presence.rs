//! Presence: an agent is ONLINE while it holds a subscription connection opened with its
//! session, AWAY or OFFLINE by choice, OFFLINE once gone; the Page's agents see each change
//! through `agentPresence` and `pageAgents`. An integration's token makes no one ONLINE.
use mf_tests::webhook::{batch, message};
use mf_tests::{Agent, CUSTOMER, PAGE, Subscription, T0, TIMEOUT, TestApp, spawn_app};
use serde_json::{Value, json};

const AGENT_PRESENCE: &str = "subscription($pageId: ID!) {
  agentPresence(pageId: $pageId) { agent { id } status }
}";
const PAGE_AGENTS: &str = "query($pageId: ID!) {
  pageAgents(pageId: $pageId) { agent { id } status }
}";

/// Alice and bob both work on `PAGE`; bob watches its presence.
struct Desk {
    app: TestApp,
    alice: Agent,
    bob: Agent,
    bobs_view: Subscription,
}

async fn desk() -> Desk {
    let app = spawn_app().await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hi", T0)]))
        .await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let bob = app.agent_on("bob@example.com", "Bob", &[PAGE]).await;
    let bobs_view = app
        .subscribe_as(&bob.token, AGENT_PRESENCE, json!({ "pageId": PAGE }))
        .await;
    Desk {
        app,
        alice,
        bob,
        bobs_view,
    }
}

impl Desk {
    /// The next presence change bob sees.
    async fn next_change(&mut self) -> Value {
        let event = self
            .bobs_view
            .next(TIMEOUT)
            .await
            .expect("an agentPresence event");
        event["agentPresence"].clone()
    }

    /// `agent`'s status in `pageAgents`, as bob reads it.
    async fn status_of(&self, agent: &str) -> String {
        let data = self
            .app
            .gql_data_as(&self.bob.token, PAGE_AGENTS, json!({ "pageId": PAGE }))
            .await;
        data["pageAgents"]
            .as_array()
            .expect("pageAgents is a list")
            .iter()
            .find(|presence| presence["agent"]["id"] == agent)
            .unwrap_or_else(|| panic!("{agent} is not among the page's agents: {data:#}"))["status"]
            .as_str()
            .expect("a status")
            .to_owned()
    }

    fn presence_of(&self, agent: &str, status: &str) -> Value {
        json!({ "agent": { "id": agent }, "status": status })
    }
}

async fn admin_id(app: &TestApp) -> String {
    let data = app.gql_data("{ me { id } }", json!({})).await;
    data["me"]["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn an_agent_connecting_with_her_session_appears_online() {
    // Arrange
    let mut desk = desk().await;
    assert_eq!(desk.status_of(&desk.alice.id).await, "OFFLINE");

    // Act
    let _alices_tab = desk.app.connect_as(&desk.alice.token).await;

    // Assert
    let change = desk.next_change().await;
    assert_eq!(change, desk.presence_of(&desk.alice.id, "ONLINE"));
    assert_eq!(desk.status_of(&desk.alice.id).await, "ONLINE");
}

#[tokio::test]
async fn choosing_away_pushes_away() {
    // Arrange
    let mut desk = desk().await;
    let _alices_tab = desk.app.connect_as(&desk.alice.token).await;
    assert_eq!(
        desk.next_change().await,
        desk.presence_of(&desk.alice.id, "ONLINE")
    );

    // Act
    let chosen = desk
        .app
        .gql_data_as(
            &desk.alice.token,
            "mutation { setPresence(status: AWAY) { agent { id } status } }",
            json!({}),
        )
        .await;

    // Assert
    assert_eq!(
        chosen["setPresence"],
        desk.presence_of(&desk.alice.id, "AWAY")
    );
    assert_eq!(
        desk.next_change().await,
        desk.presence_of(&desk.alice.id, "AWAY")
    );
    assert_eq!(desk.status_of(&desk.alice.id).await, "AWAY");
}

#[tokio::test]
async fn closing_the_socket_pushes_offline() {
    // Arrange
    let mut desk = desk().await;
    let alices_tab = desk.app.connect_as(&desk.alice.token).await;
    assert_eq!(
        desk.next_change().await,
        desk.presence_of(&desk.alice.id, "ONLINE")
    );

    // Act
    alices_tab.close().await.expect("closing alice's tab");

    // Assert
    assert_eq!(
        desk.next_change().await,
        desk.presence_of(&desk.alice.id, "OFFLINE")
    );
    assert_eq!(desk.status_of(&desk.alice.id).await, "OFFLINE");
}

#[tokio::test]
async fn an_api_token_connection_makes_no_one_online() {
    // Arrange
    let mut desk = desk().await;
    let integration = desk
        .app
        .create_api_token(&desk.alice.token, "alice's integration", &[PAGE])
        .await;

    // Act: the integration connects; then the administrator, whose change bob must see
    // first if the integration changed nothing.
    let _integration = desk.app.connect_as(&integration.token).await;
    let _admins_tab = desk.app.connect_as(&desk.app.admin_token).await;

    // Assert
    let admin = admin_id(&desk.app).await;
    assert_eq!(desk.next_change().await, desk.presence_of(&admin, "ONLINE"));
    assert_eq!(desk.status_of(&desk.alice.id).await, "OFFLINE");
    assert_eq!(desk.status_of(&admin).await, "ONLINE");
}

#[tokio::test]
async fn a_silent_connection_is_closed_and_its_agent_turns_offline() {
    // Arrange: connections may stay silent for one second (fifty by default).
    let app = mf_tests::spawn_app_with(|config| config.ws_idle_timeout_secs = 1).await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hi", T0)]))
        .await;
    let alice = app.agent_on("alice@example.com", "Alice", &[PAGE]).await;
    let status = |data: &Value| {
        data["pageAgents"]
            .as_array()
            .expect("pageAgents is a list")
            .iter()
            .find(|p| p["agent"]["id"] == alice.id.as_str())
            .map(|p| p["status"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };

    // Act: alice's browser connects, then vanishes without closing (it sends nothing).
    let _vanished = app.connect_as(&alice.token).await;
    let online = app.gql_data(PAGE_AGENTS, json!({ "pageId": PAGE })).await;

    // Assert: ONLINE at first, OFFLINE once the server gave up on the silent socket.
    assert_eq!(status(&online), "ONLINE");
    mf_tests::eventually(std::time::Duration::from_secs(10), async || {
        let now = app.gql_data(PAGE_AGENTS, json!({ "pageId": PAGE })).await;
        match status(&now).as_str() {
            "OFFLINE" => Ok(()),
            other => Err(format!(
                "alice is still {other} after her socket fell silent"
            )),
        }
    })
    .await;
}
