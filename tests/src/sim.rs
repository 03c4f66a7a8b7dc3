//! The Graph API simulator (`graph-simulator`) as a real child process, and typed helpers
//! over its control API (`/_sim`, see `simulator/README.md`).
//!
//! ```ignore
//! let sim = Simulator::start(SIM_SECRET).await;
//! let app = spawn_app_on(&sim).await; // FB_GRAPH_URL and the webhook point at each other
//! let token = sim.create_page(PAGE, "Page").await;
//! app.connect_page(PAGE, &token).await;
//! ```
//!
//! The child is killed when the [`Simulator`] is dropped.
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{TestApp, eventually_every, spawn_app_process_with};

/// The app secret the tests' simulators sign webhooks with.
pub const SIM_SECRET: &str = "sim-test-app-secret";
/// The app id Meta's Page Inbox (Business Suite) puts on echoes of replies written there.
pub const PAGE_INBOX_APP_ID: &str = "263902037430900";

const BINARY: &str = "graph-simulator";
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Delivery receipts 30 to 60 ms after a send, read receipts 60 to 120 ms after that:
/// short, and far enough apart to arrive in separate webhook batches.
const DELIVERY_DELAY_MS: &str = "30..60";
const READ_DELAY_MS: &str = "60..120";

/// What a seed created (`POST /_sim/pages/{id}/seed`).
#[derive(Clone, Debug, Deserialize)]
pub struct SeedReport {
    pub conversations: usize,
    pub messages: usize,
    /// The new customers' PSIDs, newest thread first.
    pub psids: Vec<String>,
}

/// One thread as the simulator's own Graph API lists it.
#[derive(Clone, Debug)]
pub struct GraphThread {
    pub id: String,
    /// The customer's PSID.
    pub psid: String,
    /// The customer's name, as `participants` gives it.
    pub name: Option<String>,
    /// Every message's mid, newest first.
    pub mids: Vec<String>,
}

/// A running `graph-simulator` process.
pub struct Simulator {
    addr: String,
    http: reqwest::Client,
    _child: Child,
}

/// `target/debug/graph-simulator`, brought up to date once per test process.
async fn binary() -> PathBuf {
    tokio::task::spawn_blocking(|| crate::binary("simulator", BINARY))
        .await
        .unwrap_or_else(|error| panic!("no {BINARY} binary: {error}"))
}

impl Simulator {
    /// Starts `graph-simulator --port 0 --app-secret <secret>` with short receipt delays
    /// and waits for its `{"listening":"127.0.0.1:PORT"}` line. Its logs are forwarded to
    /// the test's output (shown when a test fails).
    pub async fn start(app_secret: &str) -> Self {
        Self::start_with(app_secret, &[]).await.0
    }

    /// The simulator in demo mode (`--demo`): a Page with history and customers who write
    /// on their own every few seconds. Also returns the `demo_page` line (`id`,
    /// `access_token`, `customers`). Its webhooks go nowhere until [`Simulator::set_webhook`].
    pub async fn start_demo(app_secret: &str) -> (Self, Value) {
        let (sim, demo) = Self::start_with(app_secret, &["--demo"]).await;
        let demo = demo.unwrap_or_else(|| panic!("the demo printed no demo_page line"));
        (sim, demo)
    }

