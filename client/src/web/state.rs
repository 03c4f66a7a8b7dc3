//! The inbox's shared state: signals created once at the root and handed to every
//! component through the context, plus the operations that change them.
use dioxus::prelude::*;
use graphql_client::GraphQLQuery;

use super::api::{self, ApiError};
use super::browser;
use crate::model::{
    Agent, ConversationList, ConversationStatus, MessageList, Page, Presence, Route, SyncJob,
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

#[derive(Clone, Copy)]
pub struct AppState {
    pub token: Signal<Option<String>>,
    pub me: Signal<Option<Agent>>,
    pub pages: Signal<Vec<Page>>,
    pub page_id: Signal<Option<String>>,
    pub conversations: Signal<ConversationList>,
    pub status_filter: Signal<Option<ConversationStatus>>,
    pub mine_only: Signal<bool>,
    pub messages: Signal<MessageList>,
    pub route: Signal<Route>,
    pub connection: Signal<Connection>,
    pub presence: Signal<Vec<Presence>>,
    pub sync_jobs: Signal<Vec<SyncJob>>,
    pub now_ms: Signal<i64>,
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
            mine_only: Signal::new(false),
            messages: Signal::new(MessageList::default()),
            route: Signal::new(Route::parse(&browser::hash())),
            connection: Signal::new(Connection::Idle),
            presence: Signal::new(Vec::new()),
            sync_jobs: Signal::new(Vec::new()),
            now_ms: Signal::new(browser::now_ms()),
        }
    }

    /// Runs an operation with the session; an ended session signs out.
    pub async fn gql<Q: GraphQLQuery>(
        self,
        vars: Q::Variables,
    ) -> Result<Q::ResponseData, ApiError> {
        let token = self.token.peek().clone();
        let result = api::call::<Q>(token.as_deref(), vars).await;
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
        self.messages.set(MessageList::default());
        self.presence.set(Vec::new());
        self.sync_jobs.set(Vec::new());
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
}
