//! End-to-end harness: every test starts the real server (`api::Server`) on `127.0.0.1:0`
//! with its own SQLite database and talks to it the way Facebook and the inbox do:
//! signed webhook POSTs, GraphQL over HTTP, subscriptions over WebSocket.
//!
//! Helpers panic with a message saying what went wrong: a panic is how a test fails.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod backend;
pub mod browser;
pub mod counts;
pub mod cut_proxy;
pub mod hostile;
pub mod node;
pub mod own_redis;
pub mod proxy;
pub mod require;
pub mod sim;
pub mod sim_edges;
pub mod wait;
pub mod web;
pub mod webhook;
pub mod ws;

use std::net::SocketAddr;
use std::sync::{Arc, Once};
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub use accounts::{AGENT_PASSWORD, Agent, ApiToken};
pub use backend::TestDatabase;
pub use counts::Counts;
pub use wait::{eventually, eventually_every};
pub use ws::Subscription;

/// The administrator every test server starts with (`MF_ADMIN_EMAIL`/`MF_ADMIN_PASSWORD`).
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// The app secret every test server checks webhook signatures with.
pub const APP_SECRET: &str = "test-app-secret";
/// The verify token every test server answers the verification GET with.
pub const VERIFY_TOKEN: &str = "test-verify-token";
/// How long a test waits for something that should happen promptly.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A Facebook Page the tests receive events for.
pub const PAGE: &str = "1000000001";
/// Another Page, for checking that pages do not mix.
pub const OTHER_PAGE: &str = "1000000002";
/// A customer's page-scoped id.
pub const CUSTOMER: &str = "2000000001";
/// Another customer.
pub const OTHER_CUSTOMER: &str = "2000000002";
/// A message time in ms since the epoch: 2025-11-26T13:25:26.123Z.
pub const T0: i64 = 1_764_163_526_123;

/// The fields of a conversation the tests read.
pub const CONVERSATION_FIELDS: &str = "id page { id name } customer { psid name } \
     lastMessageText lastTimestamp unreadCount status";
/// The fields of a message the tests read.
pub const MESSAGE_FIELDS: &str = "id mid conversationId direction text attachments { type url } \
     timestamp status quickReplyPayload replyToMid";

/// A running server and what a test needs to talk to it. Dropping it stops the server.
pub struct TestApp {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The secret webhook bodies are signed with (`None` when the server has none either).
    pub app_secret: Option<String>,
    /// The administrator's session token, which `gql` and `subscribe` use.
    pub admin_token: String,
    /// The database and the bus it was started with, for a second instance beside it.
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_channel: String,
    http: reqwest::Client,
    /// The server's own database pool, for what no query shows (agents, API tokens).
    db: sea_orm::DatabaseConnection,
    shutdown: Option<oneshot::Sender<()>>,
    /// The api process, for a server started with `spawn_app_process_with` (killed on drop).
    process: Option<tokio::process::Child>,
    // Declared after the shutdown signal and the process, so the database outlives them.
    _database_dir: TempDir,
    /// Dropped (on PostgreSQL) once this app, its server and any app beside it are gone.
    _database: Option<Arc<TestDatabase>>,
}

/// Starts a server with the test defaults: a fresh SQLite database, app secret
/// [`APP_SECRET`], verify token [`VERIFY_TOKEN`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], after `configure` has changed the configuration
/// (for example `|config| config.fb_app_secret = None`).
pub async fn spawn_app_with(configure: impl FnOnce(&mut api::Config)) -> TestApp {
    init_once();
    let database_dir = tempfile::tempdir().expect("creating the database directory");
    let (config, database) = test_config(&database_dir, configure).await;
    let app_secret = config
        .fb_app_secret
        .as_ref()
        .map(|secret| secret.expose().to_owned());
    let (database_url, redis_url, redis_channel) = (
        config.database_url.clone(),
        config.redis_url.clone(),
        config.redis_channel.clone(),
    );

    let listener = tokio::net::TcpListener::bind((config.host, config.port))
        .await
        .expect("binding the test listener");
    let server = api::Server::build(config, listener)
        .await
        .expect("building the server");
    let addr = server.local_addr();
    let db = server.state().db.clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let in_use = database.clone();
    tokio::spawn(async move {
        // Held until the server has stopped, or its task is dropped with the test's runtime.
        let _in_use = in_use;
        let shutdown = async move {
            // Fired by TestApp's Drop, or dropped with it: either way, stop.
            let _ = stopped.await;
        };
        if let Err(error) = server.run_until(shutdown).await {
            eprintln!("test server stopped with an error: {error:#}");
        }
    });

    let mut app = TestApp {
        addr,
        app_secret,
        admin_token: String::new(),
        database_url,
        redis_url,
        redis_channel,
        http: client(),
        db,
        shutdown: Some(shutdown),
        process: None,
        _database_dir: database_dir,
        _database: database,
    };
    app.admin_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app
}

