//! The inbox's shared state: signals created once at the root and handed to every
//! component through the context, plus the operations that change them.
use std::collections::HashMap;

use dioxus::prelude::*;
use graphql_client::GraphQLQuery;

use super::api::{self, ApiError};
use super::browser;
use crate::model::{
    Agent, AssigneeChoice, Conversation, ConversationList, ConversationStatus, Drafts, ListFilter,
    Page, PageLabels, Presence, Route, SyncJob, Threads, Viewers,
};

/// What the connection-state indicator says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// No live feed: no Page to follow (yet, or at all for an agent without Pages).
    Idle,
    /// The feed's first connection is being made.
    Connecting,
    Connected,
    /// The connection dropped; the feed is trying again.
    Reconnecting,
}

impl Connection {
    /// The indicator's `data-state` and style.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
        }
    }

    /// The indicator's text.
    pub fn label(self) -> &'static str {
        match self {
            Self::Idle => "no Page",
            other => other.as_str(),
        }
    }
}

/// Where a Page's first live feed starts: the event-log position the session load read
/// before the list was fetched. The list (fetched after it) needs no refetch when the
/// feed subscribes `after` it: the server replays whatever happened since, including
/// anything between the list's answer and the subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedStart {
    pub page_id: String,
    pub position: String,
    /// The threads already held when the position was read: their messages may be
    /// older than it (a link opened the chat while the session loaded).
    pub threads_before: Vec<String>,
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub token: Signal<Option<String>>,
    pub me: Signal<Option<Agent>>,
    pub pages: Signal<Vec<Page>>,
    pub page_id: Signal<Option<String>>,
    pub conversations: Signal<ConversationList>,
    pub status_filter: Signal<Option<ConversationStatus>>,
    /// Whose conversations the list holds (filtered by the server).
    pub assignee_filter: Signal<AssigneeChoice>,
    /// The "ending soon" view: open windows closing within 4 hours, soonest first.
    pub ending_soon: Signal<bool>,
    /// Only conversations carrying this label (filtered by the server).
    pub label_filter: Signal<Option<String>>,
    /// The selected Page's labels, kept by the live feed.
    pub labels: Signal<PageLabels>,
    /// The threads of the conversations opened so far, by conversation id.
    pub threads: Signal<Threads>,
    /// The unsent replies, by conversation id (also in `localStorage`).
    pub drafts: Signal<Drafts>,
    /// Where the agent left each conversation's message list (`scrollTop`); absent: at
    /// the newest. Not reactive: only read when a chat opens.
    pub scroll: CopyValue<HashMap<String, f64>>,
    pub route: Signal<Route>,
    pub connection: Signal<Connection>,
    pub presence: Signal<Vec<Presence>>,
    /// Who has which conversation open or is replying in it (the collision warning).
    pub viewers: Signal<Viewers>,
    pub sync_jobs: Signal<Vec<SyncJob>>,
    /// The image enlarged over the inbox (its URL), closed by Escape or a click.
    pub viewer: Signal<Option<String>>,
    /// The latest note that mentioned the signed-in agent, until opened or dismissed.
    pub mention: Signal<Option<crate::model::Note>>,
    pub now_ms: Signal<i64>,
    /// The search box's query and hits (kept while a hit is open).
    pub search: Signal<crate::model::search::Search>,
    /// The message a search hit opened (conversation id, message id): that chat scrolls
    /// to it and marks it.
    pub focus_message: Signal<Option<(String, String)>>,
    /// Left by the session load for the first live feed, taken by it (not reactive).
    pub feed_start: CopyValue<Option<FeedStart>>,
    /// Whether the customer panel is open beside the chat (kept across conversations).
    pub story_open: Signal<bool>,
    /// How many referrals the live feed brought: an open customer panel reloads on each.
    pub referrals_seen: Signal<u32>,
}

impl AppState {
    pub fn new() -> Self {
        Self {
            token: Signal::new(browser::load_token()),
            me: Signal::new(None),
            pages: Signal::new(Vec::new()),
            page_id: Signal::new(None),
            conversations: Signal::new(ConversationList::default()),
            status_filter: Signal::new(None),
            assignee_filter: Signal::new(AssigneeChoice::All),
            ending_soon: Signal::new(false),
            label_filter: Signal::new(None),
            labels: Signal::new(PageLabels::default()),
            threads: Signal::new(Threads::default()),
            drafts: Signal::new(browser::load_drafts()),
            scroll: CopyValue::new(HashMap::new()),
            route: Signal::new(Route::parse(&browser::hash())),
            connection: Signal::new(Connection::Idle),
            presence: Signal::new(Vec::new()),
            viewers: Signal::new(Viewers::default()),
            sync_jobs: Signal::new(Vec::new()),
            viewer: Signal::new(None),
            mention: Signal::new(None),
            now_ms: Signal::new(browser::now_ms()),
            search: Signal::new(Default::default()),
            focus_message: Signal::new(None),
            feed_start: CopyValue::new(None),
            story_open: Signal::new(false),
            referrals_seen: Signal::new(0),
        }
    }

