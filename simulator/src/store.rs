//! The in-memory state of the simulated world and the rules that keep it consistent.

use std::collections::HashMap;

use serde::Serialize;

use crate::ids;
use crate::model::{Content, Conversation, Customer, Message, Origin, Page};

/// Why a control request could not change the world.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Page ids are unique.
    #[error("page {0} already exists")]
    PageExists(String),
    /// No Page with that id.
    #[error("no page {0}")]
    NoSuchPage(String),
    /// PSIDs are unique.
    #[error("customer {0} already exists")]
    CustomerExists(String),
    /// No customer with that PSID on that Page.
    #[error("no customer {0} on page {1}")]
    NoSuchCustomer(String, String),
    /// Tokens are unique.
    #[error("token already belongs to another page")]
    TokenTaken,
}

/// Why a token does not open the Graph API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Never issued.
    Unknown,
    /// Issued, then revoked or replaced.
    Revoked,
}

/// A sender action the Page performed, for the control API's log.
#[derive(Clone, Debug, Serialize)]
pub struct SenderAction {
    /// The Page.
    pub page_id: String,
    /// The customer.
    pub recipient_id: String,
    /// mark_seen, typing_on or typing_off.
    pub sender_action: String,
    /// When, in ms.
    pub timestamp: i64,
}

/// Everything the simulator knows. Guarded by one mutex; no await happens while it is held.
#[derive(Default)]
pub struct Store {
    pages: HashMap<String, Page>,
    tokens: HashMap<String, String>,
    customers: HashMap<String, Customer>,
    conversations: HashMap<String, Conversation>,
    thread_of: HashMap<String, String>,
    messages: HashMap<String, Message>,
    sender_actions: Vec<SenderAction>,
    seq: u64,
}

impl Store {
    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Adds a Page.
    pub fn insert_page(&mut self, page: Page) -> Result<Page, StoreError> {
        if self.pages.contains_key(&page.id) {
            return Err(StoreError::PageExists(page.id));
        }
        if self.tokens.contains_key(&page.token) {
            return Err(StoreError::TokenTaken);
        }
        self.tokens.insert(page.token.clone(), page.id.clone());
        self.pages.insert(page.id.clone(), page.clone());
        Ok(page)
    }

    /// A Page by id.
    pub fn page(&self, id: &str) -> Option<&Page> {
        self.pages.get(id)
    }

    /// A Page by id, to change it.
    pub fn page_mut(&mut self, id: &str) -> Result<&mut Page, StoreError> {
        self.pages
            .get_mut(id)
            .ok_or_else(|| StoreError::NoSuchPage(id.to_owned()))
    }

    /// All Pages.
    pub fn pages(&self) -> impl Iterator<Item = &Page> {
        self.pages.values()
    }

    /// The Page a token opens, if it still opens one.
    pub fn page_for_token(&self, token: &str) -> Result<&Page, TokenProblem> {
        let page = self
            .tokens
            .get(token)
            .and_then(|id| self.pages.get(id))
            .ok_or(TokenProblem::Unknown)?;
        if page.revoked || page.token != token {
            return Err(TokenProblem::Revoked);
        }
        Ok(page)
    }

    /// Revokes a Page's token, as when the Page admin removes the app.
    pub fn revoke(&mut self, page_id: &str) -> Result<Page, StoreError> {
        let page = self.page_mut(page_id)?;
        page.revoked = true;
        Ok(page.clone())
    }

    /// Issues a new token, as when the Page is reconnected; the old one stays revoked.
    pub fn reissue_token(
        &mut self,
        page_id: &str,
        token: Option<String>,
    ) -> Result<Page, StoreError> {
        let token = token.unwrap_or_else(ids::page_token);
        if self
            .tokens
            .get(&token)
            .is_some_and(|owner| owner != page_id)
        {
            return Err(StoreError::TokenTaken);
        }
        let page = self.page_mut(page_id)?;
        page.token = token.clone();
        page.revoked = false;
        let page = page.clone();
        self.tokens.insert(token, page_id.to_owned());
        Ok(page)
    }

    /// Adds a customer to a Page.
    pub fn insert_customer(&mut self, customer: Customer) -> Result<Customer, StoreError> {
        if !self.pages.contains_key(&customer.page_id) {
            return Err(StoreError::NoSuchPage(customer.page_id));
        }
        if self.customers.contains_key(&customer.psid) {
            return Err(StoreError::CustomerExists(customer.psid));
        }
        self.customers
            .insert(customer.psid.clone(), customer.clone());
        Ok(customer)
    }

    /// A customer by PSID.
    pub fn customer(&self, psid: &str) -> Option<&Customer> {
        self.customers.get(psid)
    }

    /// A customer of one Page.
    pub fn customer_of(&self, page_id: &str, psid: &str) -> Result<&Customer, StoreError> {
        self.customers
            .get(psid)
            .filter(|c| c.page_id == page_id)
            .ok_or_else(|| StoreError::NoSuchCustomer(psid.to_owned(), page_id.to_owned()))
    }

    /// Customers of one Page.
    pub fn customers_of<'a>(&'a self, page_id: &'a str) -> impl Iterator<Item = &'a Customer> {
        self.customers
            .values()
            .filter(move |c| c.page_id == page_id)
    }

