//! What the inbox keeps in memory, and the rules for merging what the server sends.
//!
//! Everything here is plain Rust, free of the browser, so it is tested on the host.
//! Every update is an idempotent upsert by id: a replayed or repeated event never
//! duplicates a conversation or a message, and never moves a message's status back.
use serde::{Deserialize, Serialize};

pub mod alerts;
pub mod follow_ups;
pub mod keys;
pub mod labels;
pub mod notes;
pub mod search;
pub mod story;
pub mod threads;
pub mod time;
pub mod voices;

pub use follow_ups::{AssigneeChoice, ListFilter, SnoozeChoice};
pub use labels::{Label, PageLabels};
pub use notes::Note;
pub use threads::{Drafts, Threads};
pub use time::{format_left, parse_rfc3339, relative_time};
pub use voices::{Activity, ActivityChange, ViewerState, Viewers};

/// Defines an enum shared by every generated operation (`extern_enums`), with a
/// catch-all so a value added on the server does not break decoding.
macro_rules! schema_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum $name {
            $($variant,)*
            #[serde(other)]
            Unknown,
        }

        // Not every enum needs every helper.
        #[allow(dead_code)]
        impl $name {
            /// The schema's name of the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant),)*
                    Self::Unknown => "UNKNOWN",
                }
            }

            /// Every value the client knows, in the schema's order.
            pub const ALL: &'static [$name] = &[$(Self::$variant),*];

            /// Parses the schema's name of a value.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

schema_enum!(AgentRole { ADMIN, AGENT });
schema_enum!(AttachmentType {
    IMAGE,
    AUDIO,
    VIDEO,
    FILE
});
schema_enum!(ConversationStatus {
    OPEN,
    PENDING,
    RESOLVED,
    SNOOZED
});
schema_enum!(MessageDirection { INBOUND, OUTBOUND });
schema_enum!(MessageStatus {
    PENDING,
    SENT,
    DELIVERED,
    READ,
    FAILED
});
schema_enum!(PresenceStatus {
    ONLINE,
    AWAY,
    OFFLINE
});
schema_enum!(ActivityKind {
    STATUS,
    ASSIGNEE,
    SNOOZE
});
schema_enum!(ConversationPresenceState {
    VIEWING,
    TYPING,
    NONE
});
schema_enum!(SyncStatus {
    RUNNING,
    DONE,
    FAILED
});

impl ConversationStatus {
    /// How the status reads in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::OPEN => "Open",
            Self::PENDING => "Pending",
            Self::RESOLVED => "Resolved",
            Self::SNOOZED => "Snoozed",
            Self::Unknown => "Unknown",
        }
    }
}

impl MessageStatus {
    /// Statuses only move forward: a late or replayed event never undoes a newer one.
    fn rank(self) -> u8 {
        match self {
            Self::PENDING | Self::Unknown => 0,
            Self::SENT | Self::FAILED => 1,
            Self::DELIVERED => 2,
            Self::READ => 3,
        }
    }
}

/// Meta's own Page Inbox (Meta Business Suite) as the sending app of an echo.
pub const META_INBOX_APP_ID: &str = "263902037430900";

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: AgentRole,
}

/// An agent as a conversation's assignee.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub id: String,
    pub name: Option<String>,
    pub connected: bool,
    pub needs_reconnect: bool,
    /// It needs reconnecting because its token lacks a permission (not a refused token).
    pub permission_missing: bool,
    /// The Page's latest event-log position: where a fresh live feed starts.
    pub event_position: String,
    /// Unread messages over all its conversations, listed or not (the tab shows it).
    pub unread_total: i64,
}

impl Page {
    /// The Page's name, or its id until the name is known.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("Page {}", self.id))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: String,
    pub page_id: String,
    pub customer_psid: String,
    pub customer_name: Option<String>,
    pub customer_picture: Option<String>,
    pub last_message_text: Option<String>,
    pub last_timestamp: String,
    pub unread_count: i64,
    pub status: ConversationStatus,
    pub assignee: Option<AgentRef>,
    pub window_expires_at: Option<String>,
    pub human_agent_window_expires_at: Option<String>,
    /// While SNOOZED: when it wakes by itself.
    pub snoozed_until: Option<String>,
    /// Its labels, as the server last sent them (`PageLabels::of` shows them).
    pub labels: Vec<Label>,
}

