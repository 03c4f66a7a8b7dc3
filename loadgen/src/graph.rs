//! Benchmarks against the Graph API simulator: history sync and the send round trip.
//! Both start the real `graph-simulator` and `api` binaries as processes.
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::server::Target;
use crate::stats::Summary;

const PAGE: &str = "200000000000002";
const ADMIN: (&str, &str) = ("bench@example.com", "bench-password-1");

/// The simulator process and its control URL.
pub struct Sim {
    _child: Child,
    addr: String,
    http: reqwest::Client,
}

impl Sim {
    async fn start(secret: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?.with_file_name("graph-simulator");
        if !exe.exists() {
            bail!(
                "{} not found: cargo build --release -p simulator",
                exe.display()
            );
        }
        let mut child = Command::new(&exe)
            .args(["--port", "0", "--app-secret", secret])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting graph-simulator")?;
        let stdout = child.stdout.take().context("simulator stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next_line().await?.context("simulator said nothing")?;
        let listening: Value = serde_json::from_str(&first)?;
        let addr = listening["listening"]
            .as_str()
            .context("no address")?
            .to_owned();
        Ok(Self {
            _child: child,
            addr,
            http: reqwest::Client::new(),
        })
    }

    fn graph_url(&self) -> String {
        format!("http://{}/v25.0", self.addr)
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let response = self
            .http
            .request(method, format!("http://{}/_sim{path}", self.addr))
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("simulator {path} answered {status}: {value}");
        }
        Ok(value)
    }
}

/// A server wired to a simulator with a connected Page, and an admin token.
struct Setup {
    sim: Sim,
    target: Target,
    token: String,
}

pub(crate) async fn gql(
    target: &Target,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let mut request = target
        .http()
        .post(format!("{}/graphql", target.base()))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response: Value = request.send().await?.json().await?;
    if response.get("errors").is_some() {
        bail!("GraphQL error: {response}");
    }
    Ok(response["data"].clone())
}

async fn setup(
    secret: &str,
    database_url: Option<&str>,
    rate_limited: bool,
) -> anyhow::Result<Setup> {
    let sim = Sim::start(secret).await?;
    if !rate_limited {
        sim.control(
            reqwest::Method::PUT,
            "/rate_limits",
            json!({ "enabled": false }),
        )
        .await?;
    }
    let page = sim
        .control(
            reqwest::Method::POST,
            "/pages",
            json!({ "id": PAGE, "name": "Bench Page" }),
        )
        .await?;
    let page_token = page["access_token"]
        .as_str()
        .context("page token")?
        .to_owned();
    let target = Target::start_with(
        secret,
        database_url,
        None,
        &[
            ("FB_GRAPH_URL", sim.graph_url()),
            ("MF_ADMIN_EMAIL", ADMIN.0.to_owned()),
            ("MF_ADMIN_PASSWORD", ADMIN.1.to_owned()),
        ],
    )
    .await?;
    sim.control(
        reqwest::Method::PUT,
        "/webhook",
        json!({ "url": format!("{}/webhook", target.base()) }),
    )
    .await?;
    let login = gql(
        &target,
        None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        json!({ "e": ADMIN.0, "p": ADMIN.1 }),
    )
    .await?;
    let token = login["login"]["token"]
        .as_str()
        .context("token")?
        .to_owned();
    gql(
        &target,
        Some(&token),
        "mutation($p: ID!, $t: String!) { connectPage(pageId: $p, accessToken: $t) { id } }",
        json!({ "p": PAGE, "t": page_token }),
    )
    .await?;
    Ok(Setup { sim, target, token })
}

