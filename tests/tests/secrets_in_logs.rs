//! No secret reaches the logs: this binary captures every log line of our crates at TRACE
//! (it is its own process, so it may set the global subscriber), runs a whole session and
//! searches the capture for each secret the session handled.
use std::io;
use std::sync::{Arc, Mutex, Once, OnceLock};

use mf_tests::webhook::{self, batch, message};
use mf_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, CUSTOMER, PAGE, T0, TIMEOUT, id_of, spawn_app_with};
use serde_json::json;

/// Distinctive values, so that a match in the logs can only be a leak.
const APP_SECRET: &str = "app-secret-7f3a9c1e5b";
const VERIFY_TOKEN: &str = "verify-token-2d8e4b6a0c";
const WRONG_PASSWORD: &str = "wrong password 4c1f8e2a9d";

/// Everything logged since the capture was installed.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(Arc::default)
}

/// Appends to the shared buffer.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sends TRACE and up from our crates to the capture, as plain text.
fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let buffer = captured().clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "api=trace,entity=trace,migration=trace,mf_tests=trace",
            ))
            .with_ansi(false)
            .with_writer(move || Capture(buffer.clone()))
            .init();
    });
}

fn logs() -> String {
    let bytes = captured()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The secrets that appear in `text`, by name: as they are, or hex-encoded (how frame
/// and byte dumps print them).
fn leaked<'a>(text: &str, secrets: &'a [(&'a str, String)]) -> Vec<&'a str> {
    let text = text.to_lowercase();
    secrets
        .iter()
        .filter(|(_, secret)| {
            text.contains(&secret.to_lowercase()) || text.contains(&hex::encode(secret))
        })
        .map(|(name, _)| *name)
        .collect()
}

#[tokio::test]
async fn a_whole_session_logs_no_secret() {
    // Arrange
    capture_logs();
    let app = spawn_app_with(|config| {
        config.fb_app_secret = Some(api::Secret::new(APP_SECRET));
        config.fb_verify_token = Some(api::Secret::new(VERIFY_TOKEN));
    })
    .await;
    let delivery = serde_json::to_vec(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hello", T0)]))
        .expect("serialising");
    let signature = webhook::sign(APP_SECRET, &delivery);

    // Act: verification, sign-in, deliveries, an API token over HTTP and WebSocket,
    // a wrong password and a forged delivery.
    let verification = app
        .verify_webhook(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "1158201444"),
        ])
        .await;
    assert_eq!(verification.status, 200, "{verification:?}");
    let session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let delivered = app
        .post_webhook_signed_with(delivery.clone(), Some(&signature))
        .await;
    assert_eq!(delivered.status, 200, "{delivered:?}");
    let api_token = app.create_api_token(&session, "integration", &[PAGE]).await;
    let conversation = app
        .gql_data_as(
            &api_token.token,
            "query($p: ID!) { conversations(pageId: $p) { edges { node { id } } } }",
            json!({ "p": PAGE }),
        )
        .await;
    let conversation_id = id_of(&mf_tests::nodes(&conversation["conversations"])[0]).to_owned();
    let mut subscription = app
        .subscribe_as(
            &api_token.token,
            "subscription($id: ID!) { messageAdded(conversationId: $id) { mid } }",
            json!({ "id": conversation_id }),
        )
        .await;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m2", "again", T0 + 1000)],
    ))
    .await;
    let event = subscription
        .next(TIMEOUT)
        .await
        .expect("a messageAdded event");
    assert_eq!(event["messageAdded"]["mid"], "m2");
    let wrong = app
        .gql_as(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            json!({ "e": ADMIN_EMAIL, "p": WRONG_PASSWORD }),
        )
        .await;
    assert_eq!(mf_tests::error_code(&wrong), Some("UNAUTHENTICATED"));
    let forged = app
        .post_webhook_signed_with(
            b"{\"object\":\"page\",\"entry\":[]}".to_vec(),
            Some(&signature),
        )
        .await;
    assert_eq!(forged.status, 401, "{forged:?}");
    app.logout(&session).await;
    drop(subscription);

    // Assert
    let logs = logs();
    assert!(
        logs.contains("webhook delivery refused"),
        "the capture did not record the server's logs:\n{logs}"
    );
    let secrets = [
        ("the app secret", APP_SECRET.to_owned()),
        ("the verify token", VERIFY_TOKEN.to_owned()),
        ("the admin password", ADMIN_PASSWORD.to_owned()),
        ("the wrong password", WRONG_PASSWORD.to_owned()),
        ("the harness's session token", app.admin_token.clone()),
        ("the session token", session.clone()),
        ("the API token", api_token.token.clone()),
        (
            "the webhook signature",
            signature
                .strip_prefix("sha256=")
                .expect("sha256= prefix")
                .to_owned(),
        ),
    ];
    let found = leaked(&logs, &secrets);
    assert!(found.is_empty(), "the logs hold {found:?}:\n{logs}");
}

/// `FB_APP_SECRET=` (or blank) in `.env` counts as unset: a delivery signed with "" is
/// refused and stores nothing, `hub.verify_token=` does not pass, and the start-up warnings
/// say so.
#[tokio::test]
async fn empty_or_blank_app_secret_and_verify_token_count_as_unset() {
    capture_logs();
    for blank in ["", "   "] {
        // Arrange
        let app = spawn_app_with(|config| {
            config.fb_app_secret = Some(api::Secret::new(blank));
            config.fb_verify_token = Some(api::Secret::new(blank));
        })
        .await;
        let delivery =
            serde_json::to_vec(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "forged", T0)]))
                .expect("serialising");

        // Act
        let forged = app
            .post_webhook_signed_with(delivery.clone(), Some(&webhook::sign(blank, &delivery)))
            .await;
        let verification = app
            .verify_webhook(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", blank),
                ("hub.challenge", "1158201444"),
            ])
            .await;

        // Assert
        assert_eq!(forged.status, 401, "{blank:?}: {forged:?}");
        assert_eq!(
            app.counts().await.messages,
            0,
            "{blank:?}: a forged delivery was stored"
        );
        assert_eq!(verification.status, 403, "{blank:?}: {verification:?}");
    }
    let logs = logs();
    for warning in ["FB_APP_SECRET is not set", "FB_VERIFY_TOKEN is not set"] {
        assert!(
            logs.contains(warning),
            "no start-up warning {warning:?}:\n{logs}"
        );
    }
}