/// A second instance beside `first`: the same database and the same bus (Redis channel).
pub async fn spawn_beside(first: &TestApp) -> TestApp {
    let (database_url, redis_url, channel) = (
        first.database_url.clone(),
        first.redis_url.clone(),
        first.redis_channel.clone(),
    );
    spawn_app_with(move |config| {
        config.database_url = database_url;
        config.redis_url = redis_url;
        config.redis_channel = channel;
    })
    .await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("building the HTTP client")
}

/// Like [`spawn_app_with`], but the server is the real `api` binary in a process of its
/// own, configured through its environment as in production.
pub async fn spawn_app_process_with(configure: impl FnOnce(&mut api::Config)) -> TestApp {
    spawn_process(configure, None).await.0
}

/// What an api process wrote to its stdout and stderr (its logs), collected as it runs.
#[derive(Clone, Default)]
pub struct ProcessLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl ProcessLogs {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Keeps reading `output` into the buffer until it ends.
    fn collect(&self, mut output: impl tokio::io::AsyncRead + Unpin + Send + 'static) {
        let buffer = self.0.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut chunk = vec![0u8; 64 * 1024];
            while let Ok(read) = output.read(&mut chunk).await {
                if read == 0 {
                    break;
                }
                buffer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .extend_from_slice(&chunk[..read]);
            }
        });
    }
}

/// Like [`spawn_app_process_with`], with `RUST_LOG=<rust_log>`, collecting what the
/// process logs (both its output streams).
pub async fn spawn_app_process_logging(
    configure: impl FnOnce(&mut api::Config),
    rust_log: &str,
) -> (TestApp, ProcessLogs) {
    spawn_process(configure, Some(rust_log)).await
}

