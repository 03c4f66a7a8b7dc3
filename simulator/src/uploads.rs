//! Attachments the app uploaded: through the Attachment Upload API
//! (`POST /{page}/message_attachments`) or with a Send API call (`filedata`, or a `url` with
//! `is_reusable`). Each belongs to the Page whose token uploaded it; an `attachment_id` is
//! usable only by that Page (Saving Assets, Attachment Upload API reference).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The largest asset Facebook saves: "up to 25 MB in size" (Messenger Platform, Saving Assets).
pub const MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;

/// One uploaded asset.
#[derive(Clone, Debug, Serialize)]
pub struct Upload {
    /// What the Attachment Upload API answers, and the Send API takes back.
    pub attachment_id: String,
    /// The Page whose token uploaded it.
    pub page_id: String,
    /// image, audio, video or file.
    #[serde(rename = "type")]
    pub kind: String,
    /// The file part's `Content-Type`, as sent (`None` for a URL upload).
    pub mime_type: Option<String>,
    /// The file part's file name, as sent.
    pub file_name: Option<String>,
    /// Bytes received (0 for a URL upload: the simulator fetches nothing).
    pub size: usize,
    /// Hex SHA-256 of the bytes received, so a test can check what arrived.
    pub sha256: Option<String>,
    /// `payload.is_reusable`: only then may the id be sent again.
    pub is_reusable: bool,
    /// `payload.url` of a URL upload.
    pub source_url: Option<String>,
    /// Sends that used this attachment.
    pub sends: u32,
    /// The bytes, for `GET /_sim/attachments/{id}`.
    #[serde(skip)]
    pub bytes: Option<Arc<Vec<u8>>>,
}

impl Upload {
    /// A file received as `filedata`.
    pub fn file(
        page_id: &str,
        kind: &str,
        mime_type: Option<String>,
        file_name: Option<String>,
        bytes: Vec<u8>,
        is_reusable: bool,
    ) -> Self {
        Self {
            attachment_id: crate::ids::numeric(16),
            page_id: page_id.to_owned(),
            kind: kind.to_owned(),
            mime_type,
            file_name,
            size: bytes.len(),
            sha256: Some(hex::encode(Sha256::digest(&bytes))),
            is_reusable,
            source_url: None,
            sends: 0,
            bytes: Some(Arc::new(bytes)),
        }
    }

    /// An asset saved from a URL (never fetched).
    pub fn url(page_id: &str, kind: &str, url: &str, is_reusable: bool) -> Self {
        Self {
            attachment_id: crate::ids::numeric(16),
            page_id: page_id.to_owned(),
            kind: kind.to_owned(),
            mime_type: None,
            file_name: None,
            size: 0,
            sha256: None,
            is_reusable,
            source_url: Some(url.to_owned()),
            sends: 0,
            bytes: None,
        }
    }
}

/// Every upload, by id. Guarded by its own mutex in `Sim`.
#[derive(Default)]
pub struct Uploads {
    by_id: HashMap<String, Upload>,
    order: Vec<String>,
}

impl Uploads {
    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Keeps `upload`; returns it.
    pub fn insert(&mut self, upload: Upload) -> Upload {
        self.order.push(upload.attachment_id.clone());
        self.by_id
            .insert(upload.attachment_id.clone(), upload.clone());
        upload
    }

    /// One upload, whoever owns it.
    pub fn get(&self, id: &str) -> Option<&Upload> {
        self.by_id.get(id)
    }

    /// Takes `id` for a send by `page_id`: `None` when the id does not exist, belongs to
    /// another Page, or was not reusable and has been sent already.
    pub fn take_for_send(&mut self, page_id: &str, id: &str) -> Option<Upload> {
        let upload = self.by_id.get_mut(id).filter(|u| u.page_id == page_id)?;
        if !upload.is_reusable && upload.sends > 0 {
            return None;
        }
        upload.sends += 1;
        Some(upload.clone())
    }

    /// A Page's uploads, oldest first.
    pub fn of_page(&self, page_id: &str) -> Vec<Upload> {
        self.order
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .filter(|u| u.page_id == page_id)
            .cloned()
            .collect()
    }
}
