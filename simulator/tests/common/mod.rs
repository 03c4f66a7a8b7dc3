//! Starts a real simulator on 127.0.0.1:0 and talks to it over HTTP, like the api will.

// Test helpers panic on purpose: a failed request is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use reqwest::Method;
use serde_json::{Value, json};
use simulator::{SimConfig, SimHandle, Timing};
use std::collections::HashMap;
use tokio::sync::mpsc;

/// The secret tests sign with.
pub const SECRET: &str = "test-app-secret-ä";

/// Short delays so webhook tests finish in milliseconds.
pub fn fast_config() -> SimConfig {
    SimConfig {
        app_secret: simulator::Secret::new(SECRET),
        timing: Timing {
            delivery_delay: (Duration::from_millis(5), Duration::from_millis(20)),
            read_delay: (Duration::from_millis(5), Duration::from_millis(20)),
            batch_window: Duration::from_millis(2),
            webhook_attempts: 4,
            webhook_backoff: Duration::from_millis(30),
            webhook_timeout: Duration::from_secs(5),
        },
        ..SimConfig::default()
    }
}

/// A running simulator with one Page and an HTTP client.
pub struct TestSim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
    pub page_id: String,
    pub token: String,
}

/// Starts a simulator with `config` and creates a Page through the control API.
pub async fn spawn_sim(config: SimConfig) -> TestSim {
    let handle = simulator::start(config).await.expect("simulator starts");
    let http = reqwest::Client::new();
    let mut sim = TestSim {
        handle,
        http,
        page_id: String::new(),
        token: String::new(),
    };
    let page = sim
        .control(
            Method::POST,
            "/pages",
            json!({"id": "1000001", "name": "Nordlicht Outdoor"}),
        )
        .await;
    sim.page_id = page["id"].as_str().unwrap().to_owned();
    sim.token = page["access_token"].as_str().unwrap().to_owned();
    sim
}

impl TestSim {
    /// A control API call that must succeed.
    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.handle.control_url());
        let response = self
            .http
            .request(method, &url)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path} answered {status}: {body}");
        body
    }

    /// A GET on the Graph API with the Page token; path relative to `/v25.0`.
    pub async fn graph_get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let separator = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!(
            "{}{path_and_query}{separator}access_token={}",
            self.handle.base_url(),
            self.token
        );
        self.get_url(&url).await
    }

    /// A GET of a full URL, such as `paging.next`.
    pub async fn get_url(&self, url: &str) -> (StatusCode, Value) {
        let response = self.http.get(url).send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap())
    }

    /// A Send API call with the Page token.
    pub async fn send(&self, body: Value) -> (StatusCode, Value) {
        self.send_with(&self.token, body).await
    }

    /// A Send API call with any token, passed as the Bearer header.
    pub async fn send_with(&self, token: &str, body: Value) -> (StatusCode, Value) {
        let url = format!("{}/{}/messages", self.handle.base_url(), self.page_id);
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap())
    }

    /// Creates a customer and returns the PSID.
    pub async fn customer(&self, body: Value) -> String {
        let path = format!("/pages/{}/customers", self.page_id);
        let customer = self.control(Method::POST, &path, body).await;
        customer["psid"].as_str().unwrap().to_owned()
    }

    /// The customer writes (see the control API); returns the stored message.
    pub async fn customer_says(&self, psid: &str, body: Value) -> Value {
        let path = format!("/pages/{}/customers/{psid}/messages", self.page_id);
        self.control(Method::POST, &path, body).await
    }

    /// Subscribes the app to the Page's messaging webhooks through the Graph API.
    pub async fn subscribe_all(&self) {
        self.subscribe("messages,message_echoes,message_deliveries,message_reads")
            .await;
    }

    /// Subscribes the app to exactly these comma-separated fields through the Graph API.
    pub async fn subscribe(&self, fields: &str) {
        let url = format!(
            "{}/{}/subscribed_apps?subscribed_fields={fields}&access_token={}",
            self.handle.base_url(),
            self.page_id,
            self.token
        );
        let response = self.http.post(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"success": true})
        );
    }
}

/// A text message body for the Send API.
pub fn text_message(psid: &str, text: &str) -> Value {
    json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": text}})
}

/// Asserts a Graph error body's code and subcode.
pub fn assert_graph_error(body: &Value, code: u64, subcode: Option<u64>) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["error_subcode"].as_u64(), subcode, "{body}");
    assert!(error["message"].is_string(), "{body}");
    assert!(error["type"].is_string(), "{body}");
    assert!(error["fbtrace_id"].is_string(), "{body}");
}

/// One POST the receiver got: raw bytes and the signature header.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Bytes,
    pub signature: Option<String>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Every messaging object of every entry.
    pub fn events(&self) -> Vec<Value> {
        self.json()["entry"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["messaging"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

/// A tiny webhook endpoint on 127.0.0.1:0 that records what it gets.
pub struct Receiver {
    pub url: String,
    pub rx: mpsc::UnboundedReceiver<Received>,
    /// Answer 500 to this many POSTs before answering 200.
    pub fail_first: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct ReceiverState {
    tx: mpsc::UnboundedSender<Received>,
    fail_first: Arc<AtomicUsize>,
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let _ = state.tx.send(Received { body, signature });
    let failing = state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// The verify token the receiver accepts in Facebook's `hub.challenge` check.
pub const VERIFY_TOKEN: &str = "verify-me";

async fn challenge(Query(query): Query<HashMap<String, String>>) -> (StatusCode, String) {
    let subscribe = query.get("hub.mode").is_some_and(|m| m == "subscribe");
    let token_ok = query
        .get("hub.verify_token")
        .is_some_and(|t| t == VERIFY_TOKEN);
    match (subscribe && token_ok, query.get("hub.challenge")) {
        (true, Some(challenge)) => (StatusCode::OK, challenge.clone()),
        _ => (StatusCode::FORBIDDEN, String::new()),
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let fail_first = Arc::new(AtomicUsize::new(0));
        let state = ReceiverState {
            tx,
            fail_first: Arc::clone(&fail_first),
        };
        let app = axum::Router::new()
            .route("/webhook", post(receive).get(challenge))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url: format!("http://{addr}/webhook"),
            rx,
            fail_first,
        }
    }

    /// The next POST, or a panic after 5 s.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
            .await
            .expect("no webhook within 5 s")
            .expect("receiver closed")
    }

    /// Collects events until `done` holds for the collected set, or panics after 5 s.
    pub async fn events_until(&mut self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !done(&events) {
            let post = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out; got {events:?}"))
                .expect("receiver closed");
            events.extend(post.events());
        }
        events
    }
}