impl Conversation {
    /// The customer's name, or a stable stand-in built from the PSID.
    pub fn customer_label(&self) -> String {
        match &self.customer_name {
            Some(name) if !name.trim().is_empty() => name.clone(),
            _ => {
                let tail: String = self.customer_psid.chars().rev().take(4).collect();
                format!("Customer …{}", tail.chars().rev().collect::<String>())
            }
        }
    }

    /// One or two letters for the avatar when there is no picture.
    pub fn initials(&self) -> String {
        let label = self.customer_label();
        let mut words = label.split_whitespace().filter_map(|w| w.chars().next());
        let first = words.next().unwrap_or('?');
        let letters = match words.next() {
            Some(second) if self.customer_name.is_some() => format!("{first}{second}"),
            _ => first.to_string(),
        };
        to_upper(&letters)
    }

    /// Where this conversation stands against Messenger's reply windows at `now_ms`.
    pub fn window(&self, now_ms: i64) -> Window {
        let left = |t: &Option<String>| {
            t.as_deref()
                .and_then(parse_rfc3339)
                .map(|until| until - now_ms)
        };
        match (
            left(&self.window_expires_at),
            left(&self.human_agent_window_expires_at),
        ) {
            (Some(standard), human) if standard > 0 => Window::Standard {
                left_ms: standard,
                human_left_ms: human.unwrap_or(standard).max(standard),
            },
            (_, Some(human)) if human > 0 => Window::HumanAgent { left_ms: human },
            (None, None) => Window::Unknown,
            _ => Window::Closed,
        }
    }

    pub(crate) fn sort_key(&self) -> (i64, i64) {
        (
            parse_rfc3339(&self.last_timestamp).unwrap_or(0),
            self.id.parse().unwrap_or(0),
        )
    }
}

/// The messaging windows: 24 hours after the customer's last message a standard
/// reply, then until 7 days a reply tagged HUMAN_AGENT, then nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Standard {
        left_ms: i64,
        human_left_ms: i64,
    },
    HumanAgent {
        left_ms: i64,
    },
    Closed,
    /// The customer never wrote (or the server did not say).
    Unknown,
}

impl Window {
    /// A short state name for `data-window`.
    pub fn state(self) -> &'static str {
        match self {
            Self::Standard { .. } => "standard",
            Self::HumanAgent { .. } => "human-agent",
            Self::Closed => "closed",
            Self::Unknown => "unknown",
        }
    }

    /// How close the window that applies is to closing, for `data-urgency` and the
    /// chip's colour: `calm`, `soon` (under 4 hours left: amber), `urgent` (under an hour:
    /// red), `closed`, `unknown`. In the standard window that is the 24-hour one (after it,
    /// only a HUMAN_AGENT reply may go out); then the 7-day human agent one.
    pub fn urgency(self) -> &'static str {
        const HOUR_MS: i64 = 3_600_000;
        let left = match self {
            Self::Standard { left_ms, .. } | Self::HumanAgent { left_ms } => left_ms,
            Self::Closed => return "closed",
            Self::Unknown => return "unknown",
        };
        if left < HOUR_MS {
            "urgent"
        } else if left < 4 * HOUR_MS {
            "soon"
        } else {
            "calm"
        }
    }

    /// Whether Facebook takes a reply now (the server refuses one outside both windows,
    /// and when the customer never wrote).
    pub fn open(self) -> bool {
        matches!(self, Self::Standard { .. } | Self::HumanAgent { .. })
    }

    /// What the indicator says.
    pub fn describe(self) -> String {
        match self {
            Self::Standard {
                left_ms,
                human_left_ms,
            } => format!(
                "Reply window: {} left · human agent {}",
                format_left(left_ms),
                format_left(human_left_ms)
            ),
            Self::HumanAgent { left_ms } => format!(
                "24 h window closed · human agent reply: {} left",
                format_left(left_ms)
            ),
            Self::Closed => "Outside the messaging window: replies are refused".to_string(),
            Self::Unknown => "No message from the customer yet".to_string(),
        }
    }
}