#[test]
fn config_debug_shows_none_of_its_secrets() {
    // Arrange
    let mut config = api::Config::with_database("sqlite://messengerflow.db?mode=rwc");
    config.fb_app_secret = Some(api::Secret::new(APP_SECRET));
    config.fb_verify_token = Some(api::Secret::new(VERIFY_TOKEN));
    config.admin_email = Some(ADMIN_EMAIL.to_owned());
    config.admin_password = Some(api::Secret::new(ADMIN_PASSWORD));

    // Act
    let debug = format!("{config:?}");

    // Assert
    let secrets = [
        ("the app secret", APP_SECRET.to_owned()),
        ("the verify token", VERIFY_TOKEN.to_owned()),
        ("the admin password", ADMIN_PASSWORD.to_owned()),
    ];
    let found = leaked(&debug, &secrets);
    assert!(found.is_empty(), "Config's Debug shows {found:?}: {debug}");
    assert!(
        debug.contains(ADMIN_EMAIL),
        "not a Debug of the config: {debug}"
    );
}

#[test]
fn config_debug_shows_no_database_or_redis_password() {
    // Arrange
    let mut config =
        api::Config::with_database("postgres://messengerflow:db-password-9b7e@db.internal/mf");
    config.redis_url = Some("redis://:redis-password-3a5c@cache.internal:6379".to_owned());

    // Act
    let debug = format!("{config:?}");

    // Assert
    let secrets = [
        ("the database password", "db-password-9b7e".to_owned()),
        ("the Redis password", "redis-password-3a5c".to_owned()),
    ];
    let found = leaked(&debug, &secrets);
    assert!(found.is_empty(), "Config's Debug shows {found:?}: {debug}");
}

