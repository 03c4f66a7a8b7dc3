//! Who has a conversation open, and who is replying in it: the chat header's collision
//! warning ("Sam is replying…"). Ephemeral, so not in the database or the event log:
//! `setConversationPresence` publishes what the agent set on the bus, every instance
//! (the publisher too, through the bus) keeps the same table from what the bus brings,
//! and an entry that is not refreshed expires by itself (a closed tab cannot leave
//! "replying" behind). What others see changes reach subscribers from `subscribe`.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;

use crate::bus::{BusEvent, EventBus};
use crate::error::ApiError;
use crate::service::access::VisibleConversation;
use crate::service::auth::{Credential, Principal};

/// Conversations one agent may be present in at once (tabs, windows).
pub const MAX_PER_AGENT: usize = 20;
/// How often expired entries are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// Changes a slow subscriber may fall behind before it is cut off.
const CAPACITY: usize = 4096;

/// What an agent is doing in a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    Viewing,
    Typing,
    /// Not there (left, or expired).
    None,
}

/// An agent's state in one conversation: on the bus, what the agent set (with how long it
/// lasts); from `Viewers::subscribe`, what others now see.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ViewerChange {
    pub page_id: String,
    pub conversation_id: i64,
    pub agent_id: i64,
    pub state: State,
    /// How long VIEWING lasts without a refresh (TYPING: a quarter of it), as the setting
    /// instance is configured; measured from when each instance receives it, so clocks
    /// need not agree.
    pub ttl_ms: u64,
    /// The instance that set it, which applied it at once and skips it on the bus (its
    /// echo could come after the agent's next set, and undo it).
    pub origin: u64,
}

struct Entry {
    page_id: String,
    viewing_until: Instant,
    typing_until: Instant,
    /// What subscribers were last told.
    shown: State,
    /// When the agent's last set came in (a refresh that changes nothing is not
    /// republished more often than a quarter of the TTL).
    refreshed: Instant,
    set: State,
}

impl Entry {
    fn state(&self, now: Instant) -> State {
        if now < self.typing_until {
            State::Typing
        } else if now < self.viewing_until {
            State::Viewing
        } else {
            State::None
        }
    }
}

/// Who is in a Page's conversations, (conversation, agent, state), and the changes after.
pub type PageWatch = (Vec<(i64, i64, State)>, BoxStream<'static, Arc<BusEvent>>);

/// Every agent's presence in conversations, as this instance knows it from the bus.
pub struct Viewers {
    /// By (conversation, agent).
    entries: Mutex<HashMap<(i64, i64), Entry>>,
    changes: broadcast::Sender<Arc<BusEvent>>,
    /// This instance, in `ViewerChange::origin`.
    origin: u64,
}

impl Default for Viewers {
    fn default() -> Self {
        let mut origin = [0u8; 8];
        // Without randomness (never seen) instances could share 0: each would then skip the
        // others' sets, so the time is mixed in.
        let _ = getrandom::fill(&mut origin);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self {
            entries: Mutex::default(),
            changes: broadcast::channel(CAPACITY).0,
            origin: u64::from_le_bytes(origin) ^ nanos,
        }
    }
}

impl Viewers {
    fn lock(&self) -> MutexGuard<'_, HashMap<(i64, i64), Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn tell(&self, page_id: &str, conversation_id: i64, agent_id: i64, state: State) {
        // No receiver is not an error: nobody is watching.
        let _ = self
            .changes
            .send(Arc::new(BusEvent::ConversationPresence(ViewerChange {
                page_id: page_id.to_owned(),
                conversation_id,
                agent_id,
                state,
                ttl_ms: 0,
                origin: self.origin,
            })));
    }

    /// Applies what an agent set (as the bus brought it).
    pub fn apply(&self, change: &ViewerChange) {
        let now = Instant::now();
        let viewing = Duration::from_millis(change.ttl_ms);
        let key = (change.conversation_id, change.agent_id);
        let mut entries = self.lock();
        let entry = entries.entry(key).or_insert_with(|| Entry {
            page_id: change.page_id.clone(),
            viewing_until: now,
            typing_until: now,
            shown: State::None,
            refreshed: now,
            set: State::None,
        });
        match change.state {
            State::Viewing => {
                entry.viewing_until = now + viewing;
                entry.typing_until = now;
            }
            State::Typing => {
                entry.viewing_until = now + viewing;
                entry.typing_until = now + viewing / 4;
            }
            State::None => {
                entry.viewing_until = now;
                entry.typing_until = now;
            }
        }
        entry.refreshed = now;
        entry.set = change.state;
        let state = entry.state(now);
        if state != entry.shown {
            entry.shown = state;
            self.tell(&change.page_id, key.0, key.1, state);
        }
        if state == State::None {
            entries.remove(&key);
        }
    }

    /// Drops the entries whose time ran out, telling subscribers.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.retain(|&(conversation_id, agent_id), entry| {
            let state = entry.state(now);
            if state != entry.shown {
                entry.shown = state;
                self.tell(&entry.page_id, conversation_id, agent_id, state);
            }
            state != State::None
        });
    }

    /// Whether setting `state` again now would change nothing others see soon.
    fn is_fresh(&self, conversation_id: i64, agent_id: i64, state: State, ttl: Duration) -> bool {
        let entries = self.lock();
        entries
            .get(&(conversation_id, agent_id))
            .is_some_and(|e| e.set == state && e.refreshed.elapsed() < ttl / 8)
    }

    /// Conversations the agent is present in now, but `except`.
    fn count_for(&self, agent_id: i64, except: i64) -> usize {
        let now = Instant::now();
        self.lock()
            .iter()
            .filter(|((c, a), e)| *a == agent_id && *c != except && e.state(now) != State::None)
            .count()
    }

    /// Who is in one conversation now: (agent, state), by agent id.
    pub fn of_conversation(&self, conversation_id: i64) -> Vec<(i64, State)> {
        let now = Instant::now();
        let mut found: Vec<(i64, State)> = self
            .lock()
            .iter()
            .filter(|((c, _), _)| *c == conversation_id)
            .map(|((_, a), e)| (*a, e.state(now)))
            .filter(|(_, s)| *s != State::None)
            .collect();
        found.sort_unstable_by_key(|(a, _)| *a);
        found
    }

    /// Who is in the Page's conversations now (conversation, agent, state) and every change
    /// of what others see from then on (as [`Viewers::subscribe`]), taken together under
    /// the table's lock: changes are told under it too, so none is both in the snapshot
    /// and in the stream, and none is in neither.
    pub fn watch_page(&self, page_id: &str) -> PageWatch {
        let entries = self.lock();
        let changes = self.changes.subscribe();
        // What subscribers were last told, not what the clock says: a change the sweep
        // has yet to tell comes in the stream.
        let mut found: Vec<(i64, i64, State)> = entries
            .iter()
            .filter(|(_, e)| e.page_id == page_id)
            .map(|((c, a), e)| (*c, *a, e.shown))
            .filter(|(_, _, s)| *s != State::None)
            .collect();
        drop(entries);
        found.sort_unstable_by_key(|(c, a, _)| (*c, *a));
        (found, Self::stream(changes))
    }

    /// Every change of what others see from now on, as `BusEvent::ConversationPresence`
    /// (so the subscription's Page filter applies). A subscriber that falls too far
    /// behind gets `Lagged` and ends.
    pub fn subscribe(&self) -> BoxStream<'static, Arc<BusEvent>> {
        Self::stream(self.changes.subscribe())
    }

    fn stream(changes: broadcast::Receiver<Arc<BusEvent>>) -> BoxStream<'static, Arc<BusEvent>> {
        let lagged = Arc::new(BusEvent::Lagged);
        BroadcastStream::new(changes)
            .scan(false, move |ended, item| {
                let next = match item {
                    _ if *ended => None,
                    Ok(event) => Some(event),
                    Err(_) => {
                        *ended = true;
                        Some(lagged.clone())
                    }
                };
                futures::future::ready(next)
            })
            .boxed()
    }
}

