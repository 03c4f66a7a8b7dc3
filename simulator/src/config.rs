//! What a simulator instance is told when it starts.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything a simulator needs to start. `SimConfig::default()` suits tests:
/// a free port on 127.0.0.1, Graph's documented rate limits, and short webhook delays.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Address to bind.
    pub host: IpAddr,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// The simulated app's id, sent as `app_id` in echoes.
    pub app_id: u64,
    /// Keys the `X-Hub-Signature-256` HMAC of every webhook delivery.
    pub app_secret: Secret,
    /// Where webhooks go; `None` keeps them in the delivery log only.
    pub webhook_url: Option<String>,
    /// Graph's throttles; each can be switched off.
    pub rate_limits: RateLimits,
    /// Timing of webhook deliveries, receipts and retries.
    pub timing: Timing,
    /// Only deliver the webhook fields a Page subscribed to through `subscribed_apps`, as Facebook does.
    pub enforce_subscriptions: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            app_id: DEFAULT_APP_ID,
            app_secret: Secret::new("sim-app-secret"),
            webhook_url: None,
            rate_limits: RateLimits::default(),
            timing: Timing::default(),
            enforce_subscriptions: true,
        }
    }
}

/// The simulated app's id when none is given.
pub const DEFAULT_APP_ID: u64 = 1_517_776_481_860_111;

/// Per-Page throttles, in calls per second; `None` switches one off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// Send API calls with text (documented: 300/s per Page). Exceeding gives code 613.
    pub send_per_sec: Option<u32>,
    /// Send API calls with audio or video (documented: 10/s per Page). Exceeding gives code 613.
    pub media_send_per_sec: Option<u32>,
    /// Conversations API calls, shared by `/conversations` and `/{thread}/messages`
    /// (documented: 2/s per Page). Exceeding gives code 80006, the Business Use Case limit
    /// of Messenger calls (a Page token's calls fall under those).
    pub conversations_per_sec: Option<u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            send_per_sec: Some(300),
            media_send_per_sec: Some(10),
            conversations_per_sec: Some(2),
        }
    }
}

impl RateLimits {
    /// No throttling at all.
    pub fn off() -> Self {
        Self {
            send_per_sec: None,
            media_send_per_sec: None,
            conversations_per_sec: None,
        }
    }
}

/// Delays of the simulated world, configurable so tests stay fast.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Range of the random delay between a send and its `delivery` receipt.
    pub delivery_delay: (Duration, Duration),
    /// Range of the random delay between the `delivery` and the `read` receipt.
    pub read_delay: (Duration, Duration),
    /// How long the webhook sender waits to gather more events into one POST.
    pub batch_window: Duration,
    /// Deliveries of one batch: the first try plus retries.
    pub webhook_attempts: u32,
    /// Wait before the first retry; it doubles after each failure.
    pub webhook_backoff: Duration,
    /// How long to wait for the receiver's answer (Facebook waits 20 s).
    pub webhook_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            delivery_delay: (Duration::from_millis(100), Duration::from_millis(500)),
            read_delay: (Duration::from_millis(300), Duration::from_millis(1500)),
            batch_window: Duration::from_millis(20),
            webhook_attempts: 5,
            webhook_backoff: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(20),
        }
    }
}

/// A secret string that `Debug` never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