#[tokio::test]
async fn connecting_a_page_syncing_and_replying_log_no_page_token() {
    use mf_tests::sim::{SIM_SECRET, Simulator};
    // Arrange: the Graph API simulator as Facebook, and a Page with a customer.
    capture_logs();
    let sim = Simulator::start(SIM_SECRET).await;
    let graph_url = sim.base_url();
    let app = spawn_app_with(move |config| {
        config.fb_graph_url = graph_url;
        config.fb_app_secret = Some(api::Secret::new(SIM_SECRET));
    })
    .await;
    sim.set_webhook(format!("http://{}/webhook", app.addr))
        .await;
    let page_token = sim.create_page("990001", "Secret Shop").await;
    sim.create_customer("990001", "880001", "Ada", "Lovelace")
        .await;

    // Act: connect, receive, sync, reply; then revoke the token and reply again (an error).
    app.connect_page("990001", &page_token).await;
    sim.customer_says("990001", "880001", "hello", None).await;
    let conversation = mf_tests::eventually(TIMEOUT, async || {
        let found = app
            .gql_data(
                "{ conversations(pageId: \"990001\") { edges { node { id } } } }",
                json!({}),
            )
            .await;
        match mf_tests::nodes(&found["conversations"]).first() {
            Some(node) => Ok(id_of(node).to_owned()),
            None => Err(format!("the webhook never arrived: {found}")),
        }
    })
    .await;
    app.gql_data(
        "mutation { syncConversations(pageId: \"990001\") { conversations } }",
        json!({}),
    )
    .await;
    let send = "mutation($c: ID!) { sendMessage(input: { conversationId: $c, text: \"hi!\" }) \
                { status errorCode } }";
    let sent = app.gql_data(send, json!({ "c": conversation })).await;
    assert!(
        mf_tests::went_out(&sent["sendMessage"]["status"]),
        "{sent:#}"
    );
    sim.revoke("990001").await;
    let failed = app.gql_data(send, json!({ "c": conversation })).await;
    assert_eq!(
        failed["sendMessage"]["errorCode"], "PAGE_NEEDS_RECONNECT",
        "{failed:#}"
    );

    // Assert
    let logs = logs();
    assert!(
        logs.contains("Send API refused a message"),
        "the capture did not record the failed send:\n{logs}"
    );
    let secrets = [
        ("the page token", page_token.clone()),
        ("the app secret", SIM_SECRET.to_owned()),
        ("the harness's session token", app.admin_token.clone()),
    ];
    let found = leaked(&logs, &secrets);
    assert!(found.is_empty(), "the logs hold {found:?}:\n{logs}");
}