/// Keeps `viewers` current from the bus and expires its entries, until `shutdown`.
pub async fn run(viewers: Arc<Viewers>, bus: Arc<dyn EventBus>, shutdown: CancellationToken) {
    let mut events = bus.subscribe();
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = sweep.tick() => viewers.sweep(),
            event = events.next() => match event.as_deref() {
                Some(BusEvent::ConversationPresence(change)) if change.origin != viewers.origin => {
                    viewers.apply(change);
                }
                // Fell behind on the bus: sets are refreshed often, so the next ones
                // restore the table; read on from now.
                Some(BusEvent::Lagged) => events = bus.subscribe(),
                Some(_) => {}
                None => return,
            },
        }
    }
}

/// `me` sets its state in `conversation`, on every instance. Only a signed-in agent is
/// present somewhere (an API token is FORBIDDEN).
pub async fn set(
    viewers: &Viewers,
    bus: &dyn EventBus,
    ttl: Duration,
    me: &Principal,
    conversation: &VisibleConversation,
    state: State,
) -> Result<(), ApiError> {
    if !matches!(me.credential, Credential::Session { .. }) {
        return Err(ApiError::Forbidden(
            "an API token is nobody in particular: sign in to show where you are",
        ));
    }
    let agent_id = me.agent.id;
    let conversation_id = conversation.id();
    if state != State::None && viewers.count_for(agent_id, conversation_id) >= MAX_PER_AGENT {
        return Err(ApiError::bad_input(format!(
            "present in {MAX_PER_AGENT} conversations already: leave one (state NONE) first"
        )));
    }
    if state != State::None && viewers.is_fresh(conversation_id, agent_id, state, ttl) {
        return Ok(());
    }
    let change = ViewerChange {
        page_id: conversation.model().page_id.clone(),
        conversation_id,
        agent_id,
        state,
        ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
        origin: viewers.origin,
    };
    announce(viewers, bus, change)
        .await
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("{err}")))
}

/// Applies a set of this instance's at once, so that it reads its own write and its sets
/// apply in order, and hands it to the bus for the others.
async fn announce(
    viewers: &Viewers,
    bus: &dyn EventBus,
    change: ViewerChange,
) -> Result<(), crate::bus::BusError> {
    viewers.apply(&change);
    bus.publish(vec![BusEvent::ConversationPresence(change)])
        .await
}

#[cfg(test)]
mod tests;
