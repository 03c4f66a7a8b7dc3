//! Revocation ends live access: for each way a credential or its scope is withdrawn, an
//! open subscription of that credential ends (UNAUTHENTICATED, or its WebSocket closed
//! with 4403) within a second, and HTTP refuses the credential. With two instances on
//! PostgreSQL + Redis, a revocation on one ends the subscriber on the other, also when
//! Redis is down at that moment (the instances re-check live credentials in the database).
use std::time::{Duration, Instant};

use mf_tests::own_redis::OwnRedis;
use mf_tests::webhook::{batch, message};
use mf_tests::ws::{Ending, Subscription};
use mf_tests::{
    Agent, CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TIMEOUT, TestApp, error_code, spawn_app,
    spawn_app_with, spawn_beside,
};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// How soon a revocation must reach a live subscription (through the bus, or at once on
/// the instance that revoked).
const PROMPTLY: Duration = Duration::from_secs(1);
/// How soon it must reach one on an instance whose bus was down at the time (the
/// database re-check runs every second).
const WITHOUT_THE_BUS: Duration = Duration::from_secs(4);

const CONVERSATION_UPDATED: &str = "subscription($pageId: ID!) {
  conversationUpdated(pageId: $pageId) { id lastMessageText }
}";

/// Pages A and B with a conversation each, and alice on both.
async fn world() -> (TestApp, Agent) {
    let app = spawn_app().await;
    arrange_pages(&app).await;
    let alice = app
        .agent_on("alice@example.com", "Alice", &[PAGE, OTHER_PAGE])
        .await;
    (app, alice)
}

async fn arrange_pages(app: &TestApp) {
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "a1", "hello A", T0)]))
        .await;
    app.ingest(&batch(
        OTHER_PAGE,
        [message(OTHER_PAGE, OTHER_CUSTOMER, "b1", "hello B", T0)],
    ))
    .await;
}

async fn subscribe(app: &TestApp, token: &str, page: &str) -> Subscription {
    app.subscribe_as(token, CONVERSATION_UPDATED, json!({ "pageId": page }))
        .await
}

/// Fails unless the subscription ends as revoked (UNAUTHENTICATED, or closed 4403)
/// within `within`.
async fn assert_ends(subscription: &mut Subscription, within: Duration, what: &str) {
    let started = Instant::now();
    let ending = subscription
        .ending(within)
        .await
        .unwrap_or_else(|error| panic!("{what}: {error:#}"));
    match &ending {
        Ending::Errors(errors) if error_code(errors) == Some("UNAUTHENTICATED") => {}
        Ending::Closed(Some(4403)) => {}
        other => panic!("{what}: the subscription ended otherwise: {other:?}"),
    }
    eprintln!("{what}: ended after {:?}", started.elapsed());
}

/// Fails unless HTTP answers `token` with UNAUTHENTICATED.
async fn assert_refused(app: &TestApp, token: &str) {
    let response = app.gql_as(Some(token), "{ pages { id } }", json!({})).await;
    assert_eq!(
        error_code(&response),
        Some("UNAUTHENTICATED"),
        "{response:#}"
    );
}

async fn page_ids(app: &TestApp, token: &str) -> Value {
    app.gql_data_as(token, "{ pages { id } }", json!({})).await["pages"].clone()
}

/// A new message on `page`, which its subscribers see as a conversation update.
async fn traffic(app: &TestApp, page: &str, mid: &str) {
    let customer = if page == PAGE {
        CUSTOMER
    } else {
        OTHER_CUSTOMER
    };
    app.ingest(&batch(page, [message(page, customer, mid, mid, T0 + 1000)]))
        .await;
}

#[tokio::test]
async fn revoking_an_api_token_ends_its_subscription_within_a_second_and_http_refuses_it() {
    // Arrange
    let (app, alice) = world().await;
    let token = app
        .create_api_token(&alice.token, "alice's integration", &[PAGE])
        .await;
    let mut subscription = subscribe(&app, &token.token, PAGE).await;

    // Act
    app.revoke_api_token(&alice.token, &token.id).await;

    // Assert
    assert_ends(&mut subscription, PROMPTLY, "revokeApiToken").await;
    assert_refused(&app, &token.token).await;
}

