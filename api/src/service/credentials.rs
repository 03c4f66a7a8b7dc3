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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::bus::{BusEvent, EventBus};
use crate::service::auth::{self, Credential, CredentialKey, Principal};
use crate::tasks::Tasks;
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
    /// The registry, and its re-check task in `tasks` (which ends when the group stops).
    pub fn start(db: DatabaseConnection, bus: Arc<dyn EventBus>, tasks: &Tasks) -> Self {
        let shared = Arc::new(Shared {
            db,
            live: Mutex::default(),
            recheck: Notify::new(),
        });
        tasks.spawn(
            "credential-recheck",
            recheck_forever(shared.clone(), bus, tasks.stopping()),
        );
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
async fn recheck_forever(shared: Arc<Shared>, bus: Arc<dyn EventBus>, stop: CancellationToken) {
    let mut events = bus.subscribe();
    loop {
        let wait = shared.next_expiry().map_or(RECHECK_EVERY, |at| {
            let left = at.saturating_sub(now_ms()).max(0) as u64;
            RECHECK_EVERY.min(Duration::from_millis(left))
        });
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = shared.recheck.notified() => break,
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
        shared.sweep().await;
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

#[cfg(test)]
mod tests {
    use sea_orm::ActiveValue::Set;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

    use super::*;
    use crate::bus::memory::MemoryBus;
    use entity::{agent, page, page_member, session};

    const WAIT: Duration = Duration::from_secs(5);

    /// A registry on a migrated SQLite database, and a session of an AGENT on Page "p".
    async fn arranged() -> (
        tempfile::TempDir,
        DatabaseConnection,
        Credentials,
        Principal,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/c.db?mode=rwc", dir.path().display());
        let db = crate::db::connect(&url).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        let agent = agent::ActiveModel {
            email: Set("a@example.com".to_owned()),
            name: Set("A".to_owned()),
            role: Set("AGENT".to_owned()),
            password_hash: Set(None),
            created_at: Set(0),
            deactivated_at: Set(None),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        page::ActiveModel {
            id: Set("p".to_owned()),
            created_at: Set(0),
            needs_reconnect: Set(false),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        page_member::ActiveModel {
            page_id: Set("p".to_owned()),
            agent_id: Set(agent.id),
            created_at: Set(0),
        }
        .insert(&db)
        .await
        .unwrap();
        let session = session::ActiveModel {
            agent_id: Set(agent.id),
            token_hash: Set("h".to_owned()),
            expires_at: Set(now_ms() + 3_600_000),
            revoked_at: Set(None),
            created_at: Set(0),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let key = CredentialKey::Session(session.id);
        let principal = auth::recheck(&db, &[key])
            .await
            .unwrap()
            .remove(&key)
            .unwrap();
        let credentials = Credentials::start(
            db.clone(),
            Arc::new(MemoryBus::new()),
            &crate::tasks::Tasks::new(),
        );
        (dir, db, credentials, principal)
    }

    async fn set_session_revoked(db: &DatabaseConnection, revoked_at: Option<i64>) {
        session::Entity::update_many()
            .col_expr(
                session::Column::RevokedAt,
                sea_orm::sea_query::Expr::val(revoked_at),
            )
            .exec(db)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn uses_of_one_credential_share_an_entry_until_the_last_is_dropped() {
        let (_dir, _db, credentials, principal) = arranged().await;
        let first = credentials.watch(&principal);
        let second = first.clone();
        let third = credentials.watch(&principal);
        assert_eq!(credentials.live(), 1);
        drop(first);
        drop(third);
        assert_eq!(credentials.live(), 1);
        assert_eq!(second.current().as_deref(), Some(&principal));
        drop(second);
        assert_eq!(credentials.live(), 0);
    }

    #[tokio::test]
    async fn a_revocation_stored_in_the_database_reaches_the_watch_and_is_final() {
        let (_dir, db, credentials, principal) = arranged().await;
        let mut watch = credentials.watch(&principal);

        set_session_revoked(&db, Some(now_ms())).await;
        credentials.recheck_now();
        tokio::time::timeout(WAIT, watch.revoked()).await.unwrap();
        assert!(watch.current().is_none());

        // Even were the row to read valid again, the watch stays revoked.
        set_session_revoked(&db, None).await;
        credentials.recheck_now();
        tokio::time::sleep(RECHECK_EVERY * 2).await;
        assert!(watch.current().is_none());
        assert!(credentials.watch(&principal).current().is_none());
    }

    #[tokio::test]
    async fn a_removed_membership_changes_the_scope_without_revoking() {
        let (_dir, db, credentials, principal) = arranged().await;
        let mut watch = credentials.watch(&principal);
        assert!(watch.current().is_some_and(|me| me.can_see("p")));

        page_member::Entity::delete_many()
            .filter(page_member::Column::PageId.eq("p"))
            .exec(&db)
            .await
            .unwrap();
        credentials.recheck_now();
        tokio::time::timeout(WAIT, watch.changed()).await.unwrap();

        let now = watch.current().expect("still signed in");
        assert!(!now.can_see("p"));
    }
}