    /// Stores a message in the thread of `psid`, opening the thread on its first message.
    pub fn record(
        &mut self,
        page_id: &str,
        psid: &str,
        from_page: bool,
        timestamp: i64,
        content: Content,
        origin: Origin,
    ) -> Result<Message, StoreError> {
        self.customer_of(page_id, psid)?;
        let conversation_id = match self.thread_of.get(psid) {
            Some(id) => id.clone(),
            None => self.open_thread(page_id, psid),
        };
        self.seq += 1;
        let message = Message {
            mid: ids::mid(),
            seq: self.seq,
            conversation_id: conversation_id.clone(),
            page_id: page_id.to_owned(),
            psid: psid.to_owned(),
            from_page,
            timestamp,
            text: content.text,
            attachments: content.attachments,
            quick_reply: content.quick_reply,
            reply_to: content.reply_to,
            metadata: content.metadata,
            messaging_type: content.messaging_type,
            tag: content.tag,
            origin,
        };
        if let Some(thread) = self.conversations.get_mut(&conversation_id) {
            thread.updated_ms = thread.updated_ms.max(timestamp);
            thread.mids.push(message.mid.clone());
            if from_page {
                thread.page_read_ms = thread.page_read_ms.max(timestamp);
            }
        }
        self.messages.insert(message.mid.clone(), message.clone());
        Ok(message)
    }

    fn open_thread(&mut self, page_id: &str, psid: &str) -> String {
        let mut id = ids::conversation_id();
        while self.conversations.contains_key(&id) {
            id = ids::conversation_id();
        }
        let thread = Conversation {
            id: id.clone(),
            page_id: page_id.to_owned(),
            psid: psid.to_owned(),
            updated_ms: i64::MIN,
            mids: Vec::new(),
            page_read_ms: i64::MIN,
        };
        self.conversations.insert(id.clone(), thread);
        self.thread_of.insert(psid.to_owned(), id.clone());
        id
    }

    /// A thread by id.
    pub fn conversation(&self, id: &str) -> Option<&Conversation> {
        self.conversations.get(id)
    }

    /// The thread with a customer, if they ever wrote.
    pub fn conversation_with(&self, psid: &str) -> Option<&Conversation> {
        self.thread_of
            .get(psid)
            .and_then(|id| self.conversations.get(id))
    }

    /// A Page's threads, newest `updated_time` first (ties: higher id first).
    pub fn conversations_newest_first(&self, page_id: &str) -> Vec<&Conversation> {
        let mut threads: Vec<&Conversation> = self
            .conversations
            .values()
            .filter(|c| c.page_id == page_id && !c.mids.is_empty())
            .collect();
        threads.sort_by(|a, b| {
            b.updated_ms
                .cmp(&a.updated_ms)
                .then_with(|| b.id.cmp(&a.id))
        });
        threads
    }

    /// A thread's messages, newest first.
    pub fn messages_newest_first(&self, conversation_id: &str) -> Vec<&Message> {
        let mut list: Vec<&Message> = self
            .conversations
            .get(conversation_id)
            .map(|c| c.mids.iter().filter_map(|m| self.messages.get(m)).collect())
            .unwrap_or_default();
        list.sort_by(|a, b| {
            b.timestamp
                .cmp(&a.timestamp)
                .then_with(|| b.seq.cmp(&a.seq))
        });
        list
    }

    /// A message by mid.
    pub fn message(&self, mid: &str) -> Option<&Message> {
        self.messages.get(mid)
    }

    /// When the customer last wrote: the start of the messaging window.
    pub fn last_customer_message_ms(&self, psid: &str) -> Option<i64> {
        let thread = self.conversation_with(psid)?;
        thread
            .mids
            .iter()
            .filter_map(|m| self.messages.get(m))
            .filter(|m| !m.from_page)
            .map(|m| m.timestamp)
            .max()
    }

    /// Customer messages the Page has not read yet.
    pub fn unread_count(&self, thread: &Conversation) -> usize {
        thread
            .mids
            .iter()
            .filter_map(|m| self.messages.get(m))
            .filter(|m| !m.from_page && m.timestamp > thread.page_read_ms)
            .count()
    }

    /// Records a sender action; `mark_seen` reads the thread.
    pub fn sender_action(&mut self, action: SenderAction) {
        if action.sender_action == "mark_seen"
            && let Some(id) = self.thread_of.get(&action.recipient_id)
            && let Some(thread) = self.conversations.get_mut(id)
        {
            thread.page_read_ms = thread.page_read_ms.max(action.timestamp);
        }
        self.sender_actions.push(action);
    }

    /// Sender actions a Page performed, oldest first.
    pub fn sender_actions_of(&self, page_id: &str) -> Vec<SenderAction> {
        self.sender_actions
            .iter()
            .filter(|a| a.page_id == page_id)
            .cloned()
            .collect()
    }

    /// Messages the Page sent (Send API and Page Inbox), oldest first.
    pub fn sent_by(&self, page_id: &str) -> Vec<Message> {
        let mut sent: Vec<Message> = self
            .messages
            .values()
            .filter(|m| m.page_id == page_id && m.from_page && m.origin != Origin::Seed)
            .cloned()
            .collect();
        sent.sort_by_key(|m| m.seq);
        sent
    }
}