    async fn start_with(app_secret: &str, extra: &[&str]) -> (Self, Option<Value>) {
        let binary = binary().await;
        let demo = extra.contains(&"--demo");
        let mut child = Command::new(&binary)
            .args([
                "--port",
                "0",
                "--app-secret",
                app_secret,
                "--delivery-delay-ms",
                DELIVERY_DELAY_MS,
                "--read-delay-ms",
                READ_DELAY_MS,
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", binary.display()));
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    eprintln!("[graph-simulator] {line}");
                }
            });
        }
        let stdout = child
            .stdout
            .take()
            .expect("the simulator's stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(START_TIMEOUT, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("the simulator printed nothing within {START_TIMEOUT:?}"))
            .expect("reading the simulator's stdout")
            .expect("the simulator exited before printing its address");
        let listening: Value = serde_json::from_str(&first)
            .unwrap_or_else(|error| panic!("the first line is not JSON ({error}): {first}"));
        let addr = listening["listening"]
            .as_str()
            .unwrap_or_else(|| panic!("no `listening` address in {first}"))
            .to_owned();
        let demo_page = if demo {
            let line = tokio::time::timeout(START_TIMEOUT, lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("no demo_page line within {START_TIMEOUT:?}"))
                .expect("reading the simulator's stdout")
                .expect("the simulator exited before printing its demo Page");
            let parsed: Value = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("the demo line is not JSON ({error}): {line}"));
            Some(parsed["demo_page"].clone())
        } else {
            None
        };
        // Keep reading stdout so the simulator never writes into a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let sim = Self {
            addr,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("building the HTTP client"),
            _child: child,
        };
        (sim, demo_page)
    }

    /// `HOST:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `http://ADDR/v25.0`: the api's `FB_GRAPH_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v25.0", self.addr)
    }

    fn control_url(&self, path: &str) -> String {
        format!("http://{}/_sim{path}", self.addr)
    }

    /// One control API call that must succeed (2xx); its JSON answer.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method.clone(), self.control_url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} /_sim{path} failed: {error}"));
        let status = response.status();
        let text = response.text().await.expect("reading a control answer");
        assert!(
            status.is_success(),
            "{method} /_sim{path} answered {status}: {text}"
        );
        serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{method} /_sim{path}: not JSON ({error}): {text}"))
    }

    /// `PUT /_sim/webhook`: where webhooks go.
    pub async fn set_webhook(&self, url: impl Into<String>) {
        let url: String = url.into();
        self.control(
            reqwest::Method::PUT,
            "/webhook",
            Some(json!({ "url": url })),
        )
        .await;
    }

    /// Adds a Page; returns its access token.
    pub async fn create_page(&self, id: &str, name: &str) -> String {
        let page = self
            .control(
                reqwest::Method::POST,
                "/pages",
                Some(json!({ "id": id, "name": name })),
            )
            .await;
        page["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {page}"))
            .to_owned()
    }

    /// Adds a customer with a profile to the Page.
    pub async fn create_customer(&self, page: &str, psid: &str, first: &str, last: &str) {
        self.control(
            reqwest::Method::POST,
            &format!("/pages/{page}/customers"),
            Some(json!({ "psid": psid, "first_name": first, "last_name": last })),
        )
        .await;
    }

    /// The Page's customers (`psid`, `first_name`, `last_name`, ...).
    pub async fn customers(&self, page: &str) -> Vec<Value> {
        let answer = self
            .control(
                reqwest::Method::GET,
                &format!("/pages/{page}/customers"),
                None,
            )
            .await;
        list(&answer["data"])
    }

    /// The customer writes `text`, `ago_secs` seconds ago (now when `None`); the
    /// simulator posts the webhook. Returns the new mid.
    pub async fn customer_says(
        &self,
        page: &str,
        psid: &str,
        text: &str,
        ago_secs: Option<u64>,
    ) -> String {
        let mut body = json!({ "text": text });
        if let Some(ago) = ago_secs {
            body["ago_secs"] = json!(ago);
        }
        let stored = self
            .control(
                reqwest::Method::POST,
                &format!("/pages/{page}/customers/{psid}/messages"),
                Some(body),
            )
            .await;
        mid_of(&stored)
    }

    /// A person answers in Meta Business Suite (the Page Inbox), not through our app: only
    /// the echo tells the app. Returns the new mid.
    pub async fn inbox_reply(&self, page: &str, psid: &str, text: &str) -> String {
        let stored = self
            .control(
                reqwest::Method::POST,
                &format!("/pages/{page}/customers/{psid}/inbox_reply"),
                Some(json!({ "text": text })),
            )
            .await;
        mid_of(&stored)
    }

    /// History without webhooks: `conversations` threads with new customers, each with
    /// `messages_per_conversation` messages (customer first, then alternating).
    pub async fn seed(
        &self,
        page: &str,
        conversations: usize,
        messages_per_conversation: usize,
    ) -> SeedReport {
        let answer = self
            .control(
                reqwest::Method::POST,
                &format!("/pages/{page}/seed"),
                Some(json!({
                    "conversations": conversations,
                    "messages_per_conversation": messages_per_conversation,
                })),
            )
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|error| panic!("an unexpected seed report ({error}): {answer}"))
    }

    /// Revokes the Page's token: Graph answers code 190 from now on.
    pub async fn revoke(&self, page: &str) {
        self.control(
            reqwest::Method::POST,
            &format!("/pages/{page}/revoke"),
            None,
        )
        .await;
    }

    /// `PUT /_sim/rate_limits`, e.g. `json!({"send_per_sec": 1})`; the limits now in force.
    pub async fn set_rate_limits(&self, limits: Value) -> Value {
        self.control(reqwest::Method::PUT, "/rate_limits", Some(limits))
            .await
    }

    /// `GET /_sim/rate_limits/throttled`: how many calls each budget refused since the
    /// limits were last set (`send`, `media_send`, `conversations`).
    pub async fn throttled(&self) -> Value {
        self.control(reqwest::Method::GET, "/rate_limits/throttled", None)
            .await
    }

    /// `POST /_sim/faults`: arms a fault, e.g. `json!({"code": 80006, "times": 2})`
    /// (see `simulator/README.md`); the fault as armed.
    pub async fn arm_fault(&self, fault: Value) -> Value {
        self.control(reqwest::Method::POST, "/faults", Some(fault))
            .await
    }

    /// `GET /_sim/faults`: the faults still armed (`remaining`, `answered`).
    pub async fn faults(&self) -> Vec<Value> {
        list(&self.control(reqwest::Method::GET, "/faults", None).await["data"])
    }

    /// `PUT /_sim/paging`, e.g. `json!({"max_page": 3, "empty_pages": true})`.
    pub async fn set_paging(&self, mode: Value) -> Value {
        self.control(reqwest::Method::PUT, "/paging", Some(mode))
            .await
    }

    /// What the Page sent (Send API and Page Inbox), oldest first: `mid`, `text`,
    /// `metadata`, `messaging_type`, `tag`, `origin`...
    pub async fn sent(&self, page: &str) -> Vec<Value> {
        list(&self.sent_log(page).await["data"])
    }

    /// The Page's sender actions (`mark_seen`, `typing_on`...), oldest first.
    pub async fn sender_actions(&self, page: &str) -> Vec<Value> {
        list(&self.sent_log(page).await["sender_actions"])
    }

    async fn sent_log(&self, page: &str) -> Value {
        self.control(reqwest::Method::GET, &format!("/pages/{page}/sent"), None)
            .await
    }

    /// Every webhook POST so far (`body`, `attempts`, `delivered`), oldest first.
    pub async fn deliveries(&self) -> Vec<Value> {
        list(
            &self
                .control(reqwest::Method::GET, "/webhook/deliveries", None)
                .await["data"],
        )
    }

    /// Every thread of the Page with every message's mid, read through the simulator's
    /// own Graph API with `token` (following `paging.next`). Throttled calls (code 80006)
    /// are tried again after the throttle's one-second window.
    pub async fn graph_history(&self, page: &str, token: &str) -> Vec<GraphThread> {
        let mut threads = Vec::new();
        let mut next = Some(format!(
            "{}/{page}/conversations?platform=messenger&limit=100&fields=\
             id,participants,messages.limit(100){{id}}",
            self.base_url()
        ));
        while let Some(url) = next.take() {
            let listing = self.graph_get(&url, token).await;
            for thread in list(&listing["data"]) {
                let participant = list(&thread["participants"]["data"])
                    .into_iter()
                    .find(|p| p["id"] != page)
                    .unwrap_or_else(|| panic!("a thread without a customer: {thread}"));
                let mut mids: Vec<String> = Vec::new();
                let mut messages = thread["messages"].clone();
                loop {
                    mids.extend(list(&messages["data"]).iter().map(mid_of_node));
                    match messages["paging"]["next"].as_str() {
                        Some(url) => messages = self.graph_get(url, token).await,
                        None => break,
                    }
                }
                threads.push(GraphThread {
                    id: thread["id"].as_str().unwrap_or_default().to_owned(),
                    psid: participant["id"].as_str().unwrap_or_default().to_owned(),
                    name: participant["name"].as_str().map(str::to_owned),
                    mids,
                });
            }
            next = listing["paging"]["next"].as_str().map(str::to_owned);
        }
        threads
    }

    async fn graph_get(&self, url: &str, token: &str) -> Value {
        // The Conversations API budget is a sliding one-second window: asked again
        // every 250 ms while throttled (code 80006); any other error fails at once.
        eventually_every(
            Duration::from_millis(250),
            Duration::from_secs(10),
            async || {
                let response = self
                    .http
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap_or_else(|error| panic!("GET {url} failed: {error}"));
                let status = response.status();
                let body: Value = response.json().await.expect("a Graph answer is JSON");
                if status.is_success() {
                    return Ok(body);
                }
                assert!(
                    body["error"]["code"] == 80006,
                    "GET {url} answered {status}: {body}"
                );
                Err(format!("GET {url} answered {status}: {body}"))
            },
        )
        .await
    }
}