#[tokio::test]
async fn logging_out_ends_the_sessions_subscription_within_a_second_and_http_refuses_it() {
    // Arrange
    let (app, alice) = world().await;
    let mut subscription = subscribe(&app, &alice.token, PAGE).await;

    // Act
    app.logout(&alice.token).await;

    // Assert
    assert_ends(&mut subscription, PROMPTLY, "logout").await;
    assert_refused(&app, &alice.token).await;
}

#[tokio::test]
async fn removing_a_membership_ends_the_subscriptions_to_that_page_only() {
    // Arrange: alice's session and her token each watch A and B.
    let (app, alice) = world().await;
    let token = app
        .create_api_token(&alice.token, "alice's integration", &[PAGE, OTHER_PAGE])
        .await;
    let mut on_a = subscribe(&app, &alice.token, PAGE).await;
    let mut on_b = subscribe(&app, &alice.token, OTHER_PAGE).await;
    let mut token_on_a = subscribe(&app, &token.token, PAGE).await;

    // Act
    app.remove_page_member(PAGE, &alice.id).await;

    // Assert: A's streams end, B's goes on, and HTTP shows her B alone.
    assert_ends(&mut on_a, PROMPTLY, "removePageMember (session)").await;
    assert_ends(&mut token_on_a, PROMPTLY, "removePageMember (token)").await;
    traffic(&app, OTHER_PAGE, "b2").await;
    let event = on_b.next(TIMEOUT).await.expect("B's subscription goes on");
    assert_eq!(event["conversationUpdated"]["lastMessageText"], "b2");
    assert_eq!(
        page_ids(&app, &alice.token).await,
        json!([{ "id": OTHER_PAGE }])
    );
    assert_eq!(
        page_ids(&app, &token.token).await,
        json!([{ "id": OTHER_PAGE }])
    );
}

#[tokio::test]
async fn a_session_that_expires_ends_its_subscription_within_a_second_of_its_expiry() {
    // Arrange: alice's session expires in 1.5 s (as if she signed in 14 days ago).
    let (app, alice) = world().await;
    let mut subscription = subscribe(&app, &alice.token, PAGE).await;
    let expiry = Duration::from_millis(1500);
    let expires_at = now_ms() + expiry.as_millis() as i64;
    let started = Instant::now();
    execute(
        &app,
        &format!(
            "UPDATE sessions SET expires_at = {expires_at} WHERE agent_id = {}",
            alice.id
        ),
    )
    .await;

    // Act: nothing; time passes.

    // Assert: not before the expiry, and within a second after it.
    assert_ends(&mut subscription, expiry + PROMPTLY, "session expiry").await;
    assert!(
        started.elapsed() >= expiry - Duration::from_millis(100),
        "the subscription ended before the session expired ({:?})",
        started.elapsed()
    );
    assert_refused(&app, &alice.token).await;
}

#[tokio::test]
async fn a_revocation_stored_without_any_bus_message_still_ends_the_subscription() {
    // Arrange
    let (app, alice) = world().await;
    let token = app
        .create_api_token(&alice.token, "alice's integration", &[PAGE])
        .await;
    let mut subscription = subscribe(&app, &token.token, PAGE).await;

    // Act: revoked in the database alone, as an instance whose bus is down leaves it.
    execute(
        &app,
        &format!(
            "UPDATE api_tokens SET revoked_at = {} WHERE id = {}",
            now_ms(),
            token.id
        ),
    )
    .await;

    // Assert
    assert_ends(
        &mut subscription,
        WITHOUT_THE_BUS,
        "revoked in the database",
    )
    .await;
    assert_refused(&app, &token.token).await;
}

