//! The Send API, `POST /{page}/messages` (or `/me/messages`): validation, the messaging
//! window, throttling, then the stored message with its echo and receipts.

use std::sync::Arc;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{GraphError, GraphResult};
use super::request::Params;
use crate::model::{Attachment, Content, Origin, Page};
use crate::ratelimit::Budget;
use crate::sim::Sim;
use crate::store::SenderAction;
use crate::time;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const MAX_TEXT_CHARS: usize = 2000;
const MAX_METADATA_CHARS: usize = 1000;
const MAX_QUICK_REPLIES: usize = 13;
const SENDER_ACTIONS: &[&str] = &["mark_seen", "typing_on", "typing_off"];
const ATTACHMENT_TYPES: &[&str] = &["image", "audio", "video", "file", "template"];

/// A validated request: a message or a sender action, for one recipient.
enum Request {
    Message { content: Content, media: bool },
    Action(String),
}

/// `POST /{page}/messages`.
pub fn send(sim: &Arc<Sim>, page: &Page, params: &Params) -> GraphResult<Response> {
    let recipient = recipient_id(params)?;
    let request = parse(params)?;
    charge(
        sim,
        &page.id,
        matches!(request, Request::Message { media: true, .. }),
    )?;
    let window = match &request {
        Request::Message { content, .. } if content.tag.as_deref() == Some("HUMAN_AGENT") => {
            7 * DAY_MS
        }
        _ => DAY_MS,
    };
    let now = time::now_ms();
    {
        let store = sim.store();
        if store.customer_of(&page.id, &recipient).is_err() {
            return Err(GraphError::no_matching_user());
        }
        let opened = store.last_customer_message_ms(&recipient);
        if opened.is_none_or(|at| now.saturating_sub(at) > window) {
            return Err(GraphError::outside_window());
        }
    }
    match request {
        Request::Action(action) => {
            sim.store().sender_action(SenderAction {
                page_id: page.id.clone(),
                recipient_id: recipient.clone(),
                sender_action: action,
                timestamp: now,
            });
            Ok(Json(json!({ "recipient_id": recipient })).into_response())
        }
        Request::Message { content, .. } => {
            let message = sim
                .store()
                .record(&page.id, &recipient, true, now, content, Origin::SendApi)
                .map_err(|_| GraphError::no_matching_user())?;
            sim.announce_send(&message);
            Ok(
                Json(json!({ "recipient_id": recipient, "message_id": message.mid }))
                    .into_response(),
            )
        }
    }
}

fn charge(sim: &Sim, page_id: &str, media: bool) -> GraphResult<()> {
    let mut limiter = sim.limiter();
    let mut allowed = limiter.hit(page_id, Budget::Send).allowed;
    if allowed && media {
        allowed = limiter.hit(page_id, Budget::MediaSend).allowed;
    }
    if allowed {
        Ok(())
    } else {
        Err(GraphError::send_throttled())
    }
}

fn recipient_id(params: &Params) -> GraphResult<String> {
    let recipient = params
        .get("recipient")
        .ok_or_else(|| GraphError::invalid_param("param recipient must be non-empty."))?;
    match recipient.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        Some(Value::Number(id)) => Ok(id.to_string()),
        _ if recipient.get("user_ref").is_some() || recipient.get("comment_id").is_some() => {
            Err(GraphError::no_matching_user())
        }
        _ => Err(GraphError::invalid_param(
            "param recipient[id] must be non-empty.",
        )),
    }
}

fn parse(params: &Params) -> GraphResult<Request> {
    if let Some(action) = params.get("sender_action") {
        let mixed = ["message", "messaging_type", "tag", "notification_type"]
            .iter()
            .any(|key| params.get(key).is_some());
        if mixed {
            return Err(GraphError::invalid_param(
                "Cannot send both message and state at the same time.",
            ));
        }
        let action = action.as_str().unwrap_or_default().to_ascii_lowercase();
        if !SENDER_ACTIONS.contains(&action.as_str()) {
            return Err(GraphError::invalid_param(
                "param sender_action must be one of {MARK_SEEN, TYPING_ON, TYPING_OFF}",
            ));
        }
        return Ok(Request::Action(action));
    }
    let (messaging_type, tag) = messaging_type(params)?;
    let message = params
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| GraphError::invalid_param("param message must be non-empty."))?;
    let text = message.get("text");
    let attachment = message.get("attachment");
    if text.is_some() && attachment.is_some() {
        return Err(GraphError::invalid_param(
            "Only one of text or attachment can be specified",
        ));
    }
    let mut content = Content {
        messaging_type: Some(messaging_type),
        tag,
        metadata: metadata(message)?,
        ..Content::default()
    };
    let mut media = false;
    match (text, attachment) {
        (Some(text), None) => content.text = Some(check_text(text)?),
        (None, Some(attachment)) => {
            let attachment = check_attachment(attachment)?;
            media = matches!(attachment.kind.as_str(), "audio" | "video");
            content.attachments.push(attachment);
        }
        _ => {
            return Err(GraphError::invalid_param(
                "Message cannot be empty, must provide valid attachment or text",
            ));
        }
    }
    if let Some(replies) = message.get("quick_replies") {
        let count = replies.as_array().map(Vec::len);
        if count.is_none_or(|n| n == 0 || n > MAX_QUICK_REPLIES) {
            return Err(GraphError::invalid_param(
                "param message[quick_replies] must be an array of 1 to 13 elements",
            ));
        }
    }
    Ok(Request::Message { content, media })
}

