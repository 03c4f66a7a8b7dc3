//! The conversations' threads the inbox holds: one message list per conversation the
//! agent opened, kept current by the live feed, and one draft per conversation. Every
//! message lands in the thread of its own conversation id, so switching conversations
//! never shows one's messages or draft in another.
use std::collections::BTreeMap;

use super::{Activity, Conversation, Message, MessageList, Note};

/// How many conversations' threads stay in memory; the least recently opened goes first
/// (it is fetched again when opened again).
pub const KEEP_THREADS: usize = 20;

/// What the inbox holds of one conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    /// The conversation as last seen, for the chat's header whatever the list holds
    /// (a link may open one that is not loaded, or that the list's filter hides).
    pub conversation: Option<Conversation>,
    /// Its messages so far, and where "load older" goes on.
    pub messages: MessageList,
    /// Its status changes, assignments and snoozes, oldest first.
    pub activity: Vec<Activity>,
    /// Its private notes, oldest first.
    pub notes: Vec<Note>,
}

/// The threads, most recently opened first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Threads {
    items: Vec<Thread>,
}

impl Threads {
    /// The thread of conversation `id`, made empty when not held, now the most recent.
    pub fn open(&mut self, id: &str) -> &mut Thread {
        let thread = match self
            .items
            .iter()
            .position(|t| t.messages.conversation_id == id)
        {
            Some(i) => self.items.remove(i),
            None => Thread {
                messages: MessageList::new(id),
                ..Thread::default()
            },
        };
        self.items.insert(0, thread);
        self.items.truncate(KEEP_THREADS);
        &mut self.items[0]
    }

    pub fn get(&self, id: &str) -> Option<&Thread> {
        self.items.iter().find(|t| t.messages.conversation_id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Thread> {
        self.items
            .iter_mut()
            .find(|t| t.messages.conversation_id == id)
    }

    /// Whether a message with this id is in its conversation's thread.
    pub fn has_message(&self, m: &Message) -> bool {
        self.get(&m.conversation_id)
            .is_some_and(|t| t.messages.items.iter().any(|it| it.id == m.id))
    }

    /// Puts a message into its conversation's thread; a conversation whose thread is not
    /// held is left alone (it is fetched when opened). Returns whether it was held.
    pub fn upsert_message(&mut self, m: Message) -> bool {
        match self.get_mut(&m.conversation_id) {
            Some(t) => {
                t.messages.upsert(m);
                true
            }
            None => false,
        }
    }

    /// Puts an activity entry into its conversation's thread, if held.
    pub fn upsert_activity(&mut self, a: Activity) {
        if let Some(t) = self.get_mut(&a.conversation_id) {
            super::voices::upsert_activity(&mut t.activity, a);
        }
    }

    /// Puts a note into its conversation's thread, if held.
    pub fn upsert_note(&mut self, n: Note) {
        if let Some(t) = self.get_mut(&n.conversation_id) {
            super::notes::upsert_note(&mut t.notes, n);
        }
    }

    /// Drops a message (the server merged it into another) wherever it is.
    pub fn remove_message(&mut self, id: &str) {
        for t in &mut self.items {
            t.messages.remove(id);
        }
    }

    /// The newest copy of a conversation, for the thread holding it.
    pub fn put_conversation(&mut self, c: &Conversation) {
        if let Some(t) = self.get_mut(&c.id) {
            t.conversation = Some(c.clone());
        }
    }

    /// The conversation ids of the threads held.
    pub fn ids(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|t| t.messages.conversation_id.clone())
            .collect()
    }

    /// Forgets every thread's messages but `keep`'s: after the live feed started afresh
    /// they may have a gap, and are fetched again when opened.
    pub fn keep_only(&mut self, keep: Option<&str>) {
        self.items
            .retain(|t| Some(t.messages.conversation_id.as_str()) == keep);
    }
}

/// The agent's unsent replies, by conversation id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drafts(BTreeMap<String, String>);

/// Longest draft kept (the composer's `maxlength`).
const MAX_DRAFT_CHARS: usize = 2000;
/// Most drafts kept (the oldest conversation ids go first).
const MAX_DRAFTS: usize = 200;

impl Drafts {
    /// The draft of conversation `id` ("" when none).
    pub fn get(&self, id: &str) -> &str {
        self.0.get(id).map_or("", String::as_str)
    }

    /// Keeps `text` as `id`'s draft; an empty one is forgotten.
    pub fn set(&mut self, id: &str, text: &str) {
        if text.is_empty() {
            self.0.remove(id);
        } else {
            let text: String = text.chars().take(MAX_DRAFT_CHARS).collect();
            self.0.insert(id.to_string(), text);
            while self.0.len() > MAX_DRAFTS {
                let oldest = self
                    .0
                    .keys()
                    .min_by_key(|k| (k.len(), k.as_str().to_owned()))
                    .cloned();
                match oldest {
                    Some(k) => self.0.remove(&k),
                    None => break,
                };
            }
        }
    }

    /// The drafts as JSON, for `localStorage`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// Drafts saved by [`Drafts::to_json`]; anything else gives none.
    pub fn from_json(s: &str) -> Self {
        let map: BTreeMap<String, String> = serde_json::from_str(s).unwrap_or_default();
        let mut drafts = Self::default();
        for (id, text) in map {
            drafts.set(&id, &text);
        }
        drafts
    }
}
