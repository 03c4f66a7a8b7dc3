//! Assets: the Attachment Upload API (`POST /{page}/message_attachments`) and the sources
//! a Send API attachment may name: a `url`, an `attachment_id`, or the request's `filedata`.

use std::sync::Arc;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{GraphError, GraphResult};
use super::multipart::FilePart;
use super::request::Params;
use crate::model::Page;
use crate::sim::Sim;
use crate::uploads::{MAX_UPLOAD_BYTES, Upload};

/// Types an asset may have ("image, audio, video, file": Saving Assets).
const ASSET_TYPES: [&str; 4] = ["image", "audio", "video", "file"];

/// Where a Send API attachment comes from.
#[derive(Debug)]
pub enum Source {
    /// A URL Facebook fetches (`is_reusable`: also saved, answering an `attachment_id`).
    Url { url: String, reusable: bool },
    /// An asset saved earlier.
    Saved(String),
    /// The request's `filedata`.
    File { reusable: bool },
    /// A template: nothing to fetch.
    Template,
}

/// Reads `payload`'s source for an attachment of `kind`; `file` is whether the request
/// carries `filedata`. Exactly one of `url`, `attachment_id`, `filedata`.
pub fn source(kind: &str, payload: &Value, file: bool) -> GraphResult<Source> {
    if kind == "template" {
        return Ok(Source::Template);
    }
    let reusable = payload
        .get("is_reusable")
        .is_some_and(|r| r.as_bool() == Some(true) || r.as_str() == Some("true"));
    let url = payload
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty());
    let saved = match payload.get("attachment_id") {
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        Some(Value::Number(id)) => Some(id.to_string()),
        Some(_) => {
            return Err(GraphError::invalid_param(
                "param message[attachment][payload][attachment_id] must be a non-empty string.",
            ));
        }
        None => None,
    };
    match (url, saved, file) {
        (Some(url), None, false) => Ok(Source::Url {
            url: url.to_owned(),
            reusable,
        }),
        (None, Some(id), false) => Ok(Source::Saved(id)),
        (None, None, true) => Ok(Source::File { reusable }),
        (None, None, false) => Err(GraphError::invalid_param(
            "param message[attachment][payload] must have a url or an attachment_id, or the request a filedata",
        )),
        _ => Err(GraphError::invalid_param(
            "Only one of message[attachment][payload][url], message[attachment][payload][attachment_id] and filedata can be specified",
        )),
    }
}

/// Refuses a file Facebook would not save: empty, over 25 MB, or whose `Content-Type` is not
/// of the attachment's type (Saving Assets: audio "Content-Type header must use type audio";
/// the simulator holds image and video to the same rule).
pub fn check_file(kind: &str, file: &FilePart) -> GraphResult<()> {
    if file.bytes.is_empty() {
        return Err(GraphError::upload_failure("the file is empty."));
    }
    if file.bytes.len() > MAX_UPLOAD_BYTES {
        return Err(GraphError::upload_failure(
            "the file is larger than 25 MB, the most an attachment may be.",
        ));
    }
    if matches!(kind, "image" | "audio" | "video") {
        let declared = file.content_type.as_deref().unwrap_or("none");
        if !declared
            .to_ascii_lowercase()
            .starts_with(&format!("{kind}/"))
        {
            return Err(GraphError::upload_failure(&format!(
                "the attachment type is {kind} but the file's Content-Type is {declared}."
            )));
        }
    }
    Ok(())
}

/// Keeps the request's file (already checked) as an upload of `page`.
pub fn save_file(sim: &Sim, page: &Page, kind: &str, file: &FilePart, reusable: bool) -> Upload {
    let upload = Upload::file(
        &page.id,
        kind,
        file.content_type.clone(),
        file.file_name.clone(),
        file.bytes.clone(),
        reusable,
    );
    sim.uploads().insert(upload)
}

/// Where the simulator serves an upload's bytes: the URL its messages and echoes carry, as
/// Facebook's carry a CDN URL.
pub fn served_url(sim: &Sim, upload: &Upload) -> String {
    match (&upload.source_url, sim.public_addr()) {
        (Some(url), _) => url.clone(),
        (None, Some(addr)) => format!("http://{addr}/_sim/attachments/{}", upload.attachment_id),
        (None, None) => format!("http://127.0.0.1/_sim/attachments/{}", upload.attachment_id),
    }
}

/// `POST /{page}/message_attachments`: `message.attachment` with a `type` and a payload
/// holding a `url` or, with `filedata`, nothing but `is_reusable`. Answers `{"attachment_id"}`.
pub fn upload(
    sim: &Arc<Sim>,
    page: &Page,
    params: &Params,
    file: Option<&FilePart>,
) -> GraphResult<Response> {
    let attachment = params
        .get("message")
        .and_then(|m| m.get("attachment"))
        .filter(|a| a.is_object())
        .ok_or_else(|| GraphError::invalid_param("param message[attachment] must be non-empty."))?;
    let kind = attachment
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ASSET_TYPES.contains(&kind) {
        return Err(GraphError::invalid_param(
            "param message[attachment][type] must be one of {IMAGE, AUDIO, VIDEO, FILE}",
        ));
    }
    let payload = attachment.get("payload").cloned().unwrap_or(json!({}));
    let upload = match source(kind, &payload, file.is_some())? {
        Source::Url { url, reusable } => sim
            .uploads()
            .insert(Upload::url(&page.id, kind, &url, reusable)),
        Source::File { reusable } => {
            let file = file.ok_or_else(|| GraphError::upload_failure("no filedata."))?;
            check_file(kind, file)?;
            save_file(sim, page, kind, file, reusable)
        }
        Source::Saved(_) | Source::Template => {
            return Err(GraphError::invalid_param(
                "param message[attachment][payload] must have a url, or the request a filedata",
            ));
        }
    };
    Ok(Json(json!({ "attachment_id": upload.attachment_id })).into_response())
}
