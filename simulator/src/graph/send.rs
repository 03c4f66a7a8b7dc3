//! The Send API, `POST /{page}/messages` (or `/me/messages`): validation, the messaging
//! window, throttling, then the stored message with its echo and receipts.

use std::sync::Arc;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{GraphError, GraphResult};
use super::multipart::FilePart;
use super::request::Params;
use super::upload::{self, Source};
use super::validate;
use crate::model::{Attachment, Content, Origin, Page};
use crate::ratelimit::Budget;
use crate::sim::Sim;
use crate::store::SenderAction;
use crate::time;
use crate::uploads::Upload;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const MAX_TEXT_CHARS: usize = 2000;
const MAX_METADATA_CHARS: usize = 1000;
const SENDER_ACTIONS: &[&str] = &["mark_seen", "typing_on", "typing_off"];
const ATTACHMENT_TYPES: &[&str] = &["image", "audio", "video", "file", "template"];

/// A validated request: a message (with where its attachment comes from) or a sender
/// action, for one recipient.
enum Request {
    Message {
        content: Content,
        media: bool,
        source: Option<Source>,
    },
    Action(String),
}

/// `POST /{page}/messages`, with the multipart body's `filedata` when there is one.
pub fn send(
    sim: &Arc<Sim>,
    page: &Page,
    params: &Params,
    file: Option<&FilePart>,
) -> GraphResult<Response> {
    let recipient = recipient_id(params)?;
    let request = parse(params, file)?;
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
        Request::Message {
            mut content,
            source,
            ..
        } => {
            let saved = match (source, content.attachments.first_mut()) {
                (Some(source), Some(attachment)) => resolve(sim, page, source, attachment, file)?,
                _ => None,
            };
            let message = sim
                .store()
                .record(&page.id, &recipient, true, now, content, Origin::SendApi)
                .map_err(|_| GraphError::no_matching_user())?;
            sim.announce_send(&message);
            let mut answer = json!({ "recipient_id": recipient, "message_id": message.mid });
            if let Some(id) = saved {
                answer["attachment_id"] = id.into();
            }
            Ok(Json(answer).into_response())
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

fn parse(params: &Params, file: Option<&FilePart>) -> GraphResult<Request> {
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
    validate::notification_type(params)?;
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
    let mut source = None;
    if text.is_some() && file.is_some() {
        return Err(GraphError::invalid_param(
            "filedata can only be sent with an attachment",
        ));
    }
    match (text, attachment) {
        (Some(text), None) => content.text = Some(check_text(text)?),
        (None, Some(attachment)) => {
            let (attachment, from) = check_attachment(attachment, file)?;
            media = matches!(attachment.kind.as_str(), "audio" | "video");
            content.attachments.push(attachment);
            source = Some(from);
        }
        _ => {
            return Err(GraphError::invalid_param(
                "Message cannot be empty, must provide valid attachment or text",
            ));
        }
    }
    if let Some(replies) = message.get("quick_replies") {
        validate::quick_replies(replies)?;
    }
    Ok(Request::Message {
        content,
        media,
        source,
    })
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

fn check_attachment(
    attachment: &Value,
    file: Option<&FilePart>,
) -> GraphResult<(Attachment, Source)> {
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
    let source = upload::source(kind, payload, file.is_some())?;
    match (&source, file) {
        (Source::Template, _) => validate::template(payload)?,
        (Source::File { .. }, Some(file)) => upload::check_file(kind, file)?,
        _ => {}
    }
    let mut payload = payload.clone();
    if let Some(map) = payload.as_object_mut() {
        map.remove("is_reusable");
    }
    let attachment = Attachment {
        kind: kind.to_owned(),
        payload,
        title: None,
    };
    Ok((attachment, source))
}

/// Turns the attachment's source into what the message carries (a URL, as Facebook's
/// echoes do) and saves what is to be saved; the `attachment_id` to answer, if any.
fn resolve(
    sim: &Sim,
    page: &Page,
    source: Source,
    attachment: &mut Attachment,
    file: Option<&FilePart>,
) -> GraphResult<Option<String>> {
    let upload = match source {
        Source::Template
        | Source::Url {
            reusable: false, ..
        } => return Ok(None),
        Source::Url {
            url,
            reusable: true,
        } => {
            let upload = Upload::url(&page.id, &attachment.kind, &url, true);
            return Ok(Some(sim.uploads().insert(upload).attachment_id));
        }
        Source::Saved(id) => {
            let upload = sim
                .uploads()
                .take_for_send(&page.id, &id)
                .ok_or_else(|| GraphError::unknown_attachment(&id))?;
            if upload.kind != attachment.kind {
                return Err(GraphError::invalid_param(format!(
                    "param message[attachment][type] is {} but attachment {id} is a {}",
                    attachment.kind, upload.kind
                )));
            }
            attachment.payload = json!({ "url": upload::served_url(sim, &upload) });
            return Ok(None);
        }
        Source::File { reusable } => {
            let file = file.ok_or_else(|| GraphError::upload_failure("no filedata."))?;
            let upload = upload::save_file(sim, page, &attachment.kind, file, reusable);
            sim.uploads().take_for_send(&page.id, &upload.attachment_id);
            upload
        }
    };
    attachment.payload = json!({ "url": upload::served_url(sim, &upload) });
    Ok(upload.is_reusable.then_some(upload.attachment_id))
}
