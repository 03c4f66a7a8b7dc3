//! Control of messages: customers writing, people answering in the Page Inbox,
//! raw webhook events, and what the Page sent.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::pages::body;
use super::{ControlError, ControlResult};
use crate::model::{Attachment, Content, Message};
use crate::sim::Sim;
use crate::store::StoreError;
use crate::webhook::{Delivery, Outgoing};
use crate::{ids, time};

/// An attachment in a control request: `url` for media, or a raw Facebook `payload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    /// image, audio, video, file, location, sticker, fallback...
    #[serde(rename = "type")]
    pub kind: String,
    /// Media URL; a placeholder CDN URL when neither this nor `payload` is given.
    pub url: Option<String>,
    /// The webhook payload as is, e.g. `{"coordinates":{"lat":..,"long":..}}`.
    pub payload: Option<Value>,
    /// Optional title.
    pub title: Option<String>,
}

impl AttachmentInput {
    fn into_attachment(self) -> Attachment {
        let payload = self.payload.unwrap_or_else(|| {
            let url = self.url.unwrap_or_else(|| {
                format!(
                    "https://scontent.xx.fbcdn.net/v/t1.15752-9/{}_n.jpg",
                    ids::numeric(17)
                )
            });
            json!({ "url": url })
        });
        Attachment {
            kind: self.kind,
            payload,
            title: self.title,
        }
    }
}

/// `POST /_sim/pages/{page_id}/customers/{psid}/messages`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerMessage {
    /// Text.
    pub text: Option<String>,
    /// Attachments.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    /// The payload of a tapped quick reply.
    pub quick_reply_payload: Option<String>,
    /// The mid this message replies to.
    pub reply_to: Option<String>,
    /// Creation time in ms, to make a message old (outside the 24-hour or 7-day window).
    pub timestamp: Option<i64>,
    /// Alternatively: how many seconds ago it was written.
    pub ago_secs: Option<u64>,
    /// Default true: post the webhook.
    pub webhook: Option<bool>,
}

impl CustomerMessage {
    /// A text message written now.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

/// What a control message request answers.
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    /// The new mid.
    pub mid: String,
    /// The thread.
    pub conversation_id: String,
    /// Creation time, ms.
    pub timestamp: i64,
}

impl From<&Message> for Stored {
    fn from(message: &Message) -> Self {
        Self {
            mid: message.mid.clone(),
            conversation_id: message.conversation_id.clone(),
            timestamp: message.timestamp,
        }
    }
}

/// A customer writes to a Page: stored, and posted as a webhook.
pub fn customer_says(
    sim: &Sim,
    page_id: &str,
    psid: &str,
    input: CustomerMessage,
) -> Result<Message, ControlError> {
    if input.text.as_deref().is_none_or(str::is_empty) && input.attachments.is_empty() {
        return Err(ControlError::bad_request(
            "a message needs text or attachments",
        ));
    }
    let timestamp = match (input.timestamp, input.ago_secs) {
        (Some(at), _) => Some(at),
        (None, Some(ago)) => {
            let ago_ms = i64::try_from(ago)
                .unwrap_or(i64::MAX / 2000)
                .saturating_mul(1000);
            Some(time::now_ms().saturating_sub(ago_ms))
        }
        (None, None) => None,
    };
    let content = Content {
        text: input.text,
        attachments: input
            .attachments
            .into_iter()
            .map(AttachmentInput::into_attachment)
            .collect(),
        quick_reply: input.quick_reply_payload,
        reply_to: input.reply_to,
        ..Content::default()
    };
    Ok(sim.customer_says(
        page_id,
        psid,
        content,
        timestamp,
        input.webhook.unwrap_or(true),
    )?)
}

