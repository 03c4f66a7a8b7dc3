//! The `api` binary as a process, stopped the hard way and the polite way.
//!
//! - SIGKILL under load: every delivery answered 200 is in the database after a restart
//!   (a 200 is only sent after the commit, and SQLite and PostgreSQL commits are durable).
//! - SIGTERM: the listener closes, in-flight requests finish with their real answer, and
//!   the process exits 0, within `MF_SHUTDOWN_GRACE_SECS` even when something never ends.
//!
//! On SQLite, and on PostgreSQL in the second pass of `scripts/test`.
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mf_tests::eventually_every;
use mf_tests::webhook::{batch, message, sign};
use mf_tests::{APP_SECRET, CUSTOMER, PAGE, T0, TestApp, spawn_app_process_with};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Pages the load spreads over.
const PAGES: [&str; 4] = ["1000000011", "1000000012", "1000000013", "1000000014"];

/// Every stored mid starting with `prefix`, as often as it is stored.
async fn stored_mids(app: &TestApp, prefix: &str) -> Vec<String> {
    let db = app.db();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT mid FROM messages WHERE mid LIKE '{prefix}%'"),
        ))
        .await
        .expect("reading the stored messages");
    rows.iter()
        .map(|row| row.try_get::<String>("", "mid").expect("mid"))
        .collect()
}

/// What the senders saw before the process died.
#[derive(Default)]
struct Tally {
    /// Mids of deliveries answered 200.
    acknowledged: BTreeSet<String>,
    /// Mids of deliveries that got no answer (or one other than 200).
    unanswered: BTreeSet<String>,
}

#[tokio::test]
async fn every_delivery_answered_200_before_a_sigkill_is_stored_after_restart() {
    // Arrange: 32 senders post 1 to 3 new messages per delivery, over 4 Pages, nonstop.
    let mut first = spawn_app_process_with(|_| {}).await;
    let url = first.url("/webhook");
    let http = reqwest::Client::new();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let senders: Vec<_> = (0..32)
        .map(|sender| {
            let (url, http, tally) = (url.clone(), http.clone(), tally.clone());
            tokio::spawn(async move {
                for n in 0_i64.. {
                    let page = PAGES[(sender + n as usize) % PAGES.len()];
                    let psid = format!("{}", 3_000_000 + sender);
                    let mids: Vec<String> = (0..1 + n % 3)
                        .map(|k| format!("kill-{sender}-{n}-{k}"))
                        .collect();
                    let events = mids
                        .iter()
                        .map(|mid| message(page, &psid, mid, "hello", T0 + n));
                    let bytes = serde_json::to_vec(&batch(page, events)).expect("a JSON body");
                    let answer = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", sign(APP_SECRET, &bytes))
                        .body(bytes)
                        .send()
                        .await
                        .map(|response| response.status().as_u16());
                    let mut tally = tally.lock().expect("the tally");
                    if matches!(answer, Ok(200)) {
                        tally.acknowledged.extend(mids);
                    } else {
                        // The process is gone (or going): this sender is done.
                        tally.unanswered.extend(mids);
                        return;
                    }
                }
            })
        })
        .collect();
    eventually_every(
        Duration::from_millis(5),
        Duration::from_secs(60),
        async || {
            let acknowledged = tally.lock().expect("the tally").acknowledged.len();
            (acknowledged >= 500)
                .then_some(())
                .ok_or(format!("{acknowledged} of 500 events acknowledged"))
        },
    )
    .await;

    // Act: SIGKILL mid-stream, then a new process on the same database.
    first.kill_process().await;
    for sender in senders {
        sender.await.expect("a sender");
    }
    let database_url = first.database_url.clone();
    let second = spawn_app_process_with(move |config| config.database_url = database_url).await;

    // Assert: every acknowledged event is stored, once; nothing stored was never sent.
    let tally = std::mem::take(&mut *tally.lock().expect("the tally"));
    let stored = stored_mids(&second, "kill-").await;
    let stored_set: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), stored_set.len(), "an event stored twice");
    let lost: Vec<&String> = tally.acknowledged.difference(&stored_set).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let stored_acknowledged = stored_set.intersection(&tally.acknowledged).count();
    assert_eq!(stored_acknowledged, tally.acknowledged.len());
    let unknown: Vec<&String> = stored_set
        .iter()
        .filter(|mid| !tally.acknowledged.contains(*mid) && !tally.unanswered.contains(*mid))
        .collect();
    assert!(unknown.is_empty(), "stored but never sent: {unknown:?}");
    eprintln!(
        "SIGKILL under load: {} events acknowledged, all {} stored; {} unanswered, of which {} stored",
        tally.acknowledged.len(),
        stored_acknowledged,
        tally.unanswered.len(),
        stored_set.len() - stored_acknowledged
    );
}