fn messaging_type(params: &Params) -> GraphResult<(String, Option<String>)> {
    let kind = match params.get("messaging_type") {
        None => {
            return Err(GraphError::invalid_param(
                "param messaging_type must be non-empty.",
            ));
        }
        Some(kind) => kind.as_str().unwrap_or_default().to_ascii_uppercase(),
    };
    if !matches!(kind.as_str(), "RESPONSE" | "UPDATE" | "MESSAGE_TAG") {
        return Err(GraphError::invalid_param(
            "param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}",
        ));
    }
    let tag = params
        .get("tag")
        .map(|t| t.as_str().unwrap_or_default().to_ascii_uppercase());
    match (kind.as_str(), tag.as_deref()) {
        ("MESSAGE_TAG", Some("HUMAN_AGENT")) => {}
        ("MESSAGE_TAG", None) => {
            return Err(GraphError::invalid_param(
                "param tag must be non-empty for MESSAGE_TAG.",
            ));
        }
        ("MESSAGE_TAG", Some(_)) => {
            return Err(GraphError::invalid_param(
                "param tag must be one of {HUMAN_AGENT}",
            ));
        }
        (_, Some(_)) => {
            return Err(GraphError::invalid_param(
                "param tag can only be used with messaging_type MESSAGE_TAG",
            ));
        }
        (_, None) => {}
    }
    Ok((kind, tag))
}

fn check_text(text: &Value) -> GraphResult<String> {
    let text = text
        .as_str()
        .ok_or_else(|| GraphError::invalid_param("param message[text] must be a string."))?;
    let chars = text.chars().count();
    if chars == 0 {
        return Err(GraphError::invalid_param(
            "param message[text] must be non-empty.",
        ));
    }
    if chars > MAX_TEXT_CHARS {
        return Err(GraphError::invalid_param(
            "Length of param message[text] must be less than or equal to 2000",
        ));
    }
    Ok(text.to_owned())
}

fn metadata(message: &Value) -> GraphResult<Option<String>> {
    let Some(metadata) = message.get("metadata") else {
        return Ok(None);
    };
    let metadata = metadata
        .as_str()
        .ok_or_else(|| GraphError::invalid_param("param message[metadata] must be a string."))?;
    if metadata.chars().count() >= MAX_METADATA_CHARS {
        return Err(GraphError::invalid_param(
            "Length of param message[metadata] must be less than 1000",
        ));
    }
    Ok(Some(metadata.to_owned()))
}

fn check_attachment(attachment: &Value) -> GraphResult<Attachment> {
    let kind = attachment
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ATTACHMENT_TYPES.contains(&kind) {
        return Err(GraphError::invalid_param(
            "param message[attachment][type] must be one of {IMAGE, AUDIO, VIDEO, FILE, TEMPLATE}",
        ));
    }
    let payload = attachment
        .get("payload")
        .filter(|p| p.is_object())
        .ok_or_else(|| {
            GraphError::invalid_param("param message[attachment][payload] must be non-empty.")
        })?;
    let has_source = payload
        .get("url")
        .and_then(Value::as_str)
        .is_some_and(|u| !u.is_empty())
        || payload.get("attachment_id").is_some();
    if kind != "template" && !has_source {
        return Err(GraphError::invalid_param(
            "param message[attachment][payload] must have a url or an attachment_id",
        ));
    }
    let mut payload = payload.clone();
    if let Some(map) = payload.as_object_mut() {
        map.remove("is_reusable");
    }
    Ok(Attachment {
        kind: kind.to_owned(),
        payload,
        title: None,
    })
}
