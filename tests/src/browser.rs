//! Real headless Chromium, driven through chromedriver (WebDriver), for the web inbox's
//! tests, screenshots and page-load benchmark.
//!
//! [`Browser::start`] finds `chromium` and `chromedriver` (Debian's packages; override with
//! `MF_CHROMIUM` and `MF_CHROMEDRIVER`) and the built client (`client/dist`, which
//! `scripts/build-client` writes). When one is missing the test is skipped with a loud
//! message, except under `CI=true` or `MF_REQUIRE_BROWSER=1` (as `scripts/test` sets),
//! where it fails. Browser tests run one at a time, each with a fresh profile.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, MutexGuard};

use crate::require::{self, Need};
use crate::wait::{eventually_every, within};

/// The flags headless Chromium needs here: as root, without a GPU, and without reaching
/// for the internet in the background.
pub const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--no-default-browser-check",
];
/// Desktop size for the tests and screenshots.
pub const DESKTOP: (u32, u32) = (1280, 800);
/// How long a browser test waits for what should show promptly (a page load with a
/// freshly compiled WebAssembly module, a live event): generous; timings are measured
/// separately, not by this.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);

/// Collects, from the start of every document, what the Content Security Policy blocked.
const CSP_LISTENER: &str = "window.__mfCsp = [];\
    document.addEventListener('securitypolicyviolation', e =>\
      window.__mfCsp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));";

/// One browser test at a time: they measure latencies on two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Whether a missing browser or client must fail the test rather than skip it.
pub fn required() -> bool {
    Need::Browser.required()
}

/// The built client the tests serve: `client/dist` of the workspace, or
/// `MF_TEST_CLIENT_DIST` when set (a build made elsewhere).
pub fn client_dist() -> PathBuf {
    if let Some(dir) = std::env::var_os("MF_TEST_CLIENT_DIST") {
        return PathBuf::from(dir);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new(".."))
        .to_path_buf();
    workspace.join("client").join("dist")
}

/// The vendored GraphiQL the tests serve: `graphiql/dist` of the workspace
/// (`scripts/build-graphiql` writes it).
pub fn graphiql_dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new(".."))
        .join("graphiql")
        .join("dist")
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn tool(variable: &str, names: &[&str]) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)),
        None => on_path(names),
    }
}