/// A webhook POST written by hand on its own connection, with `Expect: 100-continue`: the
/// server answers `100 Continue` once the handler reads the body, which proves the request
/// is in flight before the test goes on.
struct SlowDelivery {
    stream: TcpStream,
    body: Vec<u8>,
}

impl SlowDelivery {
    async fn start(app: &TestApp, body: Vec<u8>) -> Self {
        let mut stream = TcpStream::connect(app.addr)
            .await
            .expect("connecting to the api process");
        let head = format!(
            "POST /webhook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             X-Hub-Signature-256: {}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            app.addr,
            sign(APP_SECRET, &body),
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .await
            .expect("sending the request head");
        let interim = read_head(&mut stream).await;
        assert!(
            interim.starts_with("HTTP/1.1 100"),
            "expected 100 Continue, got {interim:?}"
        );
        Self { stream, body }
    }

    /// Sends the body and returns the response's status line and body.
    async fn finish(mut self) -> String {
        self.stream
            .write_all(&self.body)
            .await
            .expect("sending the body");
        let mut response = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            self.stream.read_to_end(&mut response),
        )
        .await
        .expect("the response within 30 s")
        .expect("reading the response");
        String::from_utf8_lossy(&response).into_owned()
    }
}

/// Reads up to the end of one response head.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("a response head within 10 s")
            .expect("reading a response head");
        assert!(read > 0, "the connection closed: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Polls until connecting to the server is refused: the listener is closed.
async fn wait_until_refusing(app: &TestApp) {
    eventually_every(
        Duration::from_millis(20),
        Duration::from_secs(10),
        async || match TcpStream::connect(app.addr).await {
            Ok(_) => Err("still accepting connections after SIGTERM"),
            Err(_) => Ok(()),
        },
    )
    .await;
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_delivery_finish_with_200_and_exits_0() {
    // Arrange: a delivery whose body has not arrived yet is in the handler.
    let mut app = spawn_app_process_with(|config| config.shutdown_grace_secs = 20).await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-0", "hello", T0)]))
        .await;
    let body = serde_json::to_vec(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-in-flight", "slow", T0 + 1)],
    ))
    .expect("a JSON body");
    let delivery = SlowDelivery::start(&app, body).await;

    // Act: SIGTERM, then the rest of the delivery.
    app.terminate_process();
    wait_until_refusing(&app).await;
    let response = delivery.finish().await;

    // Assert: answered for real, stored, and the process exited 0.
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let status = app
        .process_exit(Duration::from_secs(15))
        .await
        .expect("the process exits after draining");
    assert!(status.success(), "exit status {status}");
    assert_eq!(stored_mids(&app, "m-in-flight").await, ["m-in-flight"]);
}

#[tokio::test]
async fn sigterm_exits_within_the_grace_period_despite_an_open_websocket_and_a_stuck_request() {
    // Arrange: a subscriber is connected, and a delivery's body never comes.
    let mut app = spawn_app_process_with(|config| config.shutdown_grace_secs = 2).await;
    app.ingest(&batch(PAGE, [message(PAGE, CUSTOMER, "m-0", "hello", T0)]))
        .await;
    let mut subscription = app
        .subscribe(
            "subscription($p: ID!) { conversationUpdated(pageId: $p) { id } }",
            json!({ "p": PAGE }),
        )
        .await;
    let body = serde_json::to_vec(&batch(
        PAGE,
        [message(PAGE, CUSTOMER, "m-never", "never", T0 + 1)],
    ))
    .expect("a JSON body");
    let _stuck = SlowDelivery::start(&app, body).await;

    // Act
    app.terminate_process();

    // Assert: the process exits 0 on its own, and the subscriber's socket is closed.
    let status = app
        .process_exit(Duration::from_secs(15))
        .await
        .expect("the process exits within its grace period");
    assert!(status.success(), "exit status {status}");
    // Whatever it said last (a `complete`, say), the socket then ends.
    let ended = loop {
        if let Err(ended) = subscription.next_message(Duration::from_secs(5)).await {
            break ended;
        }
    };
    assert!(
        !ended.to_string().contains("no message within"),
        "the WebSocket stayed open: {ended:#}"
    );
}

/// One JSON log line of the api process: its message and, for a task's end, the task.
struct LogLine {
    message: String,
    task: Option<String>,
    count: Option<u64>,
}

fn log_lines(text: &str) -> Vec<LogLine> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("a log line that is not JSON ({error}): {line}"));
            let fields = &value["fields"];
            LogLine {
                message: fields["message"].as_str().unwrap_or_default().to_owned(),
                task: fields["task"].as_str().map(str::to_owned),
                count: fields["count"].as_u64(),
            }
        })
        .collect()
}

