//! `sendMessage`'s input as what to send: a text, an attachment by URL or saved id, or a
//! file from the agent's computer, read from the multipart request and checked
//! (`service::send::files`) before anything is stored or sent.
use std::io::Read;

use async_graphql::{Context, Upload};

use super::inputs::{AttachmentInput, AttachmentType};
use crate::error::ApiError;
use crate::facebook::graph::Outgoing;
use crate::service::send::files;
use crate::state::AppState;

/// One of `text`, `attachment` and `file`, as [`Outgoing`].
pub async fn content(
    ctx: &Context<'_>,
    state: &AppState,
    text: Option<String>,
    attachment: Option<AttachmentInput>,
    file: Option<Upload>,
) -> Result<Outgoing, ApiError> {
    match (text, attachment, file) {
        (Some(text), None, None) => Ok(Outgoing::Text(text)),
        (None, Some(attachment), None) => {
            let kind = match attachment.kind {
                AttachmentType::Image => "image",
                AttachmentType::Audio => "audio",
                AttachmentType::Video => "video",
                AttachmentType::File => "file",
            }
            .to_owned();
            match (attachment.url, attachment.attachment_id) {
                (Some(url), None) => Ok(Outgoing::Attachment { kind, url }),
                (None, Some(attachment_id)) => Ok(Outgoing::Saved {
                    kind,
                    attachment_id,
                }),
                _ => Err(ApiError::bad_input(
                    "give the attachment a `url` or an `attachmentId`, not both",
                )),
            }
        }
        (None, None, Some(file)) => read(ctx, state.config.max_upload_bytes, &file).await,
        _ => Err(ApiError::bad_input(
            "give one of `text`, `attachment` and `file`",
        )),
    }
}

/// The uploaded file's first `limit` + 1 bytes (one more tells a file over the limit), checked.
async fn read(ctx: &Context<'_>, limit: u64, file: &Upload) -> Result<Outgoing, ApiError> {
    let upload = file
        .value(ctx)
        .map_err(|_| ApiError::bad_input("`file` must be a file part of the multipart request"))?;
    let name = upload.filename;
    let declared = upload.content_type;
    let content = upload.content;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        content
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(|e| ApiError::Internal(e.into()))?;
    let file = files::check(&name, declared.as_deref(), bytes.into(), limit)?;
    Ok(Outgoing::File(file))
}