/// A full history sync of `conversations` x `messages` with the 2 calls/s limit on.
pub async fn sync(
    secret: &str,
    database_url: Option<&str>,
    conversations: u32,
    messages: u32,
) -> anyhow::Result<()> {
    let setup = setup(secret, database_url, true).await?;
    setup
        .sim
        .control(
            reqwest::Method::POST,
            &format!("/pages/{PAGE}/seed"),
            json!({ "conversations": conversations, "messages_per_conversation": messages }),
        )
        .await?;
    let started = Instant::now();
    let job = gql(
        &setup.target,
        Some(&setup.token),
        "mutation($p: ID!) { syncFullHistory(pageId: $p) { id } }",
        json!({ "p": PAGE }),
    )
    .await?;
    let id = job["syncFullHistory"]["id"]
        .as_str()
        .context("job id")?
        .to_owned();
    let done = loop {
        let now = gql(
            &setup.target,
            Some(&setup.token),
            "query($id: ID!) { syncJob(id: $id) { status conversations messages error } }",
            json!({ "id": id }),
        )
        .await?;
        let status = now["syncJob"]["status"].as_str().unwrap_or("").to_owned();
        if status != "RUNNING" {
            break now["syncJob"].clone();
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the sync did not finish in 120 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let elapsed = started.elapsed();
    println!(
        "sync: {conversations} conversations x {messages} messages, 2 calls/s per Page: {} in {:.2} s ({} conversations, {} messages)",
        done["status"].as_str().unwrap_or("?"),
        elapsed.as_secs_f64(),
        done["conversations"],
        done["messages"]
    );
    if done["status"] != "DONE" {
        bail!("sync failed: {done}");
    }
    let stored = setup.target.count_messages().await?;
    if let Some(stored) = stored {
        println!("stored messages: {stored}");
        if stored != u64::from(conversations * messages) {
            bail!("stored {stored}, expected {}", conversations * messages);
        }
    }
    Ok(())
}

/// The send round trip (mutation to SENT), `count` replies, `concurrency` at a time.
pub async fn send(
    secret: &str,
    database_url: Option<&str>,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let setup = setup(secret, database_url, false).await?;
    let customers = 20;
    for c in 0..customers {
        let psid = format!("{}", 8_000_000 + c);
        setup
            .sim
            .control(
                reqwest::Method::POST,
                &format!("/pages/{PAGE}/customers"),
                json!({ "psid": psid, "first_name": "Bench", "last_name": format!("{c}") }),
            )
            .await?;
        setup
            .sim
            .control(
                reqwest::Method::POST,
                &format!("/pages/{PAGE}/customers/{psid}/messages"),
                json!({ "text": "hello" }),
            )
            .await?;
    }
    // The conversations exist once their webhooks are stored.
    let deadline = Instant::now() + Duration::from_secs(20);
    let conversations: Vec<String> = loop {
        let data = gql(
            &setup.target,
            Some(&setup.token),
            "query($p: ID!) { conversations(pageId: $p, first: 100) { edges { node { id } } } }",
            json!({ "p": PAGE }),
        )
        .await?;
        let ids: Vec<String> = data["conversations"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
            .collect();
        if ids.len() >= customers || Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if conversations.is_empty() {
        bail!("no conversation arrived");
    }
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let next = next.clone();
            let target = setup.target.clone();
            let token = setup.token.clone();
            let conversations = conversations.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= count {
                        break;
                    }
                    let conversation = &conversations[n % conversations.len()];
                    let sent = Instant::now();
                    let data = gql(
                        &target,
                        Some(&token),
                        "mutation($c: ID!, $t: String!, $k: String!) { sendMessage(input: { conversationId: $c, text: $t, clientMutationId: $k }) { status } }",
                        json!({ "c": conversation, "t": format!("Reply number {n}"), "k": format!("bench-{n}") }),
                    )
                    .await?;
                    // The echo and the delivery receipt may have overtaken the Send API's answer.
                    let status = data["sendMessage"]["status"].as_str().unwrap_or("");
                    if !["SENT", "DELIVERED", "READ"].contains(&status) {
                        bail!("send {n} ended {}", data["sendMessage"]["status"]);
                    }
                    samples.push(sent.elapsed().as_nanos() as u64);
                }
                anyhow::Ok(samples)
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(count);
    for worker in workers {
        samples.extend(worker.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "send: {count} replies, {concurrency} concurrent, {:.0} replies/s",
        count as f64 / secs
    );
    println!(
        "sendMessage round trip (to SENT) {}",
        Summary::of(&mut samples)
    );
    Ok(())
}
