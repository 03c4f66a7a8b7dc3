//! Webhooks out: events are queued, gathered into Facebook's envelope (several events and
//! Pages per POST), written with Facebook's escaping, signed, and retried with backoff
//! until the receiver answers 200.

pub mod events;
pub mod fields;
pub mod sign;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::config::{Secret, SimConfig, Timing};
use crate::{fbjson, time};

const MAX_EVENTS_PER_POST: usize = 100;
const MAX_LOGGED: usize = 1000;
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// One event waiting to be posted.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The entry it belongs to.
    pub page_id: String,
    /// The messaging object, already written with Facebook's escaping.
    pub event: Box<RawValue>,
    /// True to put it under `standby` instead of `messaging`.
    pub standby: bool,
}

/// One POST of one batch, with every attempt made so far.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Increasing number.
    pub id: u64,
    /// The exact body bytes (ASCII, thanks to the escaping).
    pub body: String,
    /// The `X-Hub-Signature-256` value sent with it.
    pub signature: String,
    /// Tries so far.
    pub attempts: Vec<Attempt>,
    /// True once the receiver answered 200.
    pub delivered: bool,
}

/// One try at delivering a batch.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// When, ms.
    pub at: i64,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why it did not answer, or that no callback URL is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

struct Target {
    url: Option<String>,
    secret: Secret,
}

/// The webhook sender shared by everything that produces events.
pub struct Webhooks {
    tx: mpsc::UnboundedSender<Outgoing>,
    target: RwLock<Target>,
    log: Mutex<VecDeque<Delivery>>,
    client: reqwest::Client,
    timing: Timing,
    closed: AtomicBool,
    next_id: AtomicU64,
}

impl Webhooks {
    /// A sender and the queue its dispatcher (`run`) drains.
    pub fn new(
        config: &SimConfig,
    ) -> anyhow::Result<(Arc<Self>, mpsc::UnboundedReceiver<Outgoing>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let client = reqwest::Client::builder()
            .timeout(config.timing.webhook_timeout)
            .user_agent("facebookexternalua")
            .build()?;
        let webhooks = Self {
            tx,
            target: RwLock::new(Target {
                url: config.webhook_url.clone(),
                secret: config.app_secret.clone(),
            }),
            log: Mutex::new(VecDeque::new()),
            client,
            timing: config.timing,
            closed: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
        };
        Ok((Arc::new(webhooks), rx))
    }

    /// Queues one event.
    pub fn send(&self, outgoing: Outgoing) {
        if self.tx.send(outgoing).is_err() {
            tracing::debug!("webhook dispatcher stopped; event dropped");
        }
    }

    /// Changes the callback URL and, when given, the App Secret.
    pub fn set_target(&self, url: Option<String>, secret: Option<Secret>) {
        let mut target = self.target.write().unwrap_or_else(|e| e.into_inner());
        target.url = url;
        if let Some(secret) = secret {
            target.secret = secret;
        }
    }

    /// The callback URL in use.
    pub fn url(&self) -> Option<String> {
        self.target
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .url
            .clone()
    }

    fn snapshot(&self) -> (Option<String>, Secret) {
        let target = self.target.read().unwrap_or_else(|e| e.into_inner());
        (target.url.clone(), target.secret.clone())
    }

    /// Past and pending deliveries, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Forgets the delivery log.
    pub fn clear_log(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Stops retries; used at shutdown.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Drains the queue forever, one envelope per gathered batch.
    pub async fn run(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
        while let Some(first) = rx.recv().await {
            if !self.timing.batch_window.is_zero() {
                tokio::time::sleep(self.timing.batch_window).await;
            }
            let mut batch = vec![first];
            while batch.len() < MAX_EVENTS_PER_POST {
                match rx.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
            let this = Arc::clone(&self);
            tokio::spawn(async move { this.deliver(envelope(batch)).await });
        }
    }

    async fn deliver(&self, envelope: Envelope) {
        let body = match fbjson::to_vec(&envelope) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "could not serialise a webhook envelope");
                return;
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (_, secret) = self.snapshot();
        self.with_log(|log| {
            log.push_back(Delivery {
                id,
                body: String::from_utf8_lossy(&body).into_owned(),
                signature: sign::signature(secret.expose(), &body),
                attempts: Vec::new(),
                delivered: false,
            });
            while log.len() > MAX_LOGGED {
                log.pop_front();
            }
        });
        let mut backoff = self.timing.webhook_backoff;
        for attempt in 1..=self.timing.webhook_attempts.max(1) {
            if self.closed.load(Ordering::SeqCst) {
                return;
            }
            let (url, secret) = self.snapshot();
            let signature = sign::signature(secret.expose(), &body);
            let outcome = match url {
                None => Attempt {
                    at: time::now_ms(),
                    status: None,
                    error: Some("no webhook URL configured".into()),
                },
                Some(url) => self.post(&url, &body, &signature).await,
            };
            let delivered = outcome.status == Some(200);
            self.with_log(|log| {
                if let Some(entry) = log.iter_mut().find(|d| d.id == id) {
                    entry.signature = signature.clone();
                    entry.attempts.push(outcome);
                    entry.delivered = delivered;
                }
            });
            if delivered || attempt == self.timing.webhook_attempts {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn post(&self, url: &str, body: &[u8], signature: &str) -> Attempt {
        let result = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body.to_vec())
            .send()
            .await;
        match result {
            Ok(response) => Attempt {
                at: time::now_ms(),
                status: Some(response.status().as_u16()),
                error: None,
            },
            Err(error) => Attempt {
                at: time::now_ms(),
                status: None,
                error: Some(error.to_string()),
            },
        }
    }

    fn with_log(&self, change: impl FnOnce(&mut VecDeque<Delivery>)) {
        change(&mut self.log.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Facebook's callback check: `GET url?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`
    /// must answer 200 with the challenge as the body.
    pub async fn verify(&self, url: &str, verify_token: &str) -> Result<(), String> {
        let challenge = crate::ids::numeric(10);
        let mut target = url::Url::parse(url).map_err(|e| format!("invalid callback URL: {e}"))?;
        target
            .query_pairs_mut()
            .append_pair("hub.mode", "subscribe")
            .append_pair("hub.verify_token", verify_token)
            .append_pair("hub.challenge", &challenge);
        let response = self
            .client
            .get(target)
            .send()
            .await
            .map_err(|e| format!("callback unreachable: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if status.as_u16() == 200 && text == challenge {
            Ok(())
        } else {
            Err(format!(
                "callback answered {status} with {text:?} instead of the challenge"
            ))
        }
    }
}

#[derive(Serialize)]
struct Envelope {
    object: &'static str,
    entry: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    id: String,
    time: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messaging: Vec<Box<RawValue>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    standby: Vec<Box<RawValue>>,
}

/// Groups events by Page, in the order each Page first appears.
fn envelope(batch: Vec<Outgoing>) -> Envelope {
    let time = time::now_ms();
    let mut entry: Vec<Entry> = Vec::new();
    for outgoing in batch {
        let index = match entry.iter().position(|e| e.id == outgoing.page_id) {
            Some(index) => index,
            None => {
                entry.push(Entry {
                    id: outgoing.page_id.clone(),
                    time,
                    messaging: Vec::new(),
                    standby: Vec::new(),
                });
                entry.len() - 1
            }
        };
        if let Some(target) = entry.get_mut(index) {
            if outgoing.standby {
                target.standby.push(outgoing.event);
            } else {
                target.messaging.push(outgoing.event);
            }
        }
    }
    Envelope {
        object: "page",
        entry,
    }
}
