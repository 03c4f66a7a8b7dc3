//! The outbox relay: Page events reach the bus only from the committed event log.
//!
//! After a commit, writers hand their events here and go on: a relay task publishes them
//! in order, so a slow or absent bus never holds up a webhook's answer. When the bus
//! refuses them (Redis is down), their Pages are marked behind from the first unpublished
//! position, and the relay republishes from the log, in order, until the bus takes them:
//! an event committed during an outage is delivered once the bus is back. Subscribers
//! drop positions they already have, so a repeat is harmless.
//!
//! A safety net covers what no relay will publish: an instance that committed events and
//! died before relaying them. Every [`SWEEP_INTERVAL`] the sweeper compares each Page's
//! head in the log with the last position it saw on the bus; positions still unseen a
//! whole interval later are republished from the log (by every instance that notices:
//! subscribers drop the repeats).
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::bus::{BusEvent, Change, EventBus, PageEvent};
use crate::service::event_log;
use crate::tasks::Tasks;

/// Events waiting for the relay before it stops queueing them and reads the log instead.
const MAX_QUEUED: usize = 50_000;
/// How long one publish may take before the bus counts as unavailable.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the sweeper compares the log's heads with what the bus carried.
const SWEEP_INTERVAL: Duration = Duration::from_secs(2);

/// What a Page still has to publish: the positions after `after`, up to `until`.
#[derive(Clone, Copy, Debug)]
struct Behind {
    after: i64,
    until: i64,
}

#[derive(Default)]
struct Pending {
    /// Committed events in commit order, published as they are.
    queued: VecDeque<PageEvent>,
    /// Pages whose events must come from the log (the bus failed, or the queue was full).
    behind: BTreeMap<String, Behind>,
}

impl Pending {
    fn owe(&mut self, events: impl IntoIterator<Item = PageEvent>) {
        for event in events {
            self.owe_range(
                event.page_id,
                Behind {
                    after: event.position - 1,
                    until: event.position,
                },
            );
        }
    }

    /// The Page's positions in `range` must come from the log (merged with what it owes).
    fn owe_range(&mut self, page_id: String, range: Behind) {
        self.behind
            .entry(page_id)
            .and_modify(|owed| {
                owed.after = owed.after.min(range.after);
                owed.until = owed.until.max(range.until);
            })
            .or_insert(range);
    }
}

/// What a domain write did inside its caller's transaction: its result, and the changes
/// to announce. The caller may run several writes in one transaction, then hands all
/// their changes, in order, to [`Outbox::commit`] with it; dropped changes would be
/// committed rows that no subscriber hears of.
#[must_use = "its changes go to `Outbox::commit` with the transaction"]
#[derive(Debug)]
pub struct Written<T> {
    pub value: T,
    pub changes: Vec<Change>,
}

struct Inner {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    pending: Mutex<Pending>,
    wake: Arc<Notify>,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

impl Outbox {
    /// Starts the relay and the sweeper in `tasks`. When the group stops, the relay
    /// publishes what it was handed before, then ends.
    pub fn start(db: DatabaseConnection, bus: Arc<dyn EventBus>, tasks: &Tasks) -> Self {
        let inner = Arc::new(Inner {
            db,
            bus,
            pending: Mutex::new(Pending::default()),
            wake: Arc::new(Notify::new()),
        });
        tasks.spawn("outbox-relay", relay(inner.clone(), tasks.stopping()));
        let events = inner.bus.subscribe();
        tasks.spawn(
            "outbox-sweeper",
            sweep(inner.clone(), events, tasks.stopping()),
        );
        Self { inner }
    }

    /// Appends `changes` to the event log inside `txn`, commits, then publishes them: the
    /// one way every write (a reply, a status change, an ingest group) announces what it
    /// changed, so a committed change always has its place in the log, and nothing is
    /// published that did not commit. Writers that must publish in commit order (ingest)
    /// call it while holding their turn.
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        changes: Vec<Change>,
    ) -> Result<(), DbErr> {
        let events = event_log::append(&txn, changes, crate::time::now_ms()).await?;
        txn.commit().await?;
        self.publish(events);
        Ok(())
    }

    /// Hands committed `events` to the relay, which publishes them in order.
    fn publish(&self, events: Vec<PageEvent>) {
        if events.is_empty() {
            return;
        }
        if let Ok(mut pending) = self.inner.pending.lock() {
            // Behind, or too much queued: the log has them; keep only where to start.
            if !pending.behind.is_empty() || pending.queued.len() + events.len() > MAX_QUEUED {
                pending.owe(events);
            } else {
                pending.queued.extend(events);
            }
        }
        self.inner.wake.notify_one();
    }

    /// Pages with events not yet on the bus (for tests and metrics).
    pub fn backlog(&self) -> usize {
        self.inner.pending.lock().map_or(0, |p| p.behind.len())
    }
}