#[tokio::test]
async fn sigterm_stops_and_joins_every_background_task_a_running_history_sync_included() {
    // Arrange: the api on the simulator, logging as JSON, with a full sync running (300
    // threads: it runs for seconds).
    use mf_tests::sim::{SIM_SECRET, Simulator};
    let sim = Simulator::start(SIM_SECRET).await;
    let graph_url = sim.base_url();
    let (mut app, logs) = mf_tests::spawn_app_process_logging(
        |config| {
            config.fb_graph_url = graph_url;
            config.fb_app_secret = Some(api::Secret::new(SIM_SECRET));
            config.log_format = "json".to_owned();
        },
        "info,api::tasks=debug",
    )
    .await;
    sim.set_webhook(format!("http://{}/webhook", app.addr))
        .await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    app.connect_page(PAGE, &token).await;
    sim.seed(PAGE, 300, 1).await;
    let started = app
        .gql_data(
            "mutation($page: ID!) { syncFullHistory(pageId: $page) { status } }",
            json!({ "page": PAGE }),
        )
        .await;
    assert_eq!(
        started["syncFullHistory"]["status"], "RUNNING",
        "{started:#}"
    );

    // Act
    app.terminate_process();
    let status = app
        .process_exit(Duration::from_secs(15))
        .await
        .expect("the process exits after SIGTERM");

    // Assert: exit 0; after "shutting down", every task's end, then the count of them as
    // the very last line.
    assert!(status.success(), "exit status {status}");
    let text = logs.text();
    let lines = log_lines(&text);
    let signal = lines
        .iter()
        .rposition(|line| line.message == "shutting down")
        .unwrap_or_else(|| panic!("no `shutting down` line:\n{text}"));
    let last = lines.last().expect("log lines");
    assert!(
        last.message.ends_with("background tasks finished") && last.message.starts_with("all "),
        "the last line is not the tasks' count:\n{text}"
    );
    let finished: Vec<&str> = lines[signal..]
        .iter()
        .filter(|line| line.message == "background task finished")
        .filter_map(|line| line.task.as_deref())
        .collect();
    assert_eq!(
        last.count,
        Some(finished.len() as u64),
        "the count is not the tasks that ended:\n{text}"
    );
    let mut expected = vec![
        "ingest-writer",
        "outbox-relay",
        "outbox-sweeper",
        "credential-recheck",
        "profile-fetcher",
        "viewers",
        "event-log-pruner",
        "snooze-waker",
        "history-sync",
    ];
    if app.redis_url.is_some() {
        expected.push("redis-reader");
    }
    for task in expected {
        assert!(
            finished.contains(&task),
            "{task} did not finish after SIGTERM:\n{text}"
        );
    }
}