#[tokio::test]
async fn deactivating_an_agent_ends_its_sessions_and_tokens_and_it_cannot_sign_in() {
    // Arrange
    let (app, alice) = world().await;
    let token = app
        .create_api_token(&alice.token, "alice's integration", &[PAGE])
        .await;
    let mut with_session = subscribe(&app, &alice.token, PAGE).await;
    let mut with_token = subscribe(&app, &token.token, PAGE).await;

    // Act
    let data = app
        .gql_data(
            "mutation($id: ID!) { deactivateAgent(id: $id) { id active } }",
            json!({ "id": alice.id }),
        )
        .await;

    // Assert
    assert_eq!(
        data["deactivateAgent"],
        json!({ "id": alice.id, "active": false })
    );
    assert_ends(&mut with_session, PROMPTLY, "deactivateAgent (session)").await;
    assert_ends(&mut with_token, PROMPTLY, "deactivateAgent (token)").await;
    assert_refused(&app, &alice.token).await;
    assert_refused(&app, &token.token).await;
    let login = app
        .gql_as(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            json!({ "e": alice.email, "p": mf_tests::AGENT_PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&login), Some("UNAUTHENTICATED"), "{login:#}");
}

/// Creates an administrator who is also a member of `pages`, signed in.
async fn second_admin(app: &TestApp, email: &str, pages: &[&str]) -> Agent {
    let data = app
        .gql_data(
            "mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }",
            json!({ "input": {
                "email": email, "name": "Second Admin", "role": "ADMIN",
                "password": mf_tests::AGENT_PASSWORD,
            } }),
        )
        .await;
    let id = data["createAgent"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    for page in pages {
        app.add_page_member(page, &id).await;
    }
    let token = app.login(email, mf_tests::AGENT_PASSWORD).await;
    Agent {
        id,
        email: email.to_owned(),
        token,
    }
}

async fn set_role(app: &TestApp, token: &str, id: &str, role: &str) -> Value {
    app.gql_as(
        Some(token),
        "mutation($id: ID!, $role: AgentRole!) { setAgentRole(id: $id, role: $role) { id role } }",
        json!({ "id": id, "role": role }),
    )
    .await
}

#[tokio::test]
async fn demoting_an_administrator_shrinks_its_scope_to_its_memberships_at_once() {
    // Arrange: an administrator who is a member of B only, watching A and B.
    let app = spawn_app().await;
    arrange_pages(&app).await;
    let carol = second_admin(&app, "carol@example.com", &[OTHER_PAGE]).await;
    let mut on_a = subscribe(&app, &carol.token, PAGE).await;
    let mut on_b = subscribe(&app, &carol.token, OTHER_PAGE).await;

    // Act
    let demoted = set_role(&app, &app.admin_token, &carol.id, "AGENT").await;

    // Assert: A's stream ends, B's goes on; HTTP shows B alone and no administration.
    assert_eq!(
        demoted["data"]["setAgentRole"],
        json!({ "id": carol.id, "role": "AGENT" }),
        "{demoted:#}"
    );
    assert_ends(&mut on_a, PROMPTLY, "demotion").await;
    traffic(&app, OTHER_PAGE, "b2").await;
    let event = on_b.next(TIMEOUT).await.expect("B's subscription goes on");
    assert_eq!(event["conversationUpdated"]["lastMessageText"], "b2");
    assert_eq!(
        page_ids(&app, &carol.token).await,
        json!([{ "id": OTHER_PAGE }])
    );
    let refused = set_role(&app, &carol.token, &carol.id, "ADMIN").await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused:#}");
}

#[tokio::test]
async fn the_last_active_administrator_can_be_neither_demoted_nor_deactivated() {
    // Arrange
    let app = spawn_app().await;
    let me = app.gql_data("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .expect("my id")
        .to_owned();

    // Act
    let demoted = set_role(&app, &app.admin_token, &me, "AGENT").await;
    let deactivated = app
        .gql(
            "mutation($id: ID!) { deactivateAgent(id: $id) { id } }",
            json!({ "id": me }),
        )
        .await;

    // Assert: refused, and still an administrator.
    for refused in [&demoted, &deactivated] {
        assert_eq!(error_code(refused), Some("BAD_USER_INPUT"), "{refused:#}");
        assert!(
            mf_tests::error_message(refused)
                .is_some_and(|m| m.contains("last active administrator")),
            "{refused:#}"
        );
    }
    let role = app.gql_data("{ me { role active } }", json!({})).await;
    assert_eq!(role["me"], json!({ "role": "ADMIN", "active": true }));
}

#[tokio::test]
async fn two_administrators_demoting_each_other_at_once_leave_one_administrator() {
    // Arrange
    let app = spawn_app().await;
    let me = app.gql_data("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .expect("my id")
        .to_owned();
    let carol = second_admin(&app, "carol@example.com", &[]).await;

    // Act
    let (first, second) = tokio::join!(
        set_role(&app, &app.admin_token, &carol.id, "AGENT"),
        set_role(&app, &carol.token, &me, "AGENT"),
    );

    // Assert: exactly one went through (the other was refused as the last administrator's
    // demotion, or as coming from someone no longer an administrator), and one is left.
    let refused: Vec<&Value> = [&first, &second]
        .into_iter()
        .filter(|r| error_code(r).is_some())
        .collect();
    assert_eq!(refused.len(), 1, "{first:#}\n{second:#}");
    assert!(
        matches!(error_code(refused[0]), Some("BAD_USER_INPUT" | "FORBIDDEN")),
        "{first:#}\n{second:#}"
    );
    let admins = app
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            app.db().get_database_backend(),
            "SELECT COUNT(*) AS n FROM agents WHERE role = 'ADMIN'",
        ))
        .await
        .expect("counting administrators")
        .expect("a count")
        .try_get::<i64>("", "n")
        .expect("the count");
    assert_eq!(admins, 1);
}

/// Whether this is the PostgreSQL + Redis pass (both variables set), where the tests of
/// two instances run; without them they are skipped, or failed under CI
/// (`mf_tests::require`).
fn two_instances_possible() -> bool {
    mf_tests::require::services(&["MF_TEST_POSTGRES_URL", "MF_TEST_REDIS_URL"])
}

#[tokio::test]
async fn a_revocation_on_one_instance_ends_a_subscription_on_the_other_within_a_second() {
    if !two_instances_possible() {
        return;
    }
    // Arrange: alice's session and token subscribed on instance two.
    let (one, alice) = world().await;
    let two = spawn_beside(&one).await;
    let token = one
        .create_api_token(&alice.token, "alice's integration", &[PAGE])
        .await;
    let mut with_token = subscribe(&two, &token.token, PAGE).await;
    let mut with_session = subscribe(&two, &alice.token, PAGE).await;

    // Act: both revoked on instance one.
    one.revoke_api_token(&alice.token, &token.id).await;
    one.logout(&alice.token).await;

    // Assert
    assert_ends(
        &mut with_token,
        PROMPTLY,
        "revokeApiToken on the other instance",
    )
    .await;
    assert_ends(&mut with_session, PROMPTLY, "logout on the other instance").await;
    assert_refused(&two, &token.token).await;
    assert_refused(&two, &alice.token).await;
}

#[tokio::test]
async fn with_redis_down_a_revocation_still_ends_a_subscription_on_the_other_instance() {
    if !two_instances_possible() {
        return;
    }
    let Some(mut redis) = OwnRedis::start() else {
        panic!("the PostgreSQL + Redis pass needs redis-server on PATH");
    };
    // Arrange: two instances on one database and a Redis of the test's own; alice
    // subscribed on instance two, with her session and with a token.
    let url = redis.url();
    let one = spawn_app_with(move |config| {
        config.redis_url = Some(url);
        config.redis_channel = "mf-revocation-test".to_owned();
    })
    .await;
    arrange_pages(&one).await;
    let alice = one
        .agent_on("alice@example.com", "Alice", &[PAGE, OTHER_PAGE])
        .await;
    let two = spawn_beside(&one).await;
    let token = one
        .create_api_token(&alice.token, "alice's integration", &[PAGE])
        .await;
    let mut with_token = subscribe(&two, &token.token, PAGE).await;
    let mut on_a = subscribe(&two, &alice.token, PAGE).await;

    // Act: Redis goes down; then, on instance one, the token is revoked and alice leaves A.
    redis.stop();
    one.revoke_api_token(&alice.token, &token.id).await;
    one.remove_page_member(PAGE, &alice.id).await;

    // Assert: instance two learns it from the database within a few seconds.
    assert_ends(
        &mut with_token,
        WITHOUT_THE_BUS,
        "revokeApiToken, Redis down",
    )
    .await;
    assert_ends(&mut on_a, WITHOUT_THE_BUS, "removePageMember, Redis down").await;
    assert_refused(&two, &token.token).await;
    assert_eq!(
        page_ids(&two, &alice.token).await,
        json!([{ "id": OTHER_PAGE }])
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64
}

async fn execute(app: &TestApp, sql: &str) {
    let db = app.db();
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}