fn list(value: &Value) -> Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .clone()
}

fn mid_of(stored: &Value) -> String {
    stored["mid"]
        .as_str()
        .unwrap_or_else(|| panic!("no mid in {stored}"))
        .to_owned()
}

fn mid_of_node(message: &Value) -> String {
    message["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {message}"))
        .to_owned()
}

/// A simulator, the api wired to it, and a Page connected with its token.
pub struct World {
    pub sim: Simulator,
    pub app: TestApp,
    pub token: String,
}

/// A fresh simulator and api, with [`crate::PAGE`] created in the simulator and
/// connected in the api.
pub async fn connected_page() -> World {
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    let token = sim.create_page(crate::PAGE, "Nordlicht Outdoor").await;
    let page = app.connect_page(crate::PAGE, &token).await;
    assert_eq!(page["connected"], true, "{page:#}");
    World { sim, app, token }
}

/// Starts the api with `FB_GRAPH_URL` on the simulator and the simulator's app secret,
/// and points the simulator's webhooks at the api.
pub async fn spawn_app_on(sim: &Simulator) -> TestApp {
    spawn_app_on_with(sim, |_| {}).await
}

/// Like [`spawn_app_on`], after `configure` has changed the configuration (for example
/// `MF_WEB_DIR` for the browser tests).
pub async fn spawn_app_on_with(
    sim: &Simulator,
    configure: impl FnOnce(&mut api::Config),
) -> TestApp {
    let graph_url = sim.base_url();
    let app = spawn_app_process_with(|config| {
        config.fb_graph_url = graph_url;
        config.fb_app_secret = Some(api::Secret::new(SIM_SECRET));
        configure(config);
    })
    .await;
    sim.set_webhook(format!("http://{}/webhook", app.addr))
        .await;
    app
}

impl TestApp {
    /// Connects the Page as the administrator (`connectPage`), which checks the token
    /// with Graph and subscribes the app to the Page's webhooks.
    pub async fn connect_page(&self, page_id: &str, access_token: &str) -> Value {
        let data = self
            .gql_data(
                "mutation($page: ID!, $token: String!) { \
                 connectPage(pageId: $page, accessToken: $token) { id name connected needsReconnect } }",
                json!({ "page": page_id, "token": access_token }),
            )
            .await;
        data["connectPage"].clone()
    }
}
