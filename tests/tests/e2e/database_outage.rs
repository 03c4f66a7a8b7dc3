//! PostgreSQL goes away under a running server and comes back. A TCP proxy between the
//! server and the test cluster takes the database away (connections cut, port closed, or
//! every byte stalled) without touching the cluster the other tests share. While it is
//! gone, `/webhook` answers 503 (Facebook retries) and never 200 for a batch that was not
//! committed; `/health` names the database; once it is back the same server recovers, and
//! what Facebook delivers again is stored exactly once.
//!
//! Runs in the PostgreSQL pass of `scripts/test` (`MF_TEST_POSTGRES_URL`).
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mf_tests::proxy::TcpProxy;
use mf_tests::require;
use mf_tests::webhook::{batch, message, sign};
use mf_tests::{APP_SECRET, CUSTOMER, OTHER_CUSTOMER, OTHER_PAGE, PAGE, T0, TestApp};
use mf_tests::{eventually, eventually_every};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::Value;

/// Skipped without PostgreSQL, or failed under CI (`require`).
fn postgres_in_use() -> bool {
    require::services(&["MF_TEST_POSTGRES_URL"])
}

/// A server whose every database connection goes through a proxy the test controls, and
/// a direct connection to the same database for checking what it holds.
struct Outage {
    app: TestApp,
    proxy: TcpProxy,
    direct: DatabaseConnection,
    _dir: tempfile::TempDir,
    // Last: dropped once the server and the direct connection are.
    _database: std::sync::Arc<mf_tests::TestDatabase>,
}

async fn server_behind_a_proxy() -> Outage {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = mf_tests::TestDatabase::create(dir.path()).await;
    let database_url = database.url().to_owned();
    let mut url = reqwest::Url::parse(&database_url).expect("the test database URL");
    let host = url.host_str().expect("a database host").to_owned();
    let port = url.port().unwrap_or(5432);
    let upstream: SocketAddr = tokio::net::lookup_host((host.as_str(), port))
        .await
        .expect("resolving the database host")
        .next()
        .expect("an address for the database host");
    let proxy = TcpProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).expect("setting the host");
    url.set_port(Some(proxy.addr().port()))
        .expect("setting the port");
    let proxied = url.to_string();
    let app = mf_tests::spawn_app_with(move |config| config.database_url = proxied).await;
    let direct = Database::connect(database_url)
        .await
        .expect("connecting to the test database directly");
    Outage {
        app,
        proxy,
        direct,
        _dir: dir,
        _database: database,
    }
}

/// `(page_id, mid)` of every stored message, as often as each is stored.
async fn stored_messages(db: &DatabaseConnection) -> Vec<(String, String)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT page_id, mid FROM messages ORDER BY page_id, mid",
        ))
        .await
        .expect("reading the stored messages");
    rows.iter()
        .map(|row| {
            (
                row.try_get::<String>("", "page_id").expect("page_id"),
                row.try_get::<String>("", "mid").expect("mid"),
            )
        })
        .collect()
}

/// Polls `/health` until it answers 200; fails the test after 30 s.
async fn wait_until_healthy(app: &TestApp) {
    eventually(Duration::from_secs(30), async || {
        let health = app.get("/health").await;
        (health.status == 200).then_some(()).ok_or(format!(
            "the server did not recover after the database came back: {health:?}"
        ))
    })
    .await;
}

fn assert_health_names_the_database(health: &mf_tests::HttpResponse) {
    assert_eq!(health.status, 503, "{health:?}");
    let body: Value = health.json();
    assert_eq!(body["status"], "unavailable", "{body}");
    assert_eq!(body["database"], "unavailable", "{body}");
    assert_eq!(body["bus"], "ok", "{body}");
}

#[tokio::test]
async fn webhooks_are_refused_with_503_while_postgresql_is_down_and_stored_once_when_redelivered() {
    if !postgres_in_use() {
        return;
    }
    // Arrange: the server works, and holds one message.
    let outage = server_behind_a_proxy().await;
    let app = &outage.app;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-before", "before", T0)],
    ))
    .await;
    let during = [
        batch(
            PAGE,
            [message(PAGE, CUSTOMER, "m-down-1", "during", T0 + 1)],
        ),
        batch(
            OTHER_PAGE,
            [message(
                OTHER_PAGE,
                OTHER_CUSTOMER,
                "m-down-2",
                "new page",
                T0 + 2,
            )],
        ),
    ];

    // Act: PostgreSQL stops (connections cut, port closed).
    outage.proxy.sever();

    // Assert: nothing is acknowledged, and /health says which part failed.
    for body in &during {
        let response = app.post_webhook(body).await;
        assert_eq!(
            response.status, 503,
            "while the database is down: {response:?}"
        );
    }
    assert_health_names_the_database(&app.get("/health").await);

    // Act: PostgreSQL is back; Facebook delivers the refused batches again, twice.
    outage.proxy.restore();
    wait_until_healthy(app).await;
    for body in during.iter().chain(during.iter()) {
        app.ingest(body).await;
    }
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-after", "after", T0 + 3)],
    ))
    .await;

    // Assert: each message stored once, and counted unread once.
    let stored = stored_messages(&outage.direct).await;
    let expected: Vec<(String, String)> = [
        (PAGE, "m-after"),
        (PAGE, "m-before"),
        (PAGE, "m-down-1"),
        (OTHER_PAGE, "m-down-2"),
    ]
    .iter()
    .map(|(page, mid)| ((*page).to_owned(), (*mid).to_owned()))
    .collect::<BTreeSet<_>>()
    .into_iter()
    .collect();
    assert_eq!(stored, expected);
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["unreadCount"], 3, "{conversation:#}");
    assert_eq!(conversation["lastMessageText"], "after", "{conversation:#}");
}

