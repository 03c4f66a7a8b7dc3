//! `graph-simulator`: runs the Graph API simulator. The first stdout line is
//! `{"listening":"HOST:PORT"}`; with `--demo` the second is `{"demo_page":{...}}`.
//! Logs go to stderr.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use serde_json::json;
use simulator::config::DEFAULT_APP_ID;
use simulator::demo::DemoOptions;
use simulator::{RateLimits, Secret, SimConfig, Timing};

/// Facebook Graph API and Messenger webhook simulator.
#[derive(Debug, Parser)]
#[command(name = "graph-simulator", version)]
struct Args {
    /// Address to bind.
    #[arg(long, env = "SIM_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to bind; 0 picks a free one.
    #[arg(long, env = "SIM_PORT", default_value_t = 0)]
    port: u16,
    /// The simulated app's id (the `app_id` of echoes).
    #[arg(long, env = "SIM_APP_ID", default_value_t = DEFAULT_APP_ID)]
    app_id: u64,
    /// App Secret that signs webhooks (X-Hub-Signature-256).
    #[arg(
        long,
        env = "SIM_APP_SECRET",
        default_value = "sim-app-secret",
        hide_env_values = true
    )]
    app_secret: String,
    /// Callback URL for webhooks; can also be set later with `PUT /_sim/webhook`.
    #[arg(long, env = "SIM_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// Send API calls per second per Page (0 = unlimited).
    #[arg(long, env = "SIM_SEND_RATE", default_value_t = 300)]
    send_rate: u32,
    /// Send API calls with audio or video per second per Page (0 = unlimited).
    #[arg(long, env = "SIM_MEDIA_SEND_RATE", default_value_t = 10)]
    media_send_rate: u32,
    /// Conversations API calls per second per Page (0 = unlimited).
    #[arg(long, env = "SIM_CONVERSATIONS_RATE", default_value_t = 2)]
    conversations_rate: u32,
    /// Switch every rate limit off.
    #[arg(long, env = "SIM_NO_RATE_LIMITS")]
    no_rate_limits: bool,
    /// Deliver every webhook field, even those the Page did not subscribe to.
    #[arg(long, env = "SIM_IGNORE_SUBSCRIPTIONS")]
    ignore_subscriptions: bool,
    /// Delay between a send and its delivery receipt, `MIN..MAX` in ms.
    #[arg(long, env = "SIM_DELIVERY_DELAY_MS", default_value = "100..500", value_parser = millis_range)]
    delivery_delay_ms: (Duration, Duration),
    /// Delay between the delivery and the read receipt, `MIN..MAX` in ms.
    #[arg(long, env = "SIM_READ_DELAY_MS", default_value = "300..1500", value_parser = millis_range)]
    read_delay_ms: (Duration, Duration),
    /// Tries per webhook batch before giving up.
    #[arg(long, env = "SIM_WEBHOOK_ATTEMPTS", default_value_t = 5)]
    webhook_attempts: u32,
    /// First retry delay in ms; doubles each time.
    #[arg(long, env = "SIM_WEBHOOK_BACKOFF_MS", default_value_t = 1000)]
    webhook_backoff_ms: u64,
    /// Run the demo: a Page with history and customers who write on their own.
    #[arg(long, env = "SIM_DEMO")]
    demo: bool,
    /// Demo Page id (random if absent).
    #[arg(long, env = "SIM_DEMO_PAGE_ID")]
    demo_page_id: Option<String>,
    /// Demo Page name.
    #[arg(long, env = "SIM_DEMO_PAGE_NAME", default_value = "Nordlicht Outdoor")]
    demo_page_name: String,
    /// Demo Page token (random if absent).
    #[arg(long, env = "SIM_DEMO_PAGE_TOKEN", hide_env_values = true)]
    demo_page_token: Option<String>,
    /// Pause between spontaneous demo messages, `MIN..MAX` in ms.
    #[arg(long, env = "SIM_DEMO_INTERVAL_MS", default_value = "4000..12000", value_parser = millis_range)]
    demo_interval_ms: (Duration, Duration),
    /// Older threads the demo Page starts with.
    #[arg(long, env = "SIM_DEMO_HISTORY", default_value_t = 30)]
    demo_history: usize,
}

fn millis_range(text: &str) -> Result<(Duration, Duration), String> {
    let (min, max) = text.split_once("..").ok_or("expected MIN..MAX")?;
    let min: u64 = min.trim().parse().map_err(|_| "MIN is not a number")?;
    let max: u64 = max.trim().parse().map_err(|_| "MAX is not a number")?;
    if min > max {
        return Err("MIN is larger than MAX".into());
    }
    Ok((Duration::from_millis(min), Duration::from_millis(max)))
}

fn per_sec(value: u32) -> Option<u32> {
    (value > 0).then_some(value)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("simulator=info,graph_simulator=info")
            }),
        )
        .init();
    let args = Args::parse();
    let rate_limits = if args.no_rate_limits {
        RateLimits::off()
    } else {
        RateLimits {
            send_per_sec: per_sec(args.send_rate),
            media_send_per_sec: per_sec(args.media_send_rate),
            conversations_per_sec: per_sec(args.conversations_rate),
        }
    };
    let config = SimConfig {
        host: args.host,
        port: args.port,
        app_id: args.app_id,
        app_secret: Secret::new(args.app_secret),
        webhook_url: args.webhook_url,
        rate_limits,
        timing: Timing {
            delivery_delay: args.delivery_delay_ms,
            read_delay: args.read_delay_ms,
            webhook_attempts: args.webhook_attempts,
            webhook_backoff: Duration::from_millis(args.webhook_backoff_ms),
            ..Timing::default()
        },
        enforce_subscriptions: !args.ignore_subscriptions,
    };
    let mut handle = simulator::start(config)
        .await
        .context("starting the simulator")?;
    print_line(&json!({ "listening": handle.addr().to_string() }))?;
    if args.demo {
        let page = handle.start_demo(DemoOptions {
            page_id: args.demo_page_id,
            page_name: args.demo_page_name,
            access_token: args.demo_page_token,
            interval: args.demo_interval_ms,
            history: args.demo_history,
            ..DemoOptions::default()
        })?;
        print_line(&json!({ "demo_page": page }))?;
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    drop(handle);
    Ok(())
}

fn print_line(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{value}")?;
    stdout.flush()?;
    Ok(())
}