/// What is missing for a browser test of the page built into `build` (and its build
/// command), if anything.
fn missing(build: &Path, build_command: &str) -> Option<String> {
    let mut missing = Vec::new();
    if tool(
        "MF_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    )
    .is_none()
    {
        missing.push("chromium (apt-get install chromium, or set MF_CHROMIUM)".to_owned());
    }
    if tool("MF_CHROMEDRIVER", &["chromedriver"]).is_none() {
        missing.push(
            "chromedriver (apt-get install chromium-driver, or set MF_CHROMEDRIVER)".to_owned(),
        );
    }
    if !build.join("index.html").is_file() {
        missing.push(format!("{} (run {build_command})", build.display()));
    }
    (!missing.is_empty()).then(|| missing.join("; "))
}

/// A headless Chromium session; dropping it ends the browser and its driver.
pub struct Browser {
    client: Client,
    driver: Child,
    driver_url: String,
    _profile: TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Browser {
    /// A desktop-sized browser, or `None` (after a loud message) when chromium,
    /// chromedriver or the built client is missing and the browser is not required.
    pub async fn start(test: &str) -> Option<Self> {
        Self::start_for(test, &client_dist(), "scripts/build-client").await
    }

    /// Like [`Browser::start`], for GraphiQL (`graphiql/dist`) instead of the web client.
    pub async fn start_for_graphiql(test: &str) -> Option<Self> {
        Self::start_for(test, &graphiql_dist(), "scripts/build-graphiql").await
    }

    async fn start_for(test: &str, build: &Path, build_command: &str) -> Option<Self> {
        if let Some(missing) = missing(build, build_command) {
            require::missing(
                Need::Browser,
                &format!("{missing}, for browser test {test}"),
            );
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        Some(Self::launch(turn).await)
    }

    async fn launch(turn: MutexGuard<'static, ()>) -> Self {
        let chromium = tool(
            "MF_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        )
        .expect("chromium was found a moment ago");
        let chromedriver =
            tool("MF_CHROMEDRIVER", &["chromedriver"]).expect("chromedriver was found");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", chromedriver.display()));
        let profile = tempfile::tempdir().expect("a fresh Chromium profile");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={},{}", DESKTOP.0, DESKTOP.1));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "binary": chromium, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let client = eventually_every(
            Duration::from_millis(100),
            Duration::from_secs(30),
            async || {
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                ClientBuilder::new(connector)
                    .capabilities(capabilities.clone())
                    .connect(&url)
                    .await
                    .map_err(|error| format!("no Chromium session through chromedriver: {error}"))
            },
        )
        .await;
        let browser = Self {
            client,
            driver,
            driver_url: url,
            _profile: profile,
            _turn: turn,
        };
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": CSP_LISTENER }),
            )
            .await;
        browser
    }

    /// The WebDriver client, for what the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url`, after checking that the policy blocked nothing in the page it leaves.
    pub async fn goto(&self, url: &str) {
        self.assert_no_csp_violations().await;
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("opening {url}: {error}"));
    }

    /// Reloads, after checking that the policy blocked nothing so far.
    pub async fn reload(&self) {
        self.assert_no_csp_violations().await;
        self.client.refresh().await.expect("reloading the page");
    }

    /// Runs `script` (a function body: `return ...`) in the page with `args`.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|error| panic!("running script failed: {error}\n{script}"))
    }

    /// Polls `script` until it returns something other than `null`/`false`/`undefined`;
    /// fails after `timeout`, saying `what` and showing the page.
    pub async fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let shown = within(Duration::from_millis(20), timeout, async || {
            let value = self.js(script, vec![]).await;
            (!value.is_null() && value != Value::Bool(false)).then_some(value)
        })
        .await;
        match shown {
            Ok(value) => value,
            Err(_) => panic!(
                "{what}: not within {timeout:?}.\nPage text:\n{}",
                self.page_text().await
            ),
        }
    }

    /// Waits for an element with `data-testid` = `testid`.
    pub async fn wait_for_testid(&self, testid: &str) {
        self.wait_for(
            &format!("[data-testid={testid}] shows"),
            UI_TIMEOUT,
            &format!("return document.querySelector('[data-testid=\"{testid}\"]') !== null;"),
        )
        .await;
    }

    /// The first element with `data-testid` = `testid`.
    pub async fn testid(&self, testid: &str) -> fantoccini::elements::Element {
        self.wait_for_testid(testid).await;
        self.client
            .find(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
            .await
            .unwrap_or_else(|error| panic!("finding [data-testid={testid}]: {error}"))
    }

    pub async fn click(&self, testid: &str) {
        self.testid(testid)
            .await
            .click()
            .await
            .unwrap_or_else(|error| panic!("clicking [data-testid={testid}]: {error}"));
    }

    /// Types `text` into the field `testid` (after clearing it).
    pub async fn fill(&self, testid: &str, text: &str) {
        let field = self.testid(testid).await;
        field
            .clear()
            .await
            .unwrap_or_else(|error| panic!("clearing [data-testid={testid}]: {error}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|error| panic!("typing into [data-testid={testid}]: {error}"));
    }

    /// The visible text of the page, for failure messages.
    pub async fn page_text(&self) -> String {
        self.client
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self
            .client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("a WebDriver session id");
        let response = reqwest::Client::new()
            .post(format!(
                "{}/session/{session}/goog/cdp/execute",
                self.driver_url
            ))
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("CDP {cmd}: {error}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert!(status.is_success(), "CDP {cmd} answered {status}: {body}");
        body["value"].clone()
    }

    pub async fn set_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|error| panic!("resizing to {width}x{height}: {error}"));
    }

    /// A PNG of the viewport, written to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("taking a screenshot");
        std::fs::write(path, png)
            .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
    }

    /// What the Content Security Policy blocked in the current document.
    pub async fn csp_violations(&self) -> Vec<String> {
        let found = self.js("return window.__mfCsp || [];", vec![]).await;
        serde_json::from_value(found).unwrap_or_default()
    }

    /// Fails when the Content Security Policy blocked anything in the current document.
    pub async fn assert_no_csp_violations(&self) {
        let violations = self.csp_violations().await;
        assert!(
            violations.is_empty(),
            "the Content Security Policy blocked: {violations:#?}"
        );
    }

    /// Checks that the policy blocked nothing in the current document, then ends the
    /// session and the driver (also done, more bluntly, on drop).
    pub async fn close(mut self) {
        self.assert_no_csp_violations().await;
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver leads its own process group, Chromium included: end them all.
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}