/// The real `api` process at `RUST_LOG=trace`, every target (dependencies too: hyper,
/// h2, reqwest, sqlx, tungstenite, async-graphql...), through a whole session: the
/// webhook handshake, signed deliveries, sign-in, a connected Page (its token goes to
/// Graph in headers), an API token over HTTP and over WebSocket (`connection_init` and a
/// subscription), a reply, a wrong password and a logout. Its output holds no secret.
#[tokio::test]
async fn a_whole_session_at_trace_level_in_every_target_logs_no_secret() {
    use mf_tests::sim::{SIM_SECRET, Simulator};
    // Arrange
    let sim = Simulator::start(SIM_SECRET).await;
    let graph_url = sim.base_url();
    let (app, logs) = mf_tests::spawn_app_process_logging(
        move |config| {
            config.fb_graph_url = graph_url;
            config.fb_app_secret = Some(api::Secret::new(SIM_SECRET));
            config.fb_verify_token = Some(api::Secret::new(VERIFY_TOKEN));
            // The simulator's app: `connectPage` asks `debug_token` with the app token
            // `{app-id}|{app-secret}`, and the Page token goes in its query.
            config.fb_app_id = Some("1517776481860111".to_owned());
        },
        "trace",
    )
    .await;
    sim.set_webhook(format!("http://{}/webhook", app.addr))
        .await;
    let page_token = sim.create_page("990002", "Traced Shop").await;
    sim.create_customer("990002", "880002", "Ada", "Lovelace")
        .await;

    // Act
    let verification = app
        .verify_webhook(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "1158201444"),
        ])
        .await;
    assert_eq!(verification.status, 200, "{verification:?}");
    let session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.connect_page("990002", &page_token).await;
    let api_token = app.create_api_token(&session, "traced", &["990002"]).await;
    let events = "subscription($p: ID!) { pageEvents(pageId: $p) { kind message { id text } } }";
    let mut by_token = app
        .subscribe_as(&api_token.token, events, json!({ "p": "990002" }))
        .await;
    let mut by_session = app
        .subscribe_as(&session, events, json!({ "p": "990002" }))
        .await;
    sim.customer_says("990002", "880002", "hello", None).await;
    let added = by_token
        .next(TIMEOUT)
        .await
        .expect("an event over the socket");
    by_session
        .next(TIMEOUT)
        .await
        .expect("an event over the session's socket");
    let conversation = added["pageEvents"]["message"]["id"].clone();
    assert!(conversation.is_string(), "{added:#}");
    let conversations = app
        .gql_data_as(
            &api_token.token,
            "query($p: ID!) { conversations(pageId: $p) { edges { node { id } } } }",
            json!({ "p": "990002" }),
        )
        .await;
    let conversation_id = id_of(&mf_tests::nodes(&conversations["conversations"])[0]).to_owned();
    let sent = app
        .gql_data_as(
            &session,
            "mutation($c: ID!) { sendMessage(input: { conversationId: $c, text: \"hi!\" }) \
             { status } }",
            json!({ "c": conversation_id }),
        )
        .await;
    assert!(
        mf_tests::went_out(&sent["sendMessage"]["status"]),
        "{sent:#}"
    );
    let wrong = app
        .gql_as(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            json!({ "e": ADMIN_EMAIL, "p": WRONG_PASSWORD }),
        )
        .await;
    assert_eq!(mf_tests::error_code(&wrong), Some("UNAUTHENTICATED"));
    app.logout(&session).await;
    drop(by_token);
    drop(by_session);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Assert: the capture holds dependencies' trace lines, and no secret.
    let logs = logs.text();
    for sign in ["TRACE", "webhook verified", "MessengerFlow listening"] {
        assert!(
            logs.contains(sign),
            "the capture lacks {sign:?}: not a trace-level log of the session"
        );
    }
    let secrets = [
        ("the app secret", SIM_SECRET.to_owned()),
        ("the verify token", VERIFY_TOKEN.to_owned()),
        ("the admin password", ADMIN_PASSWORD.to_owned()),
        ("the wrong password", WRONG_PASSWORD.to_owned()),
        ("the harness's session token", app.admin_token.clone()),
        ("the session token", session.clone()),
        ("the API token", api_token.token.clone()),
        ("the page token", page_token.clone()),
    ];
    let found = leaked(&logs, &secrets);
    if !found.is_empty() {
        let lines: Vec<&str> = logs
            .lines()
            .filter(|line| secrets.iter().any(|(_, s)| line.contains(s.as_str())))
            .take(20)
            .collect();
        panic!(
            "the trace logs hold {found:?}, in ({} bytes of logs):\n{}",
            logs.len(),
            lines.join("\n")
        );
    }
}