async fn spawn_process(
    configure: impl FnOnce(&mut api::Config),
    rust_log: Option<&str>,
) -> (TestApp, ProcessLogs) {
    init_once();
    let database_dir = tempfile::tempdir().expect("creating the database directory");
    let (config, database) = test_config(&database_dir, configure).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let secret = |s: &Option<api::Secret>| {
        s.as_ref()
            .map(|s| s.expose().to_owned())
            .unwrap_or_default()
    };
    let mut command = tokio::process::Command::new(binary("api", "api"));
    command
        .current_dir(database_dir.path())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DATABASE_URL", &config.database_url)
        .env("MF_REDIS_CHANNEL", &config.redis_channel)
        .env("MF_WEB_DIR", &config.web_dir)
        .env("MF_GRAPHIQL_DIR", &config.graphiql_dir)
        .env("MF_QUERY_DEADLINE_MS", config.query_deadline_ms.to_string())
        .env("MF_MAX_UPLOAD_BYTES", config.max_upload_bytes.to_string())
        .env(
            "MF_API_TOKEN_RATE_PER_SECOND",
            config.api_token_rate_per_second.to_string(),
        )
        .env("LOG_FORMAT", &config.log_format)
        .env("FB_APP_SECRET", secret(&config.fb_app_secret))
        .env("FB_VERIFY_TOKEN", secret(&config.fb_verify_token))
        .env("FB_GRAPH_URL", &config.fb_graph_url)
        .env(
            "MF_ADMIN_EMAIL",
            config.admin_email.clone().unwrap_or_default(),
        )
        .env("MF_ADMIN_PASSWORD", secret(&config.admin_password))
        .env(
            "MF_SHUTDOWN_GRACE_SECS",
            config.shutdown_grace_secs.to_string(),
        )
        .env(
            "MF_WS_IDLE_TIMEOUT_SECS",
            config.ws_idle_timeout_secs.to_string(),
        )
        .env(
            "MF_WS_INIT_TIMEOUT_SECS",
            config.ws_init_timeout_secs.to_string(),
        )
        .env("MF_WS_SEND_QUEUE", config.ws_send_queue.to_string())
        .env(
            "MF_WS_MAX_SUBSCRIPTIONS",
            config.ws_max_subscriptions.to_string(),
        )
        .env(
            "MF_WS_MAX_CONNECTIONS_PER_CREDENTIAL",
            config.ws_max_connections_per_credential.to_string(),
        )
        .env(
            "MF_WS_MAX_CONNECTIONS",
            config.ws_max_connections.to_string(),
        )
        .env(
            "RUST_LOG",
            rust_log.map_or_else(
                || std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".to_owned()),
                str::to_owned,
            ),
        )
        .env_remove("REDIS_URL")
        .kill_on_drop(true);
    if let Some(redis) = &config.redis_url {
        command.env("REDIS_URL", redis);
    }
    let logs = ProcessLogs::default();
    if rust_log.is_some() {
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
    }
    let mut process = command.spawn().expect("starting the api binary");
    if let Some(stdout) = process.stdout.take() {
        logs.collect(stdout);
    }
    if let Some(stderr) = process.stderr.take() {
        logs.collect(stderr);
    }
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let http = client();
    eventually(Duration::from_secs(30), async || {
        match http.get(format!("http://{addr}/health")).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!(
                "the api process is not healthy yet: {}",
                r.status()
            )),
            Err(error) => Err(format!("the api process is not healthy yet: {error}")),
        }
    })
    .await;
    let db = api::db::connect(&config.database_url)
        .await
        .expect("connecting to the api's database");
    let mut app = TestApp {
        addr,
        app_secret: config.fb_app_secret.as_ref().map(|s| s.expose().to_owned()),
        admin_token: String::new(),
        database_url: config.database_url.clone(),
        redis_url: config.redis_url.clone(),
        redis_channel: config.redis_channel.clone(),
        http,
        db,
        shutdown: None,
        process: Some(process),
        _database_dir: database_dir,
        _database: database,
    };
    app.admin_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    (app, logs)
}

/// A workspace binary from the same build as this test (`target/debug/<name>`). `scripts/test`
/// builds every binary before the tests (`cargo build --workspace --bins`); when one is
/// missing it is built here. (Running `cargo test -p mf-tests` alone after changing `api`
/// or `simulator`: build the binaries first, or the tests run the old ones.)
pub fn binary(package: &str, name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf();
    let path = dir.join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", name])
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building {name} failed");
    }
    path
}

/// The test defaults: a fresh database, the test secrets and administrator; with the
/// database the server uses, when a test made it (created only if `configure` kept it).
async fn test_config(
    database_dir: &TempDir,
    configure: impl FnOnce(&mut api::Config),
) -> (api::Config, Option<Arc<TestDatabase>>) {
    let fresh = backend::Fresh::new(database_dir.path());
    let mut config = api::Config::with_database(fresh.url().to_owned());
    if let Some(redis) = backend::redis_url() {
        // Each app its own channel: tests share the Redis server, not their events.
        let unique = database_dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        config.redis_url = Some(redis);
        config.redis_channel = format!("mf-test-{}", unique.unwrap_or_default());
    }
    config.fb_app_secret = Some(api::Secret::new(APP_SECRET));
    config.fb_verify_token = Some(api::Secret::new(VERIFY_TOKEN));
    config.admin_email = Some(ADMIN_EMAIL.to_owned());
    config.admin_password = Some(api::Secret::new(ADMIN_PASSWORD));
    // GraphiQL as `scripts/build-graphiql` vendors it into the workspace.
    config.graphiql_dir = browser::graphiql_dist();
    configure(&mut config);
    let database = backend::database_for(&config.database_url, fresh).await;
    (config, database)
}