/// Publishes what is queued, or what is owed from the log, until `stop`; then what was
/// handed to it before, once (what fails then stays in the log, for the sweepers of the
/// other instances and the subscribers' own catching up).
async fn relay(inner: Arc<Inner>, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let (queued, owed) = match inner.pending.lock() {
            Ok(mut pending) => {
                let queued: Vec<PageEvent> = pending.queued.drain(..).collect();
                let owed: Vec<(String, Behind)> = pending
                    .behind
                    .iter()
                    .map(|(p, r)| (p.clone(), *r))
                    .collect();
                (queued, owed)
            }
            Err(_) => return,
        };
        if queued.is_empty() && owed.is_empty() {
            if stop.is_cancelled() {
                return;
            }
            tokio::select! {
                () = inner.wake.notified() => {}
                () = stop.cancelled() => {}
            }
            continue;
        }
        let mut failed = false;
        if !queued.is_empty() {
            let events = queued.iter().cloned().map(BusEvent::Page).collect();
            if let Err(why) = publish(&inner, events).await {
                tracing::warn!(error = %why, "publishing committed events failed; the relay will retry from the event log");
                if let Ok(mut pending) = inner.pending.lock() {
                    // Whatever queued up meanwhile comes from the log too, in order.
                    let rest: Vec<PageEvent> = pending.queued.drain(..).collect();
                    pending.owe(queued);
                    pending.owe(rest);
                }
                failed = true;
            }
        }
        if !failed {
            for (page_id, range) in owed {
                if let Err(why) = relay_page(&inner, &page_id, range).await {
                    tracing::warn!(%page_id, error = %why, "event relay: will retry");
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            if stop.is_cancelled() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = stop.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        } else {
            backoff = Duration::from_millis(100);
        }
    }
}

async fn publish(inner: &Inner, events: Vec<BusEvent>) -> Result<(), String> {
    match tokio::time::timeout(PUBLISH_TIMEOUT, inner.bus.publish(events)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("no answer from the bus within {PUBLISH_TIMEOUT:?}")),
    }
}

/// Publishes one Page's owed events in log order, marking progress as it goes.
async fn relay_page(inner: &Inner, page_id: &str, range: Behind) -> Result<(), String> {
    let mut after = range.after;
    while after < range.until {
        let chunk = event_log::replay(&inner.db, page_id, after, Some(range.until))
            .await
            .map_err(|e| e.to_string())?;
        let through = chunk.through.unwrap_or(range.until);
        if !chunk.events.is_empty() {
            let events = chunk.events.into_iter().map(BusEvent::Page).collect();
            publish(inner, events).await?;
        }
        after = if chunk.complete { range.until } else { through };
        let Ok(mut pending) = inner.pending.lock() else {
            return Err("relay state poisoned".to_owned());
        };
        if let Some(owed) = pending.behind.get_mut(page_id) {
            owed.after = owed.after.max(after);
            if owed.after >= owed.until {
                pending.behind.remove(page_id);
            }
        }
    }
    tracing::info!(%page_id, through = range.until, "event relay: caught up");
    Ok(())
}

/// The sweeper (see the module's documentation): until `stop`, every
/// [`SWEEP_INTERVAL`] it owes the relay the positions of each Page that were in the log at
/// the previous look and have still not been seen on the bus.
async fn sweep(
    inner: Arc<Inner>,
    mut events: futures::stream::BoxStream<'static, Arc<BusEvent>>,
    stop: CancellationToken,
) {
    use futures::StreamExt;
    // The last position seen on the bus per Page; the first look at the log sets where
    // this instance starts (it does not republish what came before it).
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut heads_before: Option<HashMap<String, i64>> = None;
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            event = events.next() => match event.as_deref() {
                Some(BusEvent::Page(event)) => match seen.get_mut(&event.page_id) {
                    Some(last) => *last = (*last).max(event.position),
                    None => {
                        seen.insert(event.page_id.clone(), event.position);
                    }
                },
                Some(BusEvent::Lagged) | None => {
                    // This stream ended: listen again and start over from the log's heads.
                    events = inner.bus.subscribe();
                    seen.clear();
                    heads_before = None;
                }
                Some(_) => {}
            },
            _ = tick.tick() => {
                let heads = match event_log::heads(&inner.db).await {
                    Ok(heads) => heads,
                    Err(err) => {
                        tracing::debug!(error = %err, "event sweeper: reading the log's heads failed");
                        continue;
                    }
                };
                let Some(before) = heads_before.replace(heads.clone()) else {
                    seen.extend(heads);
                    continue;
                };
                let mut stuck = Vec::new();
                for (page_id, head) in before {
                    let last = seen.get(&page_id).copied().unwrap_or(0);
                    if head > last {
                        stuck.push((page_id, Behind { after: last, until: head }));
                    }
                }
                if stuck.is_empty() {
                    continue;
                }
                if let Ok(mut pending) = inner.pending.lock() {
                    for (page_id, owed) in stuck {
                        tracing::warn!(%page_id, after = owed.after, until = owed.until,
                            "event sweeper: committed events never reached the bus; republishing from the log");
                        pending.owe_range(page_id, owed);
                    }
                }
                inner.wake.notify_one();
            }
        }
    }
}