    /// Runs an operation with the session; an ended session signs out.
    pub async fn gql<Q: GraphQLQuery>(
        self,
        vars: Q::Variables,
    ) -> Result<Q::ResponseData, ApiError> {
        self.gql_as::<Q, Q::ResponseData>(vars).await
    }

    /// Like [`AppState::gql`], decoding the answer as `T` (see `crate::ops`).
    /// Like [`Self::gql_as`], with `file` as the operation's `input.file`.
    pub async fn gql_file<Q: GraphQLQuery, T: serde::de::DeserializeOwned>(
        self,
        vars: Q::Variables,
        file: &web_sys::File,
    ) -> Result<T, ApiError> {
        let token = self.token.peek().clone();
        let result = api::call_with_file::<Q, T>(token.as_deref(), vars, file).await;
        if let Err(e) = &result
            && e.is_unauthenticated()
            && token.is_some()
        {
            self.forget_session();
        }
        result
    }

    pub async fn gql_as<Q: GraphQLQuery, T: serde::de::DeserializeOwned>(
        self,
        vars: Q::Variables,
    ) -> Result<T, ApiError> {
        let token = self.token.peek().clone();
        let result = api::call_as::<Q, T>(token.as_deref(), vars).await;
        if let Err(e) = &result
            && e.is_unauthenticated()
            && token.is_some()
        {
            self.forget_session();
        }
        result
    }

    /// Like [`Self::gql_as`], for a body built by `api::body`: the answer's data as JSON.
    pub async fn gql_body(self, body: String) -> Result<serde_json::Value, ApiError> {
        let token = self.token.peek().clone();
        let result = api::call_body(token.as_deref(), body).await;
        if let Err(e) = &result
            && e.is_unauthenticated()
            && token.is_some()
        {
            self.forget_session();
        }
        result
    }

    /// Starts a session after sign-in.
    pub fn sign_in(mut self, token: String, agent: Agent) {
        browser::save_token(Some(&token));
        self.me.set(Some(agent));
        self.token.set(Some(token));
    }

    /// Drops the session locally (signed out, or the server no longer knows it).
    pub fn forget_session(mut self) {
        browser::save_token(None);
        self.token.set(None);
        self.me.set(None);
        self.pages.set(Vec::new());
        self.page_id.set(None);
        self.conversations.set(ConversationList::default());
        self.threads.set(Threads::default());
        self.search.set(Default::default());
        self.focus_message.set(None);
        self.drafts.set(Drafts::default());
        browser::save_drafts(None);
        self.presence.set(Vec::new());
        self.viewers.set(Viewers::default());
        self.sync_jobs.set(Vec::new());
        self.feed_start.set(None);
        self.label_filter.set(None);
        self.labels.set(PageLabels::default());
    }

    /// The starting point the session load left for `page_id`'s feed, once.
    pub fn take_feed_start(mut self, page_id: &str) -> Option<FeedStart> {
        self.feed_start
            .write()
            .take()
            .filter(|start| start.page_id == page_id)
    }

    pub fn navigate(mut self, route: Route) {
        browser::set_hash(&route.hash());
        if *self.route.peek() != route {
            self.route.set(route);
        }
    }

    /// The conversation shown in the chat, if any.
    pub fn open_conversation(&self) -> Option<String> {
        match &*self.route.read() {
            Route::Chat(id) => Some(id.clone()),
            _ => None,
        }
    }

    /// The open conversation, read without subscribing (for tasks and handlers).
    pub fn open_conversation_now(&self) -> Option<String> {
        match &*self.route.peek() {
            Route::Chat(id) => Some(id.clone()),
            _ => None,
        }
    }

    /// The newest copy of a conversation, wherever it is shown: the list (as far as its
    /// filter keeps it) and the thread holding it.
    pub fn put_conversation(mut self, c: Conversation) {
        self.threads.write().put_conversation(&c);
        let filter = self.list_filter();
        let now = browser::now_ms();
        self.conversations.write().upsert(c, &filter, now);
    }

    /// What the list holds now (read without subscribing).
    pub fn list_filter(&self) -> ListFilter {
        ListFilter {
            status: *self.status_filter.peek(),
            assignee: self.assignee_filter.peek().clone(),
            ending_soon: *self.ending_soon.peek(),
            me: self.me.peek().as_ref().map(|m| m.id.clone()),
            label: self.label_filter.peek().clone(),
        }
    }

    /// Keeps the draft of conversation `id`, here and in `localStorage`.
    pub fn set_draft(mut self, id: &str, text: &str) {
        if self.drafts.peek().get(id) == text {
            return;
        }
        self.drafts.write().set(id, text);
        browser::save_drafts(Some(&self.drafts.peek().to_json()));
    }
}