pub(super) async fn customer_says_route(
    State(sim): State<Arc<Sim>>,
    Path((page_id, psid)): Path<(String, String)>,
    bytes: Bytes,
) -> ControlResult<Stored> {
    let message = customer_says(&sim, &page_id, &psid, body(&bytes)?)?;
    Ok(Json(Stored::from(&message)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InboxReply {
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<AttachmentInput>,
    /// When the person wrote it, in ms (default now): an older time is a message whose echo
    /// comes late.
    timestamp: Option<i64>,
}

/// A person answers from the Page Inbox: the app only learns of it through the echo.
pub(super) async fn inbox_reply(
    State(sim): State<Arc<Sim>>,
    Path((page_id, psid)): Path<(String, String)>,
    bytes: Bytes,
) -> ControlResult<Stored> {
    let input: InboxReply = body(&bytes)?;
    if input.text.as_deref().is_none_or(str::is_empty) && input.attachments.is_empty() {
        return Err(ControlError::bad_request(
            "a message needs text or attachments",
        ));
    }
    let content = Content {
        text: input.text,
        attachments: input
            .attachments
            .into_iter()
            .map(AttachmentInput::into_attachment)
            .collect(),
        ..Content::default()
    };
    let message = sim.inbox_reply(&page_id, &psid, content, input.timestamp)?;
    Ok(Json(Stored::from(&message)))
}

/// `GET /_sim/pages/{page_id}/sent`: messages the Page sent, oldest first, and its sender actions.
pub(super) async fn sent(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
) -> ControlResult<Value> {
    let store = sim.store();
    store
        .page(&page_id)
        .ok_or_else(|| StoreError::NoSuchPage(page_id.clone()))?;
    Ok(Json(json!({
        "data": store.sent_by(&page_id),
        "sender_actions": store.sender_actions_of(&page_id),
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvents {
    #[serde(default)]
    messaging: Vec<Value>,
    #[serde(default)]
    standby: Vec<Value>,
}

/// `POST /_sim/pages/{page_id}/events`: posts messaging objects as given (postbacks,
/// reactions, referrals, unknown events...), signed like any other delivery, each only when
/// the Page is subscribed to its field (`webhook::fields`). Answers how many were queued
/// and how many were dropped for want of a subscription.
pub(super) async fn raw_events(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
    bytes: Bytes,
) -> ControlResult<Value> {
    let events: RawEvents = body(&bytes)?;
    let tagged = events
        .messaging
        .into_iter()
        .map(|e| (e, false))
        .chain(events.standby.into_iter().map(|e| (e, true)));
    let (queued, dropped) = post_subscribed(&sim, &page_id, tagged)?;
    Ok(Json(json!({ "queued": queued, "dropped": dropped })))
}

/// Posts each `(messaging object, standby)` to the app, signed like any other delivery,
/// when the Page is subscribed to its field (`webhook::fields`): how many were queued and
/// how many dropped for want of a subscription.
pub(super) fn post_subscribed(
    sim: &Sim,
    page_id: &str,
    tagged: impl IntoIterator<Item = (Value, bool)>,
) -> Result<(usize, usize), ControlError> {
    let page_id = page_id.to_owned();
    let subscribed = sim
        .store()
        .page(&page_id)
        .map(|p| p.subscribed_fields.clone())
        .ok_or_else(|| StoreError::NoSuchPage(page_id.clone()))?;
    let enforce = sim.config().enforce_subscriptions;
    let (mut queued, mut dropped) = (0, 0);
    for (event, standby) in tagged {
        let field = crate::webhook::fields::field_of(&event, standby);
        if enforce && field.is_some_and(|f| !subscribed.iter().any(|s| s == f)) {
            tracing::debug!(page_id, ?field, "page not subscribed; raw event dropped");
            dropped += 1;
            continue;
        }
        let event = crate::webhook::events::raw(&event)
            .ok_or_else(|| ControlError::bad_request("an event could not be serialised"))?;
        sim.webhooks().send(Outgoing {
            page_id: page_id.clone(),
            event,
            standby,
        });
        queued += 1;
    }
    Ok((queued, dropped))
}

pub(super) async fn deliveries(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let deliveries: Vec<Delivery> = sim.webhooks().deliveries();
    Json(json!({ "data": deliveries }))
}

pub(super) async fn clear_deliveries(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.webhooks().clear_log();
    Json(json!({ "ok": true }))
}
