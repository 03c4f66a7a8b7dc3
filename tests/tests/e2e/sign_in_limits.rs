//! Sign-in limits: failures back off per (email, client address), so a stranger cannot
//! lock an agent out; one address guessing many emails is limited too; the client
//! address comes from `X-Forwarded-For` only through a trusted proxy.
//!
//! The tests' requests all come from 127.0.0.1, which the server is told to trust as a
//! proxy, so `X-Forwarded-For` gives each simulated client its own address.
use std::time::Duration;

use mf_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, HttpResponse, TestApp, error_code, spawn_app_with};
use serde_json::{Value, json};

const STRANGER: &str = "203.0.113.7";
const AGENT: &str = "198.51.100.2";
const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";
/// Failures of one email from one address before the next attempt has to wait.
const FREE_FAILURES: usize = 10;

async fn behind_a_proxy() -> TestApp {
    spawn_app_with(|config| {
        config.trusted_proxies = "127.0.0.1".parse().expect("a proxy list");
    })
    .await
}

/// `login` sent through the proxy for a client at `from` (no header: the proxy itself).
async fn login_from(app: &TestApp, from: Option<&str>, email: &str, password: &str) -> Value {
    let mut request = app
        .request(reqwest::Method::POST, "/graphql")
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&json!({ "query": LOGIN, "variables": { "e": email, "p": password } }));
    if let Some(from) = from {
        request = request.header("x-forwarded-for", format!("192.0.2.200, {from}"));
    }
    let response: HttpResponse = app.send(request).await;
    response.json()
}

fn retry_after(response: &Value) -> u64 {
    assert_eq!(error_code(response), Some("RATE_LIMITED"), "{response:#}");
    response["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("no extensions.retryAfter: {response:#}"))
}

fn signed_in(response: &Value) -> bool {
    response["data"]["login"]["token"].is_string()
}

/// Fails `times` times from `from`, each answered UNAUTHENTICATED.
async fn fail(app: &TestApp, from: Option<&str>, email: &str, times: usize) {
    for attempt in 1..=times {
        let response = login_from(app, from, email, "a wrong guess").await;
        assert_eq!(
            error_code(&response),
            Some("UNAUTHENTICATED"),
            "attempt {attempt} from {from:?}: {response:#}"
        );
    }
}

#[tokio::test]
async fn a_strangers_failures_do_not_lock_the_agent_out_of_their_own_address() {
    // Arrange
    let app = behind_a_proxy().await;

    // Act: a stranger guesses the administrator's password until refused.
    fail(&app, Some(STRANGER), ADMIN_EMAIL, FREE_FAILURES).await;
    let refused = login_from(&app, Some(STRANGER), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let agent = login_from(&app, Some(AGENT), ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Assert: the stranger waits, even with the right password; the agent signs in.
    let first_wait = retry_after(&refused);
    assert!(signed_in(&agent), "the agent was locked out: {agent:#}");

    // And the stranger's wait grows with each further failure.
    tokio::time::sleep(Duration::from_secs(first_wait)).await;
    fail(&app, Some(STRANGER), ADMIN_EMAIL, 1).await;
    let again = login_from(&app, Some(STRANGER), ADMIN_EMAIL, "a wrong guess").await;
    let second_wait = retry_after(&again);
    assert!(
        second_wait > first_wait,
        "the wait did not grow: {first_wait} s, then {second_wait} s"
    );
}

#[tokio::test]
async fn signing_in_forgets_the_failures_of_that_email_and_address() {
    // Arrange
    let app = behind_a_proxy().await;
    fail(&app, Some(AGENT), ADMIN_EMAIL, FREE_FAILURES - 1).await;

    // Act
    let agent = login_from(&app, Some(AGENT), ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Assert: as many typos again, and the agent is still not made to wait.
    assert!(signed_in(&agent), "{agent:#}");
    fail(&app, Some(AGENT), ADMIN_EMAIL, FREE_FAILURES - 1).await;
    let again = login_from(&app, Some(AGENT), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(signed_in(&again), "{again:#}");
}

#[tokio::test]
async fn one_address_guessing_many_emails_is_limited() {
    // Arrange
    let app = behind_a_proxy().await;

    // Act: 40 emails at once from one address (the limit is 30 a minute, refilled one
    // every 2 s).
    let emails: Vec<String> = (0..40).map(|i| format!("user{i}@example.com")).collect();
    let sprayed = futures::future::join_all(
        emails
            .iter()
            .map(|email| login_from(&app, Some(STRANGER), email, "guess")),
    )
    .await;
    let agent = login_from(&app, Some(AGENT), ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Assert
    let limited: Vec<u64> = sprayed
        .iter()
        .filter(|response| error_code(response) == Some("RATE_LIMITED"))
        .map(retry_after)
        .collect();
    assert!(
        limited.len() >= 5,
        "only {} of 40 attempts were limited: {sprayed:#?}",
        limited.len()
    );
    assert!(signed_in(&agent), "{agent:#}");
}

#[tokio::test]
async fn an_untrusted_peers_x_forwarded_for_is_ignored() {
    // Arrange: no trusted proxy, so every request's client is its peer, 127.0.0.1.
    let app = spawn_app_with(|_| {}).await;

    // Act: "different addresses" by header alone.
    fail(&app, Some(STRANGER), ADMIN_EMAIL, FREE_FAILURES).await;
    let claimed_elsewhere = login_from(&app, Some(AGENT), ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Assert: one pair, so the back-off applies whatever the header says.
    retry_after(&claimed_elsewhere);
}

#[tokio::test]
async fn many_addresses_guessing_one_email_are_limited_but_not_the_agents_own() {
    // Arrange: the agent signed in from their address before.
    let app = behind_a_proxy().await;
    let agent = login_from(&app, Some(AGENT), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(signed_in(&agent), "{agent:#}");

    // Act: one guess each from 50 addresses (the per-email burst), then one more at a
    // time until refused (the limit refills one every 6 s), then someone new.
    let address = |i: usize| format!("198.18.{}.{}", i / 250, 1 + i % 250);
    let strangers: Vec<String> = (0..50).map(address).collect();
    futures::future::join_all(
        strangers
            .iter()
            .map(|from| login_from(&app, Some(from), ADMIN_EMAIL, "guess")),
    )
    .await;
    let mut next = 50;
    loop {
        let guess = login_from(&app, Some(&address(next)), ADMIN_EMAIL, "guess").await;
        if error_code(&guess) == Some("RATE_LIMITED") {
            break;
        }
        next += 1;
        assert!(next < 100, "guesses from new addresses were never limited");
    }
    let newcomer = login_from(&app, Some("192.0.2.77"), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let again = login_from(&app, Some(AGENT), ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Assert: a new address waits, even with the right password; the agent's does not.
    assert!(retry_after(&newcomer) >= 1);
    assert!(signed_in(&again), "the agent was locked out: {again:#}");
}
