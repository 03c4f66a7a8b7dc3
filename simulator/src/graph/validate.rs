//! What the Send API checks in a message beyond its text and attachment source: quick
//! replies, template payloads and their buttons, and `notification_type`. Each limit is the
//! documented one (the pages are cited in simulator/README.md); the error wording is ours,
//! shaped like Graph's `(#100) param ...` messages.

use serde_json::Value;

use super::error::{GraphError, GraphResult};
use super::request::Params;

/// "A maximum of 13 quick replies are supported" (Quick Replies).
pub const MAX_QUICK_REPLIES: usize = 13;
/// A quick reply's or a button's title: "20 character limit".
const TITLE_CHARS: usize = 20;
/// A quick reply's or a postback button's payload: "1000 character limit".
const PAYLOAD_CHARS: usize = 1000;
const QUICK_REPLY_TYPES: [&str; 3] = ["text", "user_phone_number", "user_email"];
const NOTIFICATION_TYPES: [&str; 3] = ["REGULAR", "SILENT_PUSH", "NO_PUSH"];
/// Generic template: "Maximum of 10 elements", title and subtitle "80 character limit",
/// "Maximum of 3 buttons per element".
const GENERIC_ELEMENTS: usize = 10;
const ELEMENT_CHARS: usize = 80;
const MAX_BUTTONS: usize = 3;
/// Button template: "UTF-8-encoded text of up to 640 characters", "Set of 1-3 buttons".
const BUTTON_TEMPLATE_CHARS: usize = 640;
const BUTTON_TYPES: [&str; 6] = [
    "web_url",
    "postback",
    "phone_number",
    "account_link",
    "account_unlink",
    "game_play",
];

fn invalid(message: String) -> GraphError {
    GraphError::invalid_param(message)
}

/// `notification_type`: absent (REGULAR), or one of REGULAR, SILENT_PUSH, NO_PUSH.
pub fn notification_type(params: &Params) -> GraphResult<()> {
    let Some(value) = params.get("notification_type") else {
        return Ok(());
    };
    let known = value
        .as_str()
        .map(str::to_ascii_uppercase)
        .is_some_and(|v| NOTIFICATION_TYPES.contains(&v.as_str()));
    if known {
        Ok(())
    } else {
        Err(invalid(
            "param notification_type must be one of {REGULAR, SILENT_PUSH, NO_PUSH}".into(),
        ))
    }
}

/// `message.quick_replies`: 1 to 13 objects; `text` ones need a title (at most 20
/// characters; empty only with an `image_url`) and a payload (at most 1000 characters).
pub fn quick_replies(replies: &Value) -> GraphResult<()> {
    let Some(replies) = replies.as_array().filter(|r| !r.is_empty()) else {
        return Err(invalid(
            "param message[quick_replies] must be a non-empty array.".into(),
        ));
    };
    if replies.len() > MAX_QUICK_REPLIES {
        return Err(invalid(format!(
            "param message[quick_replies] has {} elements; at most {MAX_QUICK_REPLIES} are allowed.",
            replies.len()
        )));
    }
    for (i, reply) in replies.iter().enumerate() {
        let at = format!("message[quick_replies][{i}]");
        let kind = reply.get("content_type").and_then(Value::as_str);
        if !kind.is_some_and(|k| QUICK_REPLY_TYPES.contains(&k)) {
            return Err(invalid(format!(
                "param {at}[content_type] must be one of {{text, user_phone_number, user_email}}"
            )));
        }
        if kind != Some("text") {
            continue;
        }
        let has_image = reply
            .get("image_url")
            .and_then(Value::as_str)
            .is_some_and(|u| !u.is_empty());
        let title = reply.get("title").and_then(Value::as_str);
        match title {
            None => return Err(invalid(format!("param {at}[title] must be non-empty."))),
            Some("") if !has_image => {
                return Err(invalid(format!(
                    "param {at}[title] must be non-empty when there is no image_url."
                )));
            }
            Some(t) => at_most(&format!("{at}[title]"), t, TITLE_CHARS)?,
        }
        let payload = match reply.get("payload") {
            Some(Value::String(p)) => p.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(invalid(format!("param {at}[payload] must be non-empty."))),
        };
        if payload.is_empty() && !has_image {
            return Err(invalid(format!("param {at}[payload] must be non-empty.")));
        }
        at_most(&format!("{at}[payload]"), &payload, PAYLOAD_CHARS)?;
    }
    Ok(())
}