/// The largest file Facebook takes (Saving Assets: 25 MB); the server may allow less.
pub const MAX_FILE_BYTES: f64 = 25.0 * 1024.0 * 1024.0;

/// A file's size as people read it: `812 B`, `4.2 KB`, `12.5 MB` (integer arithmetic: float
/// formatting would weigh kilobytes of wasm).
pub fn format_size(bytes: f64) -> String {
    let bytes = bytes.max(0.0) as u64;
    let (value, unit) = if bytes < 1024 {
        return format!("{bytes} B");
    } else if bytes < 1024 * 1024 {
        ((bytes * 10 + 512) / 1024, "KB")
    } else {
        ((bytes * 10 + 512 * 1024) / (1024 * 1024), "MB")
    };
    format!("{}.{} {unit}", value / 10, value % 10)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub kind: String,
    pub url: Option<String>,
    pub title: Option<String>,
    /// A file's name (the server's: its title, else the end of its URL).
    pub name: Option<String>,
    /// A location on OpenStreetMap.
    pub map_url: Option<String>,
}

/// How an attachment is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Inline, enlarged on a click.
    Image,
    /// Inline, small, as sent.
    Sticker,
    Video,
    Audio,
    /// A link with a label (a file's name, a location's or shared link's title).
    Link,
    /// Nothing to open: its type in brackets.
    Bare,
}

impl Attachment {
    pub fn shown(&self) -> Shown {
        if self.kind == "location" && self.map_url.is_some() {
            return Shown::Link;
        }
        if self.url.is_none() {
            return Shown::Bare;
        }
        match to_lower(&self.kind).as_str() {
            "image" => Shown::Image,
            "sticker" => Shown::Sticker,
            "video" => Shown::Video,
            "audio" => Shown::Audio,
            _ => Shown::Link,
        }
    }

    /// Where a link leads: a location's map, else the attachment's URL.
    pub fn href(&self) -> Option<&str> {
        self.map_url.as_deref().or(self.url.as_deref())
    }

