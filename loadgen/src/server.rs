//! The server under test: the real `api` binary as a child process, or a running one.
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, Statement};
use tokio::process::{Child, Command};

/// The administrator a started server gets (`MF_ADMIN_EMAIL`), for subscriptions.
pub const ADMIN_EMAIL: &str = "loadgen@example.com";
pub const ADMIN_PASSWORD: &str = "loadgen-password-1";

/// A server to drive. Clones share the child process, which is killed with the last one.
#[derive(Clone)]
pub struct Target {
    base: String,
    secret: String,
    http: reqwest::Client,
    owned: Option<Arc<Owned>>,
}

struct Owned {
    _child: Child,
    database_url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    pub fn external(url: &str, secret: &str) -> Self {
        Self {
            base: url.trim_end_matches('/').to_owned(),
            secret: secret.to_owned(),
            http: client(),
            owned: None,
        }
    }

    /// Starts `api` from the same build directory as this binary, with `env` added to
    /// its environment.
    pub async fn start_with(
        secret: &str,
        database_url: Option<&str>,
        api: Option<&std::path::Path>,
        env: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating loadgen")?;
        let api = api.map_or_else(|| exe.with_file_name("api"), std::path::Path::to_path_buf);
        if !api.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p api -p loadgen`",
                api.display()
            );
        }
        // Under ./target, not /tmp: /tmp may be a RAM disk, where fsync costs nothing.
        let (dir, database_url) = match database_url {
            Some(url) => (None, url.to_owned()),
            None => {
                std::fs::create_dir_all("target").context("creating ./target")?;
                let dir = tempfile::Builder::new()
                    .prefix("loadgen-")
                    .tempdir_in("target")
                    .context("creating a database directory")?;
                let url = format!(
                    "sqlite://{}/bench.db?mode=rwc",
                    dir.path().canonicalize()?.display()
                );
                (Some(dir), url)
            }
        };
        let port = free_port()?;
        let child = Command::new(&api)
            // Every subscriber of a run signs in with the one administrator's session, so
            // the per-credential cap (50 by default) must not stop the fan-out measured.
            .env("MF_WS_MAX_CONNECTIONS_PER_CREDENTIAL", "1000000")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("DATABASE_URL", &database_url)
            .env("FB_APP_SECRET", secret)
            .env("FB_VERIFY_TOKEN", "loadgen")
            .env("RUST_LOG", "warn")
            .env("MF_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("MF_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", api.display()))?;
        let target = Self {
            base: format!("http://127.0.0.1:{port}"),
            secret: secret.to_owned(),
            http: client(),
            owned: Some(Arc::new(Owned {
                _child: child,
                database_url,
                _dir: dir,
            })),
        };
        target.wait_healthy().await?;
        Ok(target)
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let health = self.http.get(format!("{}/health", self.base)).send().await;
            if health.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the server did not become healthy within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The started server's database (None for `--url`).
    pub fn database_url(&self) -> Option<&str> {
        self.owned.as_ref().map(|owned| owned.database_url.as_str())
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.base.replacen("http", "ws", 1))
    }

    /// A session token for the administrator.
    pub async fn login(&self) -> anyhow::Result<String> {
        let response: serde_json::Value = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&serde_json::json!({
                "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                "variables": { "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD },
            }))
            .send()
            .await?
            .json()
            .await?;
        response["data"]["login"]["token"]
            .as_str()
            .map(str::to_owned)
            .context("signing in failed (with --url, the server needs MF_ADMIN_EMAIL=loadgen@example.com)")
    }

    /// The body with the `X-Hub-Signature-256` value Facebook would send with it.
    pub fn signed(&self, body: Vec<u8>) -> (Vec<u8>, String) {
        let signature = api::facebook::signature::sign(self.secret.as_bytes(), &body);
        (body, signature)
    }

    /// Signs and posts a delivery; an answer other than 200 is an error.
    pub async fn post_webhook(&self, body: Vec<u8>) -> anyhow::Result<()> {
        let (body, signature) = self.signed(body);
        self.post_signed(body, &signature).await
    }

    /// Posts a delivery signed beforehand.
    pub async fn post_signed(&self, body: Vec<u8>, signature: &str) -> anyhow::Result<()> {
        let response = self
            .http
            .post(format!("{}/webhook", self.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("webhook answered {}", response.status());
        }
        Ok(())
    }

    /// How many messages the started server's database holds (None for `--url`).
    pub async fn count_messages(&self) -> anyhow::Result<Option<u64>> {
        let Some(owned) = &self.owned else {
            return Ok(None);
        };
        let db = api::db::connect(&owned.database_url).await?;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM messages",
            ))
            .await?
            .context("no count")?;
        let n: i64 = row.try_get("", "n")?;
        Ok(Some(n as u64))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap_or_default()
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