/// A template attachment's payload. `generic` and `button` are checked field by field;
/// the other template types are taken as given (not modelled).
pub fn template(payload: &Value) -> GraphResult<()> {
    let at = "message[attachment][payload]";
    match payload.get("template_type").and_then(Value::as_str) {
        None | Some("") => Err(invalid(format!(
            "param {at}[template_type] must be non-empty."
        ))),
        Some("generic") => generic(payload, at),
        Some("button") => button_template(payload, at),
        Some(_) => Ok(()),
    }
}

fn generic(payload: &Value, at: &str) -> GraphResult<()> {
    let elements = payload
        .get("elements")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| invalid(format!("param {at}[elements] must be a non-empty array.")))?;
    if elements.len() > GENERIC_ELEMENTS {
        return Err(invalid(format!(
            "param {at}[elements] has {} elements; at most {GENERIC_ELEMENTS} are allowed.",
            elements.len()
        )));
    }
    for (i, element) in elements.iter().enumerate() {
        let el = format!("{at}[elements][{i}]");
        let title = required_text(element, &el, "title")?;
        at_most(&format!("{el}[title]"), title, ELEMENT_CHARS)?;
        if let Some(subtitle) = element.get("subtitle") {
            let subtitle = subtitle
                .as_str()
                .ok_or_else(|| invalid(format!("param {el}[subtitle] must be a string.")))?;
            at_most(&format!("{el}[subtitle]"), subtitle, ELEMENT_CHARS)?;
        }
        // "At least one property must be set in addition to title."
        let more = ["subtitle", "image_url", "default_action", "buttons"]
            .iter()
            .any(|key| element.get(key).is_some());
        if !more {
            return Err(invalid(format!(
                "param {el} must have a subtitle, image_url, default_action or buttons besides its title."
            )));
        }
        if let Some(buttons) = element.get("buttons") {
            buttons_of(buttons, &format!("{el}[buttons]"), 0)?;
        }
    }
    Ok(())
}

fn button_template(payload: &Value, at: &str) -> GraphResult<()> {
    let text = required_text(payload, at, "text")?;
    at_most(&format!("{at}[text]"), text, BUTTON_TEMPLATE_CHARS)?;
    let buttons = payload
        .get("buttons")
        .ok_or_else(|| invalid(format!("param {at}[buttons] must be non-empty.")))?;
    buttons_of(buttons, &format!("{at}[buttons]"), 1)
}

fn buttons_of(buttons: &Value, at: &str, min: usize) -> GraphResult<()> {
    let buttons = buttons
        .as_array()
        .ok_or_else(|| invalid(format!("param {at} must be an array.")))?;
    if buttons.len() < min || buttons.len() > MAX_BUTTONS {
        return Err(invalid(format!(
            "param {at} has {} elements; {min} to {MAX_BUTTONS} are allowed.",
            buttons.len()
        )));
    }
    for (i, button) in buttons.iter().enumerate() {
        let b = format!("{at}[{i}]");
        let kind = button.get("type").and_then(Value::as_str);
        if !kind.is_some_and(|k| BUTTON_TYPES.contains(&k)) {
            return Err(invalid(format!(
                "param {b}[type] must be one of {{web_url, postback, phone_number, account_link, account_unlink, game_play}}"
            )));
        }
        if matches!(kind, Some("web_url" | "postback" | "phone_number")) {
            let title = required_text(button, &b, "title")?;
            at_most(&format!("{b}[title]"), title, TITLE_CHARS)?;
        }
        if matches!(kind, Some("web_url" | "account_link")) {
            required_text(button, &b, "url")?;
        }
        if matches!(kind, Some("postback" | "phone_number")) {
            let payload = required_text(button, &b, "payload")?;
            at_most(&format!("{b}[payload]"), payload, PAYLOAD_CHARS)?;
        }
    }
    Ok(())
}

fn required_text<'a>(object: &'a Value, at: &str, key: &str) -> GraphResult<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| invalid(format!("param {at}[{key}] must be non-empty.")))
}

fn at_most(at: &str, value: &str, limit: usize) -> GraphResult<()> {
    if value.chars().count() > limit {
        Err(invalid(format!(
            "Length of param {at} must be less than or equal to {limit}"
        )))
    } else {
        Ok(())
    }
}
