//! Attachments as the Conversations API returns them, which is not the webhook shape:
//! `{id, mime_type, name, size, image_data{...} | video_data{...} | file_url}`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value, json};

use crate::model::{Attachment, Message};

/// One attachment of `message`, the `index`th.
pub fn render(message: &Message, index: usize, attachment: &Attachment) -> Value {
    let id = attachment_id(&message.mid, index);
    let url = attachment.url().unwrap_or_default().to_owned();
    let file_name = url
        .rsplit('/')
        .next()
        .and_then(|last| last.split('?').next())
        .filter(|name| !name.is_empty())
        .map_or_else(|| format!("{}-{id}", attachment.kind), str::to_owned);
    let mut out = Map::new();
    out.insert("id".into(), id.into());
    match attachment.kind.as_str() {
        "image" => {
            out.insert("mime_type".into(), "image/jpeg".into());
            out.insert("name".into(), file_name.into());
            out.insert("size".into(), 48_213.into());
            out.insert(
                "image_data".into(),
                json!({
                    "width": 720, "height": 960, "max_width": 720, "max_height": 960,
                    "url": url, "preview_url": url,
                    "image_type": 1, "render_as_sticker": false,
                }),
            );
        }
        "video" => {
            out.insert("mime_type".into(), "video/mp4".into());
            out.insert("name".into(), file_name.into());
            out.insert("size".into(), 1_204_882.into());
            out.insert(
                "video_data".into(),
                json!({ "width": 720, "height": 1280, "length": 12, "video_type": 0, "url": url, "preview_url": url }),
            );
        }
        "audio" => {
            out.insert("mime_type".into(), "audio/mpeg".into());
            out.insert("name".into(), file_name.into());
            out.insert("size".into(), 64_512.into());
            out.insert("file_url".into(), url.into());
        }
        "file" => {
            out.insert("mime_type".into(), mime_of(&file_name).into());
            out.insert("name".into(), file_name.into());
            out.insert("size".into(), 210_334.into());
            out.insert("file_url".into(), url.into());
        }
        _ => {
            if let Some(title) = &attachment.title {
                out.insert("name".into(), title.clone().into());
            }
        }
    }
    Value::Object(out)
}

fn attachment_id(mid: &str, index: usize) -> String {
    let mut hasher = DefaultHasher::new();
    (mid, index).hash(&mut hasher);
    (hasher.finish() % 9_000_000_000_000_000 + 1_000_000_000_000_000).to_string()
}

fn mime_of(name: &str) -> &'static str {
    match name
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("zip") => "application/zip",
        Some("doc" | "docx") => "application/msword",
        _ => "application/octet-stream",
    }
}