impl TestApp {
    /// The server's own database, for arranging what no API can (and for counting).
    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.db
    }
}

/// Signals for a server started with [`spawn_app_process_with`].
impl TestApp {
    fn child(&mut self) -> &mut tokio::process::Child {
        self.process
            .as_mut()
            .expect("the server runs as a process (spawn_app_process_with)")
    }

    /// The api process's id, to read its `/proc` entries.
    pub fn process_id(&mut self) -> u32 {
        self.child().id().expect("the api process is still running")
    }

    /// SIGKILL: the process ends at once, whatever it was doing; returns once it is gone.
    pub async fn kill_process(&mut self) {
        self.child().kill().await.expect("killing the api process");
    }

    /// SIGTERM: asks the process to stop (it drains, then exits).
    pub fn terminate_process(&mut self) {
        let pid = self.child().id().expect("the api process is still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("running kill -TERM");
        assert!(status.success(), "kill -TERM {pid} failed");
    }

    /// Waits up to `limit` for the process to exit; `None` if it is still running.
    pub async fn process_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(limit, self.child().wait())
            .await
            .ok()
            .map(|status| status.expect("waiting for the api process"))
    }
}

impl TestApp {
    /// Starts the server's shutdown (as SIGTERM does), for an app run in this process.
    pub fn shut_down(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// When `TEST_LOG` is set, prints the server's logs
/// (`TEST_LOG=debug cargo test -p mf-tests -- --nocapture`).
fn init_once() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// A webhook body: JSON built with `serde_json::json!`, or raw text sent byte for byte.
pub trait WebhookBody {
    fn into_bytes(self) -> Vec<u8>;
}

impl WebhookBody for &Value {
    fn into_bytes(self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serialising a webhook body")
    }
}

impl WebhookBody for Value {
    fn into_bytes(self) -> Vec<u8> {
        (&self).into_bytes()
    }
}

impl WebhookBody for &str {
    fn into_bytes(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl WebhookBody for String {
    fn into_bytes(self) -> Vec<u8> {
        self.into_bytes()
    }
}

impl WebhookBody for Vec<u8> {
    fn into_bytes(self) -> Vec<u8> {
        self
    }
}

/// A finished HTTP exchange: the status and the body, already read.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl HttpResponse {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let headers = response.headers().clone();
        let body = response.text().await.expect("reading the response body");
        Self {
            status,
            content_type,
            headers,
            body,
        }
    }

    /// A response header as text, if present (and valid text).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("the body is not JSON ({error}): {}", self.body))
    }
}

impl TestApp {
    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request to `path` to build on (headers, body), then hand to [`TestApp::send`].
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Sends a request built with [`TestApp::request`] and reads the whole response.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> HttpResponse {
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("the request failed: {error}"));
        HttpResponse::read(response).await
    }

