//! Who is at their desk: ONLINE while an agent holds a subscription connection, unless
//! the agent chose AWAY or OFFLINE. Kept in memory per instance.
use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// An agent's presence as others see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Online,
    Away,
    Offline,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "ONLINE",
            Self::Away => "AWAY",
            Self::Offline => "OFFLINE",
        }
    }
}

#[derive(Default)]
struct Entry {
    connections: u32,
    /// AWAY or OFFLINE by choice; `None` follows the connections.
    chosen: Option<Status>,
}

impl Entry {
    fn status(&self) -> Status {
        match (self.connections, self.chosen) {
            (0, _) | (_, Some(Status::Offline)) => Status::Offline,
            (_, Some(Status::Away)) => Status::Away,
            _ => Status::Online,
        }
    }
}

/// Presence of every agent on this instance.
#[derive(Default)]
pub struct Presence {
    agents: Mutex<HashMap<i64, Entry>>,
}

impl Presence {
    /// Applies `change` to the agent's entry; the new status when it changed.
    fn update(&self, agent_id: i64, change: impl FnOnce(&mut Entry)) -> Option<Status> {
        let mut agents = self
            .agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = agents.entry(agent_id).or_default();
        let before = entry.status();
        change(entry);
        let after = entry.status();
        if entry.connections == 0 && entry.chosen.is_none() {
            agents.remove(&agent_id);
        }
        (before != after).then_some(after)
    }

    /// A subscription connection of the agent opened.
    pub fn connected(&self, agent_id: i64) -> Option<Status> {
        self.update(agent_id, |e| e.connections += 1)
    }

    /// A subscription connection of the agent closed (or its heartbeat stopped).
    pub fn disconnected(&self, agent_id: i64) -> Option<Status> {
        self.update(agent_id, |e| {
            e.connections = e.connections.saturating_sub(1)
        })
    }

    /// The agent chose a status; ONLINE clears the choice.
    pub fn choose(&self, agent_id: i64, status: Status) -> Option<Status> {
        self.update(agent_id, |e| {
            e.chosen = (status != Status::Online).then_some(status);
        })
    }

    pub fn status(&self, agent_id: i64) -> Status {
        let agents = self
            .agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        agents.get(&agent_id).map_or(Status::Offline, Entry::status)
    }
}

#[cfg(test)]
mod tests {
    use super::{Presence, Status};

    #[test]
    fn presence_follows_connections_and_choices() {
        let p = Presence::default();
        assert_eq!(p.status(1), Status::Offline);
        assert_eq!(p.connected(1), Some(Status::Online));
        assert_eq!(p.connected(1), None);
        assert_eq!(p.choose(1, Status::Away), Some(Status::Away));
        assert_eq!(p.disconnected(1), None);
        assert_eq!(p.disconnected(1), Some(Status::Offline));
        assert_eq!(p.connected(1), Some(Status::Away));
        assert_eq!(p.choose(1, Status::Online), Some(Status::Online));
        assert_eq!(p.choose(1, Status::Offline), Some(Status::Offline));
    }
}
