//! How many WebSockets are open, in all and per credential: a connection holds a
//! [`Slot`] from its upgrade and, once initialised, a [`Seat`] of its credential; both
//! give their place back when dropped, however the connection ends.
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::service::auth::{Credential, CredentialKey};

/// The counts, shared by every connection of this instance.
pub(super) struct Seats {
    open: AtomicUsize,
    max_open: usize,
    per_credential: Mutex<HashMap<CredentialKey, usize>>,
    max_per_credential: usize,
}

impl Seats {
    pub(super) fn new(max_open: usize, max_per_credential: usize) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max_open: max_open.max(1),
            per_credential: Mutex::default(),
            max_per_credential: max_per_credential.max(1),
        })
    }

    /// A place for one more connection, authenticated or not; `None` when all are taken.
    pub(super) fn slot(self: &Arc<Self>) -> Option<Slot> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max_open).then_some(open + 1)
            });
        taken.is_ok().then(|| Slot(self.clone()))
    }

    /// A place among `credential`'s connections; `None` when it holds the most allowed.
    pub(super) fn seat(self: &Arc<Self>, credential: &Credential) -> Option<Seat> {
        let holder = credential.key();
        let mut counts = self.per_credential.lock().ok()?;
        let count = counts.entry(holder).or_default();
        if *count >= self.max_per_credential {
            return None;
        }
        *count += 1;
        Some(Seat {
            seats: self.clone(),
            holder,
        })
    }
}

/// One open connection.
pub(super) struct Slot(Arc<Seats>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One initialised connection of a credential.
pub(super) struct Seat {
    seats: Arc<Seats>,
    holder: CredentialKey,
}

impl Drop for Seat {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.seats.per_credential.lock()
            && let Some(count) = counts.get_mut(&self.holder)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.holder);
            }
        }
    }
}
