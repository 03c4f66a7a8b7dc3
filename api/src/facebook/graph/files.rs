//! A file sent with a message: the Send API's multipart body (Saving Assets: the message's
//! fields as form fields, the file as `filedata`).
use std::time::Duration;

use serde_json::Value;

use super::FileData;

/// How long one upload of a file (up to 25 MB) may take, instead of the usual 20 s.
pub(super) const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// A Send API body as multipart form fields (objects as JSON text), with `file` as `filedata`.
pub(super) fn file_form(body: &Value, file: &FileData) -> reqwest::multipart::Form {
    use reqwest::multipart::{Form, Part};
    let mut form = Form::new();
    for (key, value) in body.as_object().into_iter().flatten() {
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        form = form.text(key.clone(), text);
    }
    let length = u64::try_from(file.bytes.len()).unwrap_or(u64::MAX);
    let part = || {
        Part::stream_with_length(reqwest::Body::from(file.bytes.clone()), length)
            .file_name(file.name.clone())
    };
    form.part(
        "filedata",
        part().mime_str(file.mime).unwrap_or_else(|_| part()),
    )
}
