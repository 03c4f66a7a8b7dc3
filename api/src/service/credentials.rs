//! The credentials in live use on this instance (subscriptions, WebSocket connections),
//! each kept current against the database: a revoked token, a logout, a removed
//! membership, a demoted or deactivated agent, an expired session reach every live use
//! within a second.
//!
//! One task per instance re-checks every registered credential in a few batched queries
//! (`auth::recheck`) every [`RECHECK_EVERY`], at a session's expiry, and at once when the
//! bus brings `AccessRevoked` (or this instance revoked something itself). Revocations
//! are stored, so a bus outage at the moment of revocation only delays its effect on other
//! instances to the next periodic re-check.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::bus::{BusEvent, EventBus};
use crate::service::auth::{self, Credential, CredentialKey, Principal};
use crate::time::now_ms;

/// How often every live credential is re-checked against the database, bus or no bus.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// The registry of live credentials of one instance.
pub struct Credentials {
    shared: Arc<Shared>,
}

struct Shared {
    db: DatabaseConnection,
    live: Mutex<HashMap<CredentialKey, Entry>>,
    /// Wakes the re-check task before its next tick.
    recheck: Notify,
}

/// One credential and its uses: every watch of it reads the same value.
struct Entry {
    /// The credential's principal as last checked; `None` once it no longer works.
    current: watch::Sender<Option<Arc<Principal>>>,
    uses: usize,
}

/// A live use of one credential (a subscription, a connection). Dropping it unregisters it.
pub struct CredentialWatch {
    key: CredentialKey,
    current: watch::Receiver<Option<Arc<Principal>>>,
    shared: Arc<Shared>,
}

impl Credentials {
    /// The registry, and its re-check task (which ends with `shutdown` or with the registry).
    pub fn start(
        db: DatabaseConnection,
        bus: Arc<dyn EventBus>,
        shutdown: CancellationToken,
    ) -> Self {
        let shared = Arc::new(Shared {
            db,
            live: Mutex::default(),
            recheck: Notify::new(),
        });
        tokio::spawn(recheck_forever(Arc::downgrade(&shared), bus, shutdown));
        Self { shared }
    }

    /// Registers a live use of `principal`'s credential. A credential already in use keeps
    /// one value for all its uses: `principal` (just authenticated) replaces it unless the
    /// credential was found revoked, and a difference is re-checked at once.
    pub fn watch(&self, principal: &Principal) -> CredentialWatch {
        let key = principal.credential.key();
        let mut differs = false;
        let current = {
            let mut live = lock(&self.shared.live);
            let entry = live.entry(key).or_insert_with(|| Entry {
                current: watch::Sender::new(Some(Arc::new(principal.clone()))),
                uses: 0,
            });
            entry.uses += 1;
            entry.current.send_if_modified(|current| match current {
                Some(known) if **known != *principal => {
                    differs = true;
                    *current = Some(Arc::new(principal.clone()));
                    true
                }
                _ => false,
            });
            entry.current.subscribe()
        };
        if differs {
            self.shared.recheck.notify_one();
        }
        CredentialWatch {
            key,
            current,
            shared: self.shared.clone(),
        }
    }

    /// Re-checks every live credential now, rather than at the next tick: after this
    /// instance revoked something, or when the bus says another did.
    pub fn recheck_now(&self) {
        self.shared.recheck.notify_one();
    }

    /// Credentials in live use (for tests and metrics).
    pub fn live(&self) -> usize {
        lock(&self.shared.live).len()
    }
}

impl CredentialWatch {
    /// The credential's principal as last checked; `None` once it no longer works.
    pub fn current(&self) -> Option<Arc<Principal>> {
        self.current.borrow().clone()
    }

    /// Resolves once the credential no longer works (revoked, logged out, expired, its
    /// agent deactivated). Never resolves otherwise.
    pub async fn revoked(&mut self) {
        // The sender lives as long as this watch (it is in the registry this holds).
        let _ = self.current.wait_for(Option::is_none).await;
    }

    /// Resolves when the principal changed (its scope or role, or it was revoked): look at
    /// `current()` again.
    pub async fn changed(&mut self) {
        if self.current.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Clone for CredentialWatch {
    /// Another use of the same credential.
    fn clone(&self) -> Self {
        if let Some(entry) = lock(&self.shared.live).get_mut(&self.key) {
            entry.uses += 1;
        }
        Self {
            key: self.key,
            current: self.current.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl Drop for CredentialWatch {
    fn drop(&mut self) {
        let mut live = lock(&self.shared.live);
        if let Some(entry) = live.get_mut(&self.key) {
            entry.uses = entry.uses.saturating_sub(1);
            if entry.uses == 0 {
                live.remove(&self.key);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map stays consistent whatever panicked while holding it.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Re-checks on every tick, at the soonest session expiry, and when woken (a revocation
/// here, or `AccessRevoked`/`Resync` from the bus).
async fn recheck_forever(
    shared: Weak<Shared>,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) {
    let mut events = bus.subscribe();
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let wait = strong.next_expiry().map_or(RECHECK_EVERY, |at| {
            let left = at.saturating_sub(now_ms()).max(0) as u64;
            RECHECK_EVERY.min(Duration::from_millis(left))
        });
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = strong.recheck.notified() => break,
                () = tokio::time::sleep_until(deadline) => break,
                event = events.next() => match event.as_deref() {
                    Some(BusEvent::AccessRevoked(_) | BusEvent::Resync) => break,
                    Some(BusEvent::Lagged) | None => {
                        // Fell behind, or the stream ended: listen again, and check now.
                        events = bus.subscribe();
                        break;
                    }
                    Some(_) => {}
                },
            }
        }
        strong.sweep().await;
    }
}

impl Shared {
    /// The soonest expiry of a live session that still works.
    fn next_expiry(&self) -> Option<i64> {
        lock(&self.live)
            .values()
            .filter_map(|entry| match entry.current.borrow().as_deref() {
                Some(Principal {
                    credential: Credential::Session { expires_at, .. },
                    ..
                }) => Some(*expires_at),
                _ => None,
            })
            .min()
    }

    /// One re-check of every live credential that still works.
    async fn sweep(&self) {
        let keys: Vec<CredentialKey> = lock(&self.live)
            .iter()
            .filter(|(_, entry)| entry.current.borrow().is_some())
            .map(|(key, _)| *key)
            .collect();
        if keys.is_empty() {
            return;
        }
        let mut fresh = match auth::recheck(&self.db, &keys).await {
            Ok(fresh) => fresh,
            Err(err) => {
                // Nobody loses access to a database outage; the next tick tries again.
                tracing::warn!(error = %err.message(), "re-checking live credentials failed");
                return;
            }
        };
        let live = lock(&self.live);
        for key in keys {
            let Some(entry) = live.get(&key) else {
                continue;
            };
            let now = fresh.remove(&key);
            entry
                .current
                .send_if_modified(|current| match (current.as_deref(), &now) {
                    // Revoked stays revoked.
                    (None, _) => false,
                    (Some(known), Some(now)) if known == now => false,
                    _ => {
                        *current = now.map(Arc::new);
                        true
                    }
                });
        }
    }
}