    /// A link's text, with a sign of its kind.
    pub fn label(&self) -> String {
        let (sign, fallback) = match self.kind.as_str() {
            "file" => ("📎", "File"),
            "location" => ("📍", "Location"),
            "fallback" => ("🔗", "Link"),
            "audio" => ("🔊", "Audio"),
            "video" => ("🎬", "Video"),
            _ => ("📎", self.kind.as_str()),
        };
        let text = self
            .name
            .as_deref()
            .or(self.title.as_deref())
            .filter(|t| !t.trim().is_empty())
            .or(if self.kind == "fallback" {
                self.url.as_deref()
            } else {
                None
            })
            .unwrap_or(fallback);
        format!("{sign} {text}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub mid: String,
    pub conversation_id: String,
    pub direction: MessageDirection,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    /// The emoji the customer reacted with (one per person).
    pub reactions: Vec<String>,
    /// How many times the customer edited it (0: never).
    pub edit_count: i64,
    pub timestamp: String,
    pub status: MessageStatus,
    pub error_code: Option<String>,
    pub client_mutation_id: Option<String>,
    pub app_id: Option<String>,
    /// The agent who sent it from MessengerFlow (outbound only).
    pub sender_name: Option<String>,
    /// The server's name for the tool that sent an outbound message.
    pub echo_label: Option<String>,
    /// The message tag a reply was sent with (`HUMAN_AGENT`), if any.
    pub tag: Option<String>,
    /// Why sending failed before the server stored anything (the mutation's error).
    pub local_error: Option<String>,
}

impl Message {
    /// An optimistic message, shown at once while `sendMessage` is under way.
    pub fn pending(conversation_id: &str, client_mutation_id: &str, text: &str, now: &str) -> Self {
        Self {
            id: local_id(client_mutation_id),
            mid: String::new(),
            conversation_id: conversation_id.to_string(),
            direction: MessageDirection::OUTBOUND,
            text: Some(text.to_string()),
            attachments: Vec::new(),
            reactions: Vec::new(),
            edit_count: 0,
            timestamp: now.to_string(),
            status: MessageStatus::PENDING,
            error_code: None,
            client_mutation_id: Some(client_mutation_id.to_string()),
            app_id: None,
            sender_name: None,
            echo_label: None,
            tag: None,
            local_error: None,
        }
    }

    /// Only in the browser so far: the server has not answered the send.
    pub fn is_local(&self) -> bool {
        self.id.starts_with(LOCAL_PREFIX)
    }

    /// An outbound message that did not come from an inbox send: the Page wrote it in
    /// another tool (Meta Business Suite, the Messenger app, another integration).
    pub fn is_echo(&self) -> bool {
        self.direction == MessageDirection::OUTBOUND
            && self.client_mutation_id.is_none()
            && self.sender_name.is_none()
    }

    /// Where an echo was written: the server's label, or one from the app id.
    pub fn echo_source(&self) -> String {
        if let Some(label) = &self.echo_label {
            return label.clone();
        }
        match self.app_id.as_deref() {
            Some(META_INBOX_APP_ID) | None => "Facebook Page Inbox / Business Suite".to_string(),
            Some(other) => format!("another app (id {other})"),
        }
    }

    /// A reply sent in the human agent window (after the 24 hours), with its tag.
    pub fn is_human_agent(&self) -> bool {
        self.tag.as_deref() == Some("HUMAN_AGENT")
    }

    /// The failure's reason code, from the server or from the refused mutation.
    pub fn failure(&self) -> Option<&str> {
        if self.status != MessageStatus::FAILED {
            return None;
        }
        self.error_code
            .as_deref()
            .or(self.local_error.as_deref())
            .or(Some("UNKNOWN"))
    }

    fn sort_key(&self) -> (i64, bool, i64) {
        (
            parse_rfc3339(&self.timestamp).unwrap_or(i64::MAX),
            self.is_local(),
            self.id.parse().unwrap_or(0),
        )
    }
}

const LOCAL_PREFIX: &str = "local:";

/// The id an optimistic message has until the server's copy replaces it.
pub fn local_id(client_mutation_id: &str) -> String {
    format!("{LOCAL_PREFIX}{client_mutation_id}")
}

/// Human words for the error codes a send can fail with.
pub fn explain_error(code: &str) -> &'static str {
    match code {
        "OUTSIDE_MESSAGING_WINDOW" => "Outside the messaging window: the customer must write first",
        "PAGE_NEEDS_RECONNECT" => "The Page must be reconnected in Settings",
        "RATE_LIMITED" => "Facebook is rate limiting this Page; retry in a moment",
        "GRAPH_API_ERROR" => "Facebook refused the message",
        "BAD_USER_INPUT" => "The message was refused as invalid",
        "NETWORK" => "No connection to the server",
        "UNAUTHENTICATED" => "Your session has ended",
        "NOT_FOUND" => "The conversation is gone",
        "FORBIDDEN" => "Not allowed: the Page may need reconnecting in Settings",
        _ => "Sending failed",
    }
}

/// The conversations of one Page, newest first, as far as they are loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationList {
    pub items: Vec<Conversation>,
    pub end_cursor: Option<String>,
    pub has_next: bool,
    pub loaded: bool,
    /// Counts the single updates ([`ConversationList::upsert`]: live events, mutation
    /// answers), so a fetch can tell which copies arrived while it travelled.
    updates: u64,
    /// The count at each conversation's latest single update.
    updated_at: std::collections::HashMap<String, u64>,
}