#[tokio::test]
async fn health_answers_promptly_and_webhooks_are_refused_while_postgresql_hangs() {
    if !postgres_in_use() {
        return;
    }
    // Arrange
    let outage = server_behind_a_proxy().await;
    let app = &outage.app;
    app.ingest(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-before", "before", T0)],
    ))
    .await;

    // Act: the database accepts connections but answers nothing.
    outage.proxy.hang();

    // Assert: /health answers within its own bound (2 s), well before any pool timeout
    // (10 s), and names the database; a delivery is refused, not left waiting.
    let asked = Instant::now();
    let health = app.get("/health").await;
    let waited = asked.elapsed();
    assert_health_names_the_database(&health);
    assert!(
        waited < Duration::from_secs(5),
        "/health took {waited:?} while the database hung"
    );
    let body = batch(PAGE, [message(PAGE, CUSTOMER, "m-hung", "stalled", T0 + 1)]);
    let response = app.post_webhook(&body).await;
    assert_eq!(
        response.status, 503,
        "while the database hangs: {response:?}"
    );

    // Act: the database answers again; Facebook retries.
    outage.proxy.restore();
    wait_until_healthy(app).await;
    app.ingest(&body).await;

    // Assert
    let mids: Vec<String> = stored_messages(&outage.direct)
        .await
        .into_iter()
        .map(|(_, mid)| mid)
        .collect();
    assert_eq!(mids, ["m-before", "m-hung"]);
}

/// What concurrent senders saw: mids whose POST was answered 200, and the others.
#[derive(Default)]
struct Tally {
    acknowledged: BTreeSet<String>,
    refused: Vec<Value>,
    statuses: BTreeSet<u16>,
}

#[tokio::test]
async fn every_webhook_answered_200_while_postgresql_goes_away_is_stored() {
    if !postgres_in_use() {
        return;
    }
    // Arrange: eight senders post distinct messages without pause.
    let outage = server_behind_a_proxy().await;
    let url = outage.app.url("/webhook");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let senders: Vec<_> = (0..8)
        .map(|sender| {
            let (url, http, tally, stopped) =
                (url.clone(), http.clone(), tally.clone(), stopped.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    if *stopped.borrow() {
                        return;
                    }
                    let page = if n % 2 == 0 { PAGE } else { OTHER_PAGE };
                    let mid = format!("m-{sender}-{n}");
                    let psid = format!("{}", 3_000_000 + sender);
                    let body = batch(page, [message(page, &psid, &mid, "hello", T0 + n)]);
                    let bytes = serde_json::to_vec(&body).expect("a JSON body");
                    let answer = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", sign(APP_SECRET, &bytes))
                        .body(bytes)
                        .send()
                        .await
                        .map(|response| response.status().as_u16());
                    let mut tally = tally.lock().expect("the tally");
                    match answer {
                        Ok(200) => {
                            tally.acknowledged.insert(mid);
                        }
                        Ok(status) => {
                            tally.statuses.insert(status);
                            tally.refused.push(body);
                        }
                        Err(_) => tally.refused.push(body),
                    }
                }
            })
        })
        .collect();
    let acknowledged = || tally.lock().expect("the tally").acknowledged.len();
    let refused = || tally.lock().expect("the tally").refused.len();
    wait_for(|| acknowledged() >= 100, "100 acknowledged deliveries").await;

    // Act: the database goes away mid-stream, stays away a while, and comes back.
    outage.proxy.sever();
    wait_for(|| refused() >= 16, "16 refused deliveries").await;
    outage.proxy.restore();
    wait_until_healthy(&outage.app).await;
    let before_restore = acknowledged();
    wait_for(
        || acknowledged() >= before_restore + 100,
        "100 more acknowledged deliveries",
    )
    .await;
    stop.send_replace(true);
    for sender in senders {
        sender.await.expect("a sender");
    }

    // Assert: every 200 is stored, once; nothing but 503 was answered otherwise.
    let tally = Arc::try_unwrap(tally)
        .ok()
        .expect("the senders are done")
        .into_inner()
        .expect("the tally");
    let stored = stored_messages(&outage.direct).await;
    let stored_mids: BTreeSet<String> = stored.iter().map(|(_, mid)| mid.clone()).collect();
    assert_eq!(stored.len(), stored_mids.len(), "a message stored twice");
    let lost: Vec<&String> = tally.acknowledged.difference(&stored_mids).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert_eq!(
        tally.statuses.iter().copied().collect::<Vec<_>>(),
        [503],
        "refusals other than 503"
    );
    eprintln!(
        "acknowledged {}, refused {}, stored {} (of which refused but committed: {})",
        tally.acknowledged.len(),
        tally.refused.len(),
        stored_mids.len(),
        stored_mids.len() - tally.acknowledged.len()
    );

    // Facebook delivers the refused batches again: now everything is stored, once.
    for body in &tally.refused {
        outage.app.ingest(body).await;
    }
    let stored = stored_messages(&outage.direct).await;
    assert_eq!(stored.len(), tally.acknowledged.len() + tally.refused.len());
}

/// Polls `done` every 10 ms; fails the test after 60 s.
async fn wait_for(done: impl Fn() -> bool, what: &str) {
    eventually_every(
        Duration::from_millis(10),
        Duration::from_secs(60),
        async || done().then_some(()).ok_or(format!("no {what} yet")),
    )
    .await;
}
