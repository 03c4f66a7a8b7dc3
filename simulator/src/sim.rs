//! The running simulator: its state, throttles and webhook sender, and the world's
//! actions that more than one entry point (Graph, control API, demo) performs.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, mpsc};

use crate::config::SimConfig;
use crate::faults::Faults;
use crate::graph::paging::PagingMode;
use crate::model::{Content, Message, Origin};
use crate::ratelimit::Limiter;
use crate::receipts::{self, Receipts};
use crate::store::{Store, StoreError};
use crate::time;
use crate::tokens::Tokens;
use crate::uploads::Uploads;
use crate::webhook::events::{self, EventKind};
use crate::webhook::{Outgoing, Webhooks};

/// The app id of the Page Inbox (Meta Business Suite), in echoes of messages a person sent there.
pub const PAGE_INBOX_APP_ID: u64 = 263_902_037_430_900;

/// Shared by every handler and task of one simulator.
pub struct Sim {
    config: SimConfig,
    /// Where it listens, once bound: customers' pictures are served from there.
    public_addr: std::sync::OnceLock<std::net::SocketAddr>,
    store: Mutex<Store>,
    uploads: Mutex<Uploads>,
    limiter: Mutex<Limiter>,
    faults: Mutex<Faults>,
    paging: Mutex<PagingMode>,
    webhooks: Arc<Webhooks>,
    receipts: Mutex<Receipts>,
    tokens: Mutex<Tokens>,
    page_sent: broadcast::Sender<Message>,
}

impl Sim {
    /// A simulator and the webhook queue its dispatcher must drain.
    pub fn new(
        config: SimConfig,
    ) -> anyhow::Result<(Arc<Self>, mpsc::UnboundedReceiver<Outgoing>)> {
        let (webhooks, queue) = Webhooks::new(&config)?;
        let (page_sent, _) = broadcast::channel(256);
        let sim = Self {
            limiter: Mutex::new(Limiter::new(config.rate_limits)),
            faults: Mutex::new(Faults::default()),
            paging: Mutex::new(PagingMode::default()),
            config,
            public_addr: std::sync::OnceLock::new(),
            store: Mutex::new(Store::default()),
            uploads: Mutex::new(Uploads::default()),
            webhooks,
            receipts: Mutex::new(Receipts::default()),
            tokens: Mutex::new(Tokens::default()),
            page_sent,
        };
        Ok((Arc::new(sim), queue))
    }

    /// Records the address it listens on (once; later calls change nothing).
    pub fn set_public_addr(&self, addr: std::net::SocketAddr) {
        let _ = self.public_addr.set(addr);
    }

    /// The address it listens on, when known.
    pub fn public_addr(&self) -> Option<std::net::SocketAddr> {
        self.public_addr.get().copied()
    }

    /// The configuration it started with.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The attachments the app uploaded. Never hold the guard across an await.
    pub fn uploads(&self) -> MutexGuard<'_, Uploads> {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The world. Never hold the guard across an await.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The throttles.
    pub fn limiter(&self) -> MutexGuard<'_, Limiter> {
        self.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The armed faults (`crate::faults`).
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How rough paging is (`crate::graph::paging::PagingMode`).
    pub fn paging(&self) -> MutexGuard<'_, PagingMode> {
        self.paging.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The paging mode for one list call; a call with a cursor uses up one of
    /// `expire_next` and is refused as expired.
    pub fn paging_for(
        &self,
        has_cursor: bool,
    ) -> Result<PagingMode, crate::graph::error::GraphError> {
        let mut mode = self.paging();
        if has_cursor && mode.expire_next > 0 {
            mode.expire_next -= 1;
            return Err(crate::graph::error::GraphError::cursor_expired());
        }
        Ok(*mode)
    }

    /// The webhook sender.
    pub fn webhooks(&self) -> &Arc<Webhooks> {
        &self.webhooks
    }

    /// Every message a Page sends (Send API or Page Inbox), for the demo's customers.
    pub fn page_sent_events(&self) -> broadcast::Receiver<Message> {
        self.page_sent.subscribe()
    }

    /// Queues a webhook event, unless the Page did not subscribe to its field.
    pub fn emit(&self, page_id: &str, kind: EventKind, event: Option<Box<RawValue>>) {
        let Some(event) = event else {
            tracing::error!(page_id, ?kind, "could not serialise a webhook event");
            return;
        };
        if self.config.enforce_subscriptions {
            let field = kind.subscription_field();
            let subscribed = self
                .store()
                .page(page_id)
                .is_some_and(|p| p.subscribed_fields.iter().any(|f| f == field));
            if !subscribed {
                tracing::debug!(page_id, field, "page not subscribed; webhook event dropped");
                return;
            }
        }
        self.webhooks.send(Outgoing {
            page_id: page_id.to_owned(),
            event,
            standby: false,
        });
    }

    /// A customer writes to a Page; announced by webhook unless `notify` is false.
    pub fn customer_says(
        &self,
        page_id: &str,
        psid: &str,
        content: Content,
        timestamp: Option<i64>,
        notify: bool,
    ) -> Result<Message, StoreError> {
        let at = timestamp.unwrap_or_else(time::now_ms);
        let message = self
            .store()
            .record(page_id, psid, false, at, content, Origin::Customer)?;
        if notify {
            self.emit(
                page_id,
                EventKind::Message,
                events::customer_message(&message),
            );
        }
        Ok(message)
    }

    /// After a Send API message is stored: its echo now, delivery and read receipts later.
    pub fn announce_send(self: &Arc<Self>, message: &Message) {
        self.emit(
            &message.page_id,
            EventKind::Echo,
            events::echo(message, self.config.app_id),
        );
        let _ = self.page_sent.send(message.clone());
        receipts::follow(self, message);
    }

    /// A person answers in the Page Inbox, outside our app: stored, and echoed with the Inbox's app id.
    /// `timestamp` (default now) makes it a message written earlier whose echo comes only
    /// now; its receipts follow unless the thread's read watermark already covers it.
    pub fn inbox_reply(
        self: &Arc<Self>,
        page_id: &str,
        psid: &str,
        content: Content,
        timestamp: Option<i64>,
    ) -> Result<Message, StoreError> {
        let at = timestamp.unwrap_or_else(time::now_ms);
        let message = self
            .store()
            .record(page_id, psid, true, at, content, Origin::PageInbox)?;
        self.emit(
            page_id,
            EventKind::Echo,
            events::echo(&message, PAGE_INBOX_APP_ID),
        );
        let _ = self.page_sent.send(message.clone());
        receipts::follow(self, &message);
        Ok(message)
    }

    /// Issued tokens and the Pages' grants. Never hold it with the store's guard.
    pub fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Receipt state and mode.
    pub fn receipts(&self) -> MutexGuard<'_, Receipts> {
        self.receipts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A random duration in `[min, max]`.
pub fn random_between((min, max): (Duration, Duration)) -> Duration {
    let (low, high) = (min.as_millis(), max.as_millis().max(min.as_millis()));
    let low = u64::try_from(low).unwrap_or(u64::MAX);
    let high = u64::try_from(high).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(low..=high))
}