impl ConversationList {
    /// Puts a conversation where it belongs now, replacing the copy with its id.
    /// A conversation that no longer matches the status filter leaves the list.
    /// Puts a conversation where it belongs now in a list of `filter` (status, assignee,
    /// ending soon) at `now`, replacing the copy with its id. A conversation that no
    /// longer passes the filter leaves the list. For a copy that is the newest the
    /// client knows of (a live event, a mutation's answer): a page fetched before it
    /// does not overwrite it.
    pub fn upsert(&mut self, c: Conversation, filter: &ListFilter, now: i64) {
        self.updates += 1;
        self.updated_at.insert(c.id.clone(), self.updates);
        self.place(c, filter, now);
    }

    fn place(&mut self, c: Conversation, filter: &ListFilter, now: i64) {
        self.items.retain(|it| it.id != c.id);
        if filter.matches(&c, now) {
            let at = self
                .items
                .iter()
                .position(|it| filter.before(&c, it))
                .unwrap_or(self.items.len());
            self.items.insert(at, c);
        }
    }

    /// Empties the list to load it again; what it knows of single updates stays, so a
    /// fetch that started before still cannot overwrite a newer copy.
    pub fn clear(&mut self) {
        self.items.clear();
        self.end_cursor = None;
        self.has_next = false;
        self.loaded = false;
    }

    /// Taken when a fetch starts; give it to [`ConversationList::merge_fetched`].
    pub fn mark(&self) -> u64 {
        self.updates
    }

    /// Merges a page of results (first page, next page or a refetch after a gap).
    pub fn merge_page(
        &mut self,
        nodes: Vec<Conversation>,
        filter: &ListFilter,
        now: i64,
        next: Option<(Option<String>, bool)>,
    ) {
        self.merge_fetched(nodes, filter, now, next, u64::MAX);
    }

    /// Merges a page fetched from [`ConversationList::mark`] `since`: a conversation
    /// updated singly after that keeps its newer copy (a live event that overtook the
    /// page, or that the page was read before), so paging never moves one back.
    pub fn merge_fetched(
        &mut self,
        nodes: Vec<Conversation>,
        filter: &ListFilter,
        now: i64,
        next: Option<(Option<String>, bool)>,
        since: u64,
    ) {
        for c in nodes {
            let newer_here = self.updated_at.get(&c.id).is_some_and(|&at| at > since);
            if !newer_here {
                self.place(c, filter, now);
            }
        }
        if let Some((cursor, has_next)) = next {
            self.end_cursor = cursor;
            self.has_next = has_next;
        }
        self.loaded = true;
    }

    pub fn get(&self, id: &str) -> Option<&Conversation> {
        self.items.iter().find(|c| c.id == id)
    }
}

/// The loaded messages of one conversation, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageList {
    pub conversation_id: String,
    pub items: Vec<Message>,
    pub start_cursor: Option<String>,
    pub has_previous: bool,
    pub loaded: bool,
}

impl MessageList {
    pub fn new(conversation_id: &str) -> Self {
        Self {
            conversation_id: conversation_id.to_string(),
            ..Self::default()
        }
    }

    /// Drops the message with this id (the server merged it into another).
    pub fn remove(&mut self, id: &str) {
        self.items.retain(|it| it.id != id);
    }

    /// Adds or updates a message, matched by id or by the client mutation id that
    /// the optimistic copy carries. Messages of other conversations are ignored.
    pub fn upsert(&mut self, m: Message) {
        if m.conversation_id != self.conversation_id {
            return;
        }
        let same = |it: &Message| {
            it.id == m.id
                || (m.client_mutation_id.is_some() && it.client_mutation_id == m.client_mutation_id)
        };
        let merged = match self.items.iter().position(same) {
            Some(i) => {
                let old = self.items.remove(i);
                merge_message(old, m)
            }
            None => m,
        };
        let key = merged.sort_key();
        let at = self
            .items
            .iter()
            .position(|it| it.sort_key() > key)
            .unwrap_or(self.items.len());
        self.items.insert(at, merged);
    }

