//! Delivery and read receipts, as the customer's Messenger sends them for what the Page sent.
//!
//! What the documentation says, and what the simulator does with it:
//! - `message_deliveries` (<https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-deliveries>):
//!   "`watermark` is always present and `mids` is sometimes present ... (due to backward
//!   compatibility reasons with older Messenger clients)"; every message sent before the
//!   watermark was delivered. The simulator's deliveries carry the thread's watermark
//!   always, and `mids` as [`MidsMode`] says: by default at random, half of them without.
//! - `message_reads` (<https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-reads>):
//!   only a `watermark`, "all messages that were sent before or at this timestamp were read".
//! - Both watermarks are per thread and cumulative: a receipt covers every earlier Page
//!   message, so the simulator keeps, per thread, the highest time delivered and read, and
//!   a receipt never names a lower watermark than the one the thread reached when it was
//!   made. A message sent with a time the thread's watermarks already cover gets no receipt.
//! - Order and repetition: the documentation says nothing of the order of receipts; webhook
//!   deliveries are retried until answered, so the same event can come twice, and POSTs
//!   overtake one another (`/work/shared/messenger-platform.md`). The simulator's choice:
//!   with `stale_reads`, after each read receipt it posts that receipt a second time and then
//!   the thread's earlier read receipts again (lower watermarks, as a delayed retry would
//!   bring them), each in its own POST, so the last read to arrive is a lower one. Off by
//!   default, so the demo stays quiet.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::model::Message;
use crate::sim::{Sim, random_between};
use crate::time;
use crate::webhook::events::{self, EventKind};

/// Whether a delivery receipt names the messages it covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MidsMode {
    /// Every delivery carries `mids` (the newly delivered message's mid).
    Always,
    /// No delivery carries `mids`: the watermark only, as older clients send.
    Never,
    /// Each delivery, at random, with or without `mids`.
    #[default]
    Random,
}

/// How receipts are sent; `GET/PUT /_sim/receipts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptMode {
    /// `mids` in deliveries.
    #[serde(default)]
    pub mids: MidsMode,
    /// False: customers' devices deliver but nobody reads (no read receipts at all).
    #[serde(default = "yes")]
    pub reads: bool,
    /// After each read receipt, post it once more, then the thread's earlier (lower) read
    /// receipts again.
    #[serde(default)]
    pub stale_reads: bool,
}

impl Default for ReceiptMode {
    fn default() -> Self {
        Self {
            mids: MidsMode::default(),
            reads: true,
            stale_reads: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Per thread: how far the customer's device has delivered and read the Page's messages.
#[derive(Debug, Default)]
struct Thread {
    delivered_ms: i64,
    read_ms: i64,
    /// Read watermarks posted so far, oldest first.
    reads_sent: Vec<i64>,
}

/// Receipt state of every thread, and the mode.
#[derive(Debug, Default)]
pub struct Receipts {
    mode: ReceiptMode,
    threads: HashMap<String, Thread>,
}

impl Receipts {
    /// The mode in force.
    pub fn mode(&self) -> ReceiptMode {
        self.mode
    }

    /// Replaces the mode.
    pub fn set_mode(&mut self, mode: ReceiptMode) {
        self.mode = mode;
    }

    /// Forgets every thread and restores the default mode.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Whether the thread's watermarks already cover a Page message sent at `at`.
    fn covered(&self, conversation_id: &str, at: i64) -> bool {
        self.threads
            .get(conversation_id)
            .is_some_and(|t| t.read_ms >= at)
    }

    /// The customer's device received `message`: the delivery watermark now, and whether
    /// this receipt names the mid.
    fn delivered(&mut self, message: &Message) -> (i64, bool) {
        let with_mids = match self.mode.mids {
            MidsMode::Always => true,
            MidsMode::Never => false,
            MidsMode::Random => rand::rng().random_bool(0.5),
        };
        let thread = self
            .threads
            .entry(message.conversation_id.clone())
            .or_default();
        thread.delivered_ms = thread.delivered_ms.max(message.timestamp);
        (thread.delivered_ms, with_mids)
    }

    /// The customer read `message`: the read watermark now, and the stale receipts to post
    /// after it (empty unless `stale_reads`).
    fn read(&mut self, message: &Message) -> (i64, Vec<i64>) {
        let stale = self.mode.stale_reads;
        let thread = self
            .threads
            .entry(message.conversation_id.clone())
            .or_default();
        thread.delivered_ms = thread.delivered_ms.max(message.timestamp);
        thread.read_ms = thread.read_ms.max(message.timestamp);
        let watermark = thread.read_ms;
        let mut replays = Vec::new();
        if stale {
            replays.push(watermark);
            replays.extend(thread.reads_sent.iter().copied().filter(|w| *w < watermark));
        }
        thread.reads_sent.push(watermark);
        (watermark, replays)
    }
}

/// Posts the delivery and read receipts of a message the Page sent, after the configured
/// delays. A message whose time the thread's read watermark already covers gets none.
pub fn follow(sim: &Arc<Sim>, message: &Message) {
    if sim
        .receipts()
        .covered(&message.conversation_id, message.timestamp)
    {
        return;
    }
    let sim = Arc::clone(sim);
    let message = message.clone();
    let timing = sim.config().timing;
    // Stale receipts go out after the batch window, so each is a POST of its own.
    let apart = timing.batch_window + Duration::from_millis(50);
    tokio::spawn(async move {
        tokio::time::sleep(random_between(timing.delivery_delay)).await;
        let (watermark, with_mids) = sim.receipts().delivered(&message);
        let mids = if with_mids {
            vec![message.mid.clone()]
        } else {
            Vec::new()
        };
        sim.emit(
            &message.page_id,
            EventKind::Delivery,
            events::delivery(
                &message.page_id,
                &message.psid,
                with_mids.then_some(mids.as_slice()),
                watermark,
                time::now_ms(),
            ),
        );
        if !sim.receipts().mode.reads {
            return;
        }
        tokio::time::sleep(random_between(timing.read_delay)).await;
        let (watermark, replays) = sim.receipts().read(&message);
        let read = |watermark| {
            sim.emit(
                &message.page_id,
                EventKind::Read,
                events::read(&message.page_id, &message.psid, watermark, time::now_ms()),
            );
        };
        read(watermark);
        for stale in replays {
            tokio::time::sleep(apart).await;
            read(stale);
        }
    });
}
