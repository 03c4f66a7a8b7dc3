//! The outbox relay: Page events reach the bus only from the committed event log.
//!
//! After a commit, the writer hands its events here and they are published at once.
//! When the bus refuses them (Redis is down), the Page is marked behind from the first
//! unpublished position, and a relay task republishes from the log, in order, until the
//! bus takes them: an event committed during an outage is delivered once the bus is back.
//! Subscribers drop positions they already have, so a repeat is harmless.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::Notify;

use crate::bus::{BusEvent, Change, EventBus, PageEvent};
use crate::service::event_log;

/// What a Page still has to publish: the positions after `after`, up to `until`.
#[derive(Clone, Copy, Debug)]
struct Behind {
    after: i64,
    until: i64,
}

struct Inner {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    behind: Mutex<BTreeMap<String, Behind>>,
    wake: Arc<Notify>,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

impl Outbox {
    /// Starts the relay task.
    pub fn start(db: DatabaseConnection, bus: Arc<dyn EventBus>) -> Self {
        let inner = Arc::new(Inner {
            db,
            bus,
            behind: Mutex::new(BTreeMap::new()),
            wake: Arc::new(Notify::new()),
        });
        tokio::spawn(relay(Arc::downgrade(&inner), inner.wake.clone()));
        Self { inner }
    }

    /// Appends `changes` to the event log inside `txn`, commits, then publishes them.
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        changes: Vec<Change>,
    ) -> Result<Vec<PageEvent>, DbErr> {
        let events = event_log::append(&txn, changes, crate::time::now_ms()).await?;
        txn.commit().await?;
        self.publish(events.clone()).await;
        Ok(events)
    }

    /// Publishes committed `events`; should the bus refuse them, the relay takes over.
    pub async fn publish(&self, events: Vec<PageEvent>) {
        if events.is_empty() {
            return;
        }
        let mut ranges: BTreeMap<&str, Behind> = BTreeMap::new();
        for event in &events {
            let range = ranges.entry(&event.page_id).or_insert(Behind {
                after: event.position - 1,
                until: event.position,
            });
            range.after = range.after.min(event.position - 1);
            range.until = range.until.max(event.position);
        }
        let queued = self.mark_if_behind(&ranges, false);
        if queued {
            return;
        }
        let ranges: Vec<(String, Behind)> = ranges
            .into_iter()
            .map(|(page, range)| (page.to_owned(), range))
            .collect();
        let events = events.into_iter().map(BusEvent::Page).collect();
        if let Err(err) = self.inner.bus.publish(events).await {
            tracing::warn!(error = %err, "publishing committed events failed; the relay will retry from the event log");
            let ranges: BTreeMap<&str, Behind> =
                ranges.iter().map(|(p, r)| (p.as_str(), *r)).collect();
            self.mark_if_behind(&ranges, true);
        }
    }

    /// Adds `ranges` to what the relay owes when anything is owed already (or `always`),
    /// so that events are not published around a backlog. Returns whether it did.
    fn mark_if_behind(&self, ranges: &BTreeMap<&str, Behind>, always: bool) -> bool {
        let Ok(mut behind) = self.inner.behind.lock() else {
            return false;
        };
        if behind.is_empty() && !always {
            return false;
        }
        for (page, range) in ranges {
            behind
                .entry((*page).to_owned())
                .and_modify(|owed| {
                    owed.after = owed.after.min(range.after);
                    owed.until = owed.until.max(range.until);
                })
                .or_insert(*range);
        }
        drop(behind);
        self.inner.wake.notify_one();
        true
    }

    /// Pages with events not yet on the bus (for `/health` and tests).
    pub fn backlog(&self) -> usize {
        self.inner.behind.lock().map_or(0, |b| b.len())
    }
}

/// Republishes what is owed, from the log, until the bus takes it; ends with the app.
async fn relay(inner: std::sync::Weak<Inner>, wake: Arc<Notify>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let owed: Vec<(String, Behind)> = strong
            .behind
            .lock()
            .map(|b| b.iter().map(|(p, r)| (p.clone(), *r)).collect())
            .unwrap_or_default();
        if owed.is_empty() {
            drop(strong);
            let notified = wake.notified();
            // Re-checks now and then: the Weak lets the task end with the app.
            let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
            continue;
        }
        let mut failed = false;
        for (page_id, range) in owed {
            match relay_page(&strong, &page_id, range).await {
                Ok(()) => {}
                Err(why) => {
                    tracing::warn!(%page_id, error = %why, "event relay: will retry");
                    failed = true;
                    break;
                }
            }
        }
        drop(strong);
        if failed {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        } else {
            backoff = Duration::from_millis(100);
        }
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
            inner.bus.publish(events).await.map_err(|e| e.to_string())?;
        }
        after = if chunk.complete { range.until } else { through };
        let Ok(mut behind) = inner.behind.lock() else {
            return Err("relay state poisoned".to_owned());
        };
        if let Some(owed) = behind.get_mut(page_id) {
            owed.after = owed.after.max(after);
            if owed.after >= owed.until {
                behind.remove(page_id);
            }
        }
    }
    tracing::info!(%page_id, through = range.until, "event relay: caught up");
    Ok(())
}
