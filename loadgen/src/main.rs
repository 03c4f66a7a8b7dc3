//! `loadgen`: the measurements behind BENCHMARKS.md.
//!
//! It starts the real `api` binary (built next to this one) as its own process on a
//! loopback port with a fresh durable SQLite database, or targets a running server with
//! `--url`, and drives it over HTTP and `graphql-transport-ws` WebSockets:
//!
//! - `loadgen latency`: webhook-to-subscriber latency at a steady rate, many subscribers;
//!   with `--subscribe-url`, across two instances (webhooks to one, subscribers on the other).
//! - `loadgen ingest`: durable ingest throughput with N-event POSTs.
//! - `loadgen resume`: the cost of a subscriber resuming after N missed messages.
//! - `loadgen queries`: the inbox's reads on a Page with 100,000 conversations and
//!   1,000,000 messages (seeded in bulk), p99 and requests/s.
//! - `loadgen recheck`: one re-check of every live credential against the database.
#![forbid(unsafe_code)]

mod graph;
mod queries;
mod recheck;
mod resume;
mod search;
mod server;
mod stats;
mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use futures::StreamExt;
use serde_json::json;

use server::Target;
use stats::Summary;

#[derive(Parser)]
#[command(about = "Measure MessengerFlow over loopback")]
struct Cli {
    /// A running server's base URL (`http://127.0.0.1:3000`); by default one is started.
    #[arg(long, global = true)]
    url: Option<String>,
    /// For `latency`: another running server (on the same database and Redis) that the
    /// subscribers connect to, while webhooks go to the first; by default the same one.
    #[arg(long, global = true)]
    subscribe_url: Option<String>,
    /// The app secret that server checks signatures with.
    #[arg(long, global = true, default_value = "loadgen-app-secret")]
    secret: String,
    /// The database for a started server (default: a fresh SQLite file under ./target).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Redis for a started server's event bus (default: the in-process bus).
    #[arg(long, global = true)]
    redis_url: Option<String>,
    /// The `api` binary to start (default: the one next to this binary), e.g. a copy of an
    /// earlier build, to compare two builds in alternating runs.
    #[arg(long, global = true)]
    api: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Webhook-to-subscriber latency: single-event POSTs at `rate`/s, `subscribers`
    /// WebSocket clients subscribed to the Page's `conversationUpdated`.
    Latency {
        #[arg(long, default_value_t = 200)]
        rate: u32,
        #[arg(long, default_value_t = 100)]
        subscribers: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// A full history sync from the Graph API simulator (2 calls/s per Page on).
    Sync {
        #[arg(long, default_value_t = 50)]
        conversations: u32,
        #[arg(long, default_value_t = 20)]
        messages: u32,
    },
    /// The send round trip through the Graph API simulator: `sendMessage` to SENT.
    Send {
        #[arg(long, default_value_t = 500)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// Resume cost: subscribe with `after` and replay `missed` messages, `runs` times.
    Resume {
        #[arg(long, default_value_t = 1000)]
        missed: usize,
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// One re-check of `sessions` + `tokens` live credentials against the database, as
    /// each instance runs every second (no server: the queries alone), `runs` times.
    Recheck {
        #[arg(long, default_value_t = 1000)]
        agents: usize,
        #[arg(long, default_value_t = 19_000)]
        sessions: usize,
        #[arg(long, default_value_t = 1000)]
        tokens: usize,
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// Ingest throughput: `posts` POSTs of `batch` events each, `concurrency` at a time.
    Ingest {
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// Each message a different text of 6 to 12 words (the `search` benchmark's
        /// vocabulary) instead of one sentence repeated.
        #[arg(long)]
        varied_texts: bool,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 20_000)]
        posts: usize,
    },
    /// The inbox's reads on a big Page: `conversations(first: 5)` and `messages(last: 50)`
    /// (the web client's operations), `concurrency` clients for `seconds` each. Seeds the
    /// database in bulk unless it already holds the Page (pass `--database-url` to keep it).
    Queries {
        #[arg(long, default_value_t = 100_000)]
        conversations: usize,
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// `search` on a big Page: a mix of queries (common, rare, two words, a prefix, a name,
    /// a miss), `concurrency` clients for `seconds` each. Seeds like `queries`.
    Search {
        #[arg(long, default_value_t = 100_000)]
        conversations: usize,
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

const PAGE: &str = "100000000000001";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Sync {
            conversations,
            messages,
        } => {
            return graph::sync(
                &cli.secret,
                cli.database_url.as_deref(),
                conversations,
                messages,
            )
            .await;
        }
        Command::Send { count, concurrency } => {
            return graph::send(&cli.secret, cli.database_url.as_deref(), count, concurrency).await;
        }
        Command::Recheck {
            agents,
            sessions,
            tokens,
            runs,
        } => {
            return recheck::recheck(cli.database_url.as_deref(), agents, sessions, tokens, runs)
                .await;
        }
        _ => {}
    }
    let target = match &cli.url {
        Some(url) => Target::external(url, &cli.secret),
        None => {
            let env: Vec<(&str, String)> = cli
                .redis_url
                .iter()
                .map(|url| ("REDIS_URL", url.clone()))
                .collect();
            Target::start_with(
                &cli.secret,
                cli.database_url.as_deref(),
                cli.api.as_deref(),
                &env,
            )
            .await?
        }
    };
    let subscribe_to = match &cli.subscribe_url {
        Some(url) => Target::external(url, &cli.secret),
        None => target.clone(),
    };
    match cli.command {
        Command::Latency {
            rate,
            subscribers,
            seconds,
        } => latency(&target, &subscribe_to, rate, subscribers, seconds).await?,
        Command::Ingest {
            batch,
            varied_texts,
            concurrency,
            posts,
        } => ingest(&target, batch, varied_texts, concurrency, posts).await?,
        Command::Resume { missed, runs } => resume::resume(&target, missed, runs).await?,
        Command::Queries {
            conversations,
            messages,
            concurrency,
            seconds,
        } => {
            let Some(database_url) = target.database_url().or(cli.database_url.as_deref()) else {
                bail!("with --url, pass that server's --database-url too (for seeding)");
            };
            let shape = queries::Shape {
                conversations,
                messages,
                concurrency,
                seconds,
            };
            queries::queries(&target, database_url, &shape).await?;
        }
        Command::Search {
            conversations,
            messages,
            concurrency,
            seconds,
        } => {
            let Some(database_url) = target.database_url().or(cli.database_url.as_deref()) else {
                bail!("with --url, pass that server's --database-url too (for seeding)");
            };
            let shape = search::Shape {
                conversations,
                messages,
                concurrency,
                seconds,
            };
            search::search(&target, database_url, &shape).await?;
        }
        Command::Sync { .. } | Command::Send { .. } | Command::Recheck { .. } => {}
    }
    Ok(())
}

/// One messaging event from customer `psid`, carrying `text`.
fn message_event(psid: usize, mid: &str, text: &str, timestamp: i64) -> serde_json::Value {
    json!({
        "sender": {"id": format!("{}", 7_000_000 + psid)},
        "recipient": {"id": PAGE},
        "timestamp": timestamp,
        "message": {"mid": mid, "text": text}
    })
}

fn envelope(events: Vec<serde_json::Value>) -> Vec<u8> {
    json!({"object": "page", "entry": [{"id": PAGE, "time": api::time::now_ms(), "messaging": events}]})
        .to_string()
        .into_bytes()
}

/// Webhooks go to `target`; the subscribers listen on `subscribe_to` (the same server, or
/// another instance sharing its database and Redis).
async fn latency(
    target: &Target,
    subscribe_to: &Target,
    rate: u32,
    subscribers: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let origin = Instant::now();
    // The Page exists before anyone subscribes.
    target
        .post_webhook(envelope(vec![message_event(
            0,
            "warmup",
            "warmup",
            api::time::now_ms(),
        )]))
        .await?;

    let query = format!(
        r#"subscription {{ conversationUpdated(pageId: "{PAGE}") {{ lastMessageText }} }}"#
    );
    let token = subscribe_to.login().await?;
    let mut clients = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let client = ws::Subscriber::connect(&subscribe_to.ws_url(), &token, &query)
            .await
            .context(
                "subscribing (a server given with --url must allow one session this many \
                 connections: MF_WS_MAX_CONNECTIONS_PER_CREDENTIAL)",
            )?;
        clients.push(client);
    }
    let total = rate as usize * seconds as usize;
    let collectors: Vec<_> = clients
        .into_iter()
        .map(|client| {
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(total);
                let mut stream = client.into_stream();
                let deadline = tokio::time::sleep(Duration::from_secs(seconds + 10));
                tokio::pin!(deadline);
                while samples.len() < total {
                    tokio::select! {
                        item = stream.next() => match item {
                            Some(Ok(payload)) => {
                                let text = payload["conversationUpdated"]["lastMessageText"].as_str().unwrap_or("");
                                if let Some(sent) = text.strip_prefix("t:").and_then(|n| n.parse::<u64>().ok()) {
                                    let now = origin.elapsed().as_nanos() as u64;
                                    samples.push(now.saturating_sub(sent));
                                }
                            }
                            _ => break,
                        },
                        () = &mut deadline => break,
                    }
                }
                samples
            })
        })
        .collect();

    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let failures = Arc::new(AtomicUsize::new(0));
    let mut posts = Vec::with_capacity(total);
    let started = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let sent = origin.elapsed().as_nanos() as u64;
        let body = envelope(vec![message_event(
            1 + i % 50,
            &format!("lat-{i}"),
            &format!("t:{sent}"),
            api::time::now_ms(),
        )]);
        let target = target.clone();
        let failures = failures.clone();
        posts.push(tokio::spawn(async move {
            if target.post_webhook(body).await.is_err() {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for post in posts {
        post.await?;
    }
    let send_secs = started.elapsed().as_secs_f64();
    let mut samples = Vec::with_capacity(total * subscribers);
    for collector in collectors {
        samples.extend(collector.await?);
    }
    let expected = total * subscribers;
    let summary = Summary::of(&mut samples);
    println!(
        "latency: {total} events at {rate}/s (sent in {send_secs:.2} s), {subscribers} subscribers, \
         {} of {expected} deliveries received, {} failed POSTs",
        samples.len(),
        failures.load(Ordering::Relaxed)
    );
    println!("webhook-to-subscriber {summary}");
    if samples.len() < expected {
        bail!("{} deliveries missing", expected - samples.len());
    }
    Ok(())
}

async fn ingest(
    target: &Target,
    batch: usize,
    varied_texts: bool,
    concurrency: usize,
    posts: usize,
) -> anyhow::Result<()> {
    let batch = batch.max(1);
    let next = Arc::new(AtomicUsize::new(0));
    let run = api::time::now_ms();
    // Warm up: the Page and the customers' conversations exist, as in a live inbox.
    for chunk in 0..10 {
        let events = (0..100)
            .map(|c| {
                message_event(
                    chunk * 100 + c,
                    &format!("warm-{run}-{chunk}-{c}"),
                    "hello",
                    run,
                )
            })
            .collect();
        target.post_webhook(envelope(events)).await?;
    }
    // Bodies are built and signed before the clock starts: Facebook's side of the work
    // is not ours to measure.
    let bodies: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..posts)
            .map(|n| {
                let events = (0..batch)
                    .map(|j| {
                        let k = n * batch + j;
                        let mid = format!("ing-{run}-{k}");
                        let text = if varied_texts {
                            search::text(k)
                        } else {
                            "How do I reset my password?".to_owned()
                        };
                        message_event(k % 1000, &mid, &text, run + k as i64)
                    })
                    .collect();
                target.signed(envelope(events))
            })
            .collect(),
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let target = target.clone();
            let next = next.clone();
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some((body, signature)) = bodies.get(n) else {
                        break;
                    };
                    let sent = Instant::now();
                    target.post_signed(body.clone(), signature).await?;
                    latencies.push(sent.elapsed().as_nanos() as u64);
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(posts);
    for worker in workers {
        latencies.extend(worker.await.context("worker panicked")??);
    }
    let secs = started.elapsed().as_secs_f64();
    let events = posts * batch;
    let summary = Summary::of(&mut latencies);
    println!(
        "ingest: {posts} POSTs of {batch} event(s), {concurrency} concurrent: {:.2} s, {:.0} POSTs/s, {:.0} events/s",
        secs,
        posts as f64 / secs,
        events as f64 / secs
    );
    println!("POST round trip {summary}");
    if let Some(stored) = target.count_messages().await? {
        let expected = events + 1000;
        println!("stored messages: {stored} (expected {expected})");
        if stored != expected as u64 {
            bail!("stored {stored} messages, expected {expected}");
        }
    }
    Ok(())
}