    /// A plain GET.
    pub async fn get(&self, path: &str) -> HttpResponse {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path} failed: {error}"));
        HttpResponse::read(response).await
    }

    /// Facebook's verification GET with the given query parameters, e.g.
    /// `[("hub.mode", "subscribe"), ("hub.verify_token", VERIFY_TOKEN), ("hub.challenge", "42")]`.
    pub async fn verify_webhook(&self, params: &[(&str, &str)]) -> HttpResponse {
        let url = reqwest::Url::parse_with_params(&self.url("/webhook"), params)
            .expect("building the verification URL");
        let response = self
            .http
            .get(url)
            .send()
            .await
            .expect("GET /webhook failed");
        HttpResponse::read(response).await
    }

    /// POSTs a webhook body signed with the app's secret, as Facebook does.
    pub async fn post_webhook(&self, body: impl WebhookBody) -> HttpResponse {
        let body = body.into_bytes();
        let secret = self.app_secret.as_deref().unwrap_or(APP_SECRET);
        let signature = webhook::sign(secret, &body);
        self.post_webhook_signed_with(body, Some(&signature)).await
    }

    /// POSTs a webhook body with the given `X-Hub-Signature-256` header (or none).
    pub async fn post_webhook_signed_with(
        &self,
        body: impl WebhookBody,
        signature: Option<&str>,
    ) -> HttpResponse {
        let headers: Vec<(&str, &str)> = signature
            .map(|signature| vec![(webhook::SIGNATURE_HEADER, signature)])
            .unwrap_or_default();
        self.post_webhook_with_headers(body, &headers).await
    }

    /// POSTs a webhook body with exactly the given extra headers.
    pub async fn post_webhook_with_headers(
        &self,
        body: impl WebhookBody,
        headers: &[(&str, &str)],
    ) -> HttpResponse {
        let mut request = self
            .http
            .post(self.url("/webhook"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.into_bytes());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("POST /webhook failed");
        HttpResponse::read(response).await
    }

    /// Delivers a signed webhook body and asserts the server accepted it (200).
    pub async fn ingest(&self, body: impl WebhookBody) {
        let response = self.post_webhook(body).await;
        assert_eq!(
            response.status, 200,
            "the webhook delivery was refused: {response:?}"
        );
    }

    /// Runs a GraphQL operation as the administrator; the whole response (`data`, `errors`).
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(Some(&self.admin_token), query, variables).await
    }

    /// Runs a GraphQL operation with `token` (or none); the whole response.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_http(token, query, variables).await.json()
    }

    /// Runs a GraphQL operation with `token` (or none); the HTTP exchange itself.
    pub async fn gql_http(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> HttpResponse {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /graphql failed");
        HttpResponse::read(response).await
    }

    /// Runs `query` as a GraphQL multipart request (the spec async-graphql's `Upload`
    /// reads): `variables` with `file` as a file part mapped to `variables.<at>`, named
    /// `name` with the part's `Content-Type` `mime` (none when `None`).
    pub async fn gql_file(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        at: &str,
        file: (&[u8], &str, Option<&str>),
    ) -> HttpResponse {
        use reqwest::multipart::{Form, Part};
        let (bytes, name, mime) = file;
        let operations = json!({ "query": query, "variables": variables });
        let map = json!({ "0": [format!("variables.{at}")] });
        let mut part = Part::bytes(bytes.to_vec()).file_name(name.to_owned());
        if let Some(mime) = mime {
            part = part.mime_str(mime).expect("a valid MIME type");
        }
        let form = Form::new()
            .text("operations", operations.to_string())
            .text("map", map.to_string())
            .part("0", part);
        let mut request = self.http.post(self.url("/graphql")).multipart(form);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /graphql failed");
        HttpResponse::read(response).await
    }

    /// Sends the document `query` with `operationName` = `operation` and no variables, as
    /// tools send their introspection query; the HTTP exchange itself.
    pub async fn gql_http_named(
        &self,
        token: Option<&str>,
        query: &str,
        operation: &str,
    ) -> HttpResponse {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&json!({ "query": query, "operationName": operation, "variables": {} }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /graphql failed");
        HttpResponse::read(response).await
    }

    /// Signs in and returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self
            .gql_as(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                json!({ "e": email, "p": password }),
            )
            .await;
        response["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("signing in as {email} failed: {response:#}"))
            .to_owned()
    }

    /// Runs a GraphQL operation that must succeed and returns its `data`.
    pub async fn gql_data(&self, query: &str, variables: Value) -> Value {
        self.gql_data_as(&self.admin_token, query, variables).await
    }

    /// Runs a GraphQL operation with `token` that must succeed and returns its `data`.
    pub async fn gql_data_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self.gql_as(Some(token), query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "the GraphQL operation failed: {response:#}\nquery: {query}"
        );
        response["data"].clone()
    }

    /// The page's conversations, newest first (up to 100).
    pub async fn conversations(&self, page_id: &str) -> Vec<Value> {
        let query = format!(
            "query($pageId: ID!) {{ conversations(pageId: $pageId, first: 100) \
             {{ edges {{ node {{ {CONVERSATION_FIELDS} }} }} }} }}"
        );
        let data = self.gql_data(&query, json!({ "pageId": page_id })).await;
        nodes(&data["conversations"])
    }

    /// The conversation between the page and the customer, which must exist.
    pub async fn conversation_with(&self, page_id: &str, psid: &str) -> Value {
        let conversations = self.conversations(page_id).await;
        conversations
            .iter()
            .find(|conversation| conversation["customer"]["psid"] == psid)
            .cloned()
            .unwrap_or_else(|| {
                panic!("no conversation of page {page_id} with {psid}: {conversations:#?}")
            })
    }

    /// The conversation's messages, oldest first (up to 100).
    pub async fn messages(&self, conversation_id: &str) -> Vec<Value> {
        let query = format!(
            "query($id: ID!) {{ messages(conversationId: $id, last: 100) \
             {{ edges {{ node {{ {MESSAGE_FIELDS} }} }} }} }}"
        );
        let data = self
            .gql_data(&query, json!({ "id": conversation_id }))
            .await;
        nodes(&data["messages"])
    }

    /// The messages of the conversation between the page and the customer, oldest first.
    pub async fn messages_with(&self, page_id: &str, psid: &str) -> Vec<Value> {
        let conversation = self.conversation_with(page_id, psid).await;
        self.messages(id_of(&conversation)).await
    }

    /// The ids of the pages the server knows.
    pub async fn page_ids(&self) -> Vec<String> {
        let data = self.gql_data("{ pages { id } }", json!({})).await;
        let mut ids: Vec<String> = data["pages"]
            .as_array()
            .expect("pages is a list")
            .iter()
            .map(|page| page["id"].as_str().expect("a page id").to_owned())
            .collect();
        ids.sort();
        ids
    }

    /// Opens a WebSocket as the administrator, starts the subscription and returns once
    /// the server has it.
    pub async fn subscribe(&self, query: &str, variables: Value) -> Subscription {
        self.subscribe_as(&self.admin_token, query, variables).await
    }

    /// Like `subscribe`, signed in with `token`.
    pub async fn subscribe_as(&self, token: &str, query: &str, variables: Value) -> Subscription {
        self.try_subscribe_as(Some(token), query, variables)
            .await
            .unwrap_or_else(|error| panic!("subscribing failed: {error:#}\nquery: {query}"))
    }

    /// Tries to subscribe with `token` (or none); the error says why it did not start.
    pub async fn try_subscribe_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Subscription> {
        Subscription::start(&self.ws_url(), token, query, variables).await
    }

    /// `ws://ADDR/graphql/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.addr)
    }

    /// Subscribes with `token` (or none) and returns the errors the server refused the
    /// subscription with (`{"errors": [...]}`); `Err` when it started instead.
    pub async fn subscription_refusal(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        Subscription::refusal(&self.ws_url(), token, query, variables).await
    }

    /// Opens a WebSocket with `token` and no subscription, as an idle inbox tab does.
    pub async fn connect_as(&self, token: &str) -> ws::Connection {
        ws::Connection::open(&self.ws_url(), Some(token))
            .await
            .unwrap_or_else(|error| panic!("connecting the WebSocket failed: {error:#}"))
    }

    /// Sends `connection_init` with exactly `payload` and reports the server's answer.
    pub async fn ws_init_answer(&self, payload: Value) -> ws::InitAnswer {
        ws::init_answer(&self.ws_url(), payload)
            .await
            .unwrap_or_else(|error| panic!("the WebSocket handshake failed: {error:#}"))
    }
}

/// The `node`s of a connection's `edges`.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {connection:#}"))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// The `id` of a node.
pub fn id_of(node: &Value) -> &str {
    node["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {node:#}"))
}

/// The `extensions.code` of a response's first error, if it has one.
/// Whether a sent message's `status` says it went out: SENT, or already DELIVERED or READ
/// (the simulator's receipt can be stored before `sendMessage` answers).
pub fn went_out(status: &Value) -> bool {
    matches!(status.as_str(), Some("SENT" | "DELIVERED" | "READ"))
}

pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

/// The `message` of a response's first error, if it has one.
pub fn error_message(response: &Value) -> Option<&str> {
    response["errors"][0]["message"].as_str()
}
