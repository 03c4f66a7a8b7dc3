//! `multipart/form-data` bodies, as the Send API and the Attachment Upload API take a local
//! file: the text fields (`recipient`, `message`, `messaging_type`...) and the file part,
//! `filedata` (Saving Assets: `-F 'filedata=@/tmp/shirt.png;type=image/png'`).

use axum::body::Bytes;
use axum::http::{HeaderMap, header};

use super::error::{GraphError, GraphResult};
use crate::uploads::MAX_UPLOAD_BYTES;

/// The file of a `filedata` part.
#[derive(Debug)]
pub struct FilePart {
    /// The part's `Content-Type`, as sent.
    pub content_type: Option<String>,
    /// The part's file name, as sent.
    pub file_name: Option<String>,
    /// Its bytes, at most [`MAX_UPLOAD_BYTES`] + 1 (one more says "too large").
    pub bytes: Vec<u8>,
}

/// A multipart body taken apart.
#[derive(Debug, Default)]
pub struct Form {
    /// The text fields, in order.
    pub fields: Vec<(String, String)>,
    /// `filedata`, if sent.
    pub file: Option<FilePart>,
}

/// The form of a `multipart/form-data` request; `None` for any other body.
pub async fn read(headers: &HeaderMap, body: Bytes) -> GraphResult<Option<Form>> {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
    else {
        return Ok(None);
    };
    let malformed = |e: multer::Error| {
        GraphError::invalid_param(format!("Invalid multipart/form-data body: {e}"))
    };
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut form = Form::default();
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "filedata" {
            let content_type = field.content_type().map(ToString::to_string);
            let file_name = field.file_name().map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                let room = (MAX_UPLOAD_BYTES + 1).saturating_sub(bytes.len());
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            form.file = Some(FilePart {
                content_type,
                file_name,
                bytes,
            });
        } else {
            let text = field.text().await.map_err(malformed)?;
            form.fields.push((name, text));
        }
    }
    Ok(Some(form))
}
