//! Live updates: each subscriber's stream is the bus filtered to what it asked for.
use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};

use super::parse_id;
use super::types::{Conversation, Message};
use crate::bus::BusEvent;
use crate::state::AppState;

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Each new message of one conversation, once committed.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> Result<impl Stream<Item = Message> + use<>> {
        let id = parse_id(&conversation_id, "conversationId")?;
        let state = ctx.data::<AppState>()?;
        Ok(state.bus.subscribe().filter_map(move |event| {
            let found = match &*event {
                BusEvent::MessageAdded(m) if m.conversation_id == id => Some(Message(m.clone())),
                _ => None,
            };
            futures::future::ready(found)
        }))
    }

    /// A message of one conversation whose status changed (sent, delivered, read, failed).
    async fn message_updated(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> Result<impl Stream<Item = Message> + use<>> {
        let id = parse_id(&conversation_id, "conversationId")?;
        let state = ctx.data::<AppState>()?;
        Ok(state.bus.subscribe().filter_map(move |event| {
            let found = match &*event {
                BusEvent::MessageUpdated(m) if m.conversation_id == id => Some(Message(m.clone())),
                _ => None,
            };
            futures::future::ready(found)
        }))
    }

    /// Any change to one of a Page's conversations: the conversation as it is now.
    async fn conversation_updated(
        &self,
        ctx: &Context<'_>,
        page_id: ID,
    ) -> Result<impl Stream<Item = Conversation> + use<>> {
        let state = ctx.data::<AppState>()?;
        let page_id = page_id.0;
        Ok(state.bus.subscribe().filter_map(move |event| {
            let found = match &*event {
                BusEvent::ConversationUpdated(c) if c.page_id == page_id => {
                    Some(Conversation(c.clone()))
                }
                _ => None,
            };
            futures::future::ready(found)
        }))
    }
}