    /// Adds an older page (scrolling up) or the newest one (first load, gap fill).
    pub fn merge_page(&mut self, nodes: Vec<Message>, previous: Option<(Option<String>, bool)>) {
        for m in nodes {
            self.upsert(m);
        }
        if let Some((cursor, has_previous)) = previous {
            self.start_cursor = cursor;
            self.has_previous = has_previous;
        }
        self.loaded = true;
    }

    /// Marks the optimistic message of `client_mutation_id` failed before the server
    /// stored it.
    pub fn fail_local(&mut self, client_mutation_id: &str, code: &str) {
        let id = local_id(client_mutation_id);
        if let Some(m) = self.items.iter_mut().find(|m| m.id == id) {
            m.status = MessageStatus::FAILED;
            m.local_error = Some(code.to_string());
        }
    }

    /// Whether the server refused a reply as outside the messaging window since the
    /// customer last wrote: then nothing can be sent until they write again, whatever
    /// this browser's clock makes of the window.
    pub fn refused_outside_window(&self) -> bool {
        let last_inbound = self
            .items
            .iter()
            .rposition(|m| m.direction == MessageDirection::INBOUND);
        self.items.iter().enumerate().any(|(i, m)| {
            m.failure() == Some("OUTSIDE_MESSAGING_WINDOW") && last_inbound.is_none_or(|at| i > at)
        })
    }

    /// Drops a message that exists only in the browser (before a retry).
    pub fn remove_local(&mut self, id: &str) {
        self.items.retain(|m| !(m.id == id && m.is_local()));
    }
}

fn merge_message(old: Message, new: Message) -> Message {
    let status = if new.status.rank() >= old.status.rank() {
        new.status
    } else {
        old.status
    };
    let local_error = if new.is_local() {
        new.local_error.clone()
    } else {
        None
    };
    Message {
        status,
        error_code: new.error_code.clone().or(old.error_code),
        local_error,
        ..new
    }
}

/// An agent and its presence, as shown by the dots.
#[derive(Debug, Clone, PartialEq)]
pub struct Presence {
    pub agent: Agent,
    pub status: PresenceStatus,
}

/// Replaces the presence of one agent, keeping the list sorted by name.
pub fn upsert_presence(list: &mut Vec<Presence>, p: Presence) {
    list.retain(|it| it.agent.id != p.agent.id);
    list.push(p);
    list.sort_by_key(|a| to_lower(&a.agent.name));
}

/// Unicode upper case (the avatar's initials) and lower case (agents' order, an
/// attachment's kind).
/// In the browser its own (`String.prototype.toUpperCase`, the same mapping):
/// `str::to_uppercase` and `to_lowercase` would bring Rust's case tables, about 10 KiB of
/// gzipped wasm.
#[cfg(target_arch = "wasm32")]
fn to_upper(s: &str) -> String {
    js_sys::JsString::from(s).to_upper_case().into()
}

#[cfg(target_arch = "wasm32")]
fn to_lower(s: &str) -> String {
    js_sys::JsString::from(s).to_lower_case().into()
}

#[cfg(not(target_arch = "wasm32"))]
fn to_upper(s: &str) -> String {
    s.to_uppercase()
}

#[cfg(not(target_arch = "wasm32"))]
fn to_lower(s: &str) -> String {
    s.to_lowercase()
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncJob {
    pub id: String,
    pub page_id: String,
    pub status: SyncStatus,
    pub conversations: i64,
    pub messages: i64,
    pub error: Option<String>,
    /// Conversations to import, once the server has counted them.
    pub total: Option<i64>,
}

/// The screens, addressed by the URL's hash so a reload or a link opens the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Inbox,
    Chat(String),
    Settings,
}

impl Route {
    pub fn parse(hash: &str) -> Self {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        match path.split('/').collect::<Vec<_>>().as_slice() {
            ["c", id] if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => {
                Self::Chat((*id).to_string())
            }
            ["settings"] => Self::Settings,
            _ => Self::Inbox,
        }
    }

    pub fn hash(&self) -> String {
        match self {
            Self::Inbox => "#/".to_string(),
            Self::Chat(id) => format!("#/c/{id}"),
            Self::Settings => "#/settings".to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
