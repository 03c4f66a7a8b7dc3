//! Attachments as Facebook sends them, judged: each type's payload read into what the inbox
//! shows, and a payload of the wrong shape (a URL that is not http(s), coordinates off the
//! globe, a title past any real one) makes its message malformed.
//!
//! Shapes, from Meta's webhook references (`messages`, `message_echoes`):
//! - `image`, `video`, `audio`, `file` (and `reel`, `ig_reel`, ...): `payload.url`;
//! - `sticker`: `payload.url` and `payload.sticker_id`. Until August 30, 2026 a sticker also
//!   came as an `image` with `sticker_id` (the older shape), and during the transition both
//!   are in the payload: an image with a sticker id is a sticker, and an image repeating a
//!   sticker's URL is dropped, so a sticker shows once;
//! - `location`: `payload.coordinates {lat, long}`, with a `title` and a `url`;
//! - `fallback` (a shared link): `title` and `url`, beside the payload or in it; a share
//!   Facebook cannot show comes without a payload.
use serde::{Deserialize, Serialize};

use super::raw::{RawAttachment, RawAttachmentPayload};

/// Longest URL kept; a longer one is left out (the attachment stays, without it).
const MAX_URL_LEN: usize = 4096;
/// Longest title accepted: the length of a message's text.
const MAX_TITLE_CHARS: usize = 2000;

/// An attachment as stored (JSON in `messages.attachments`) and shown.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<Coordinates>,
}

/// A shared location, in degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    pub lat: f64,
    pub long: f64,
}

impl Attachment {
    /// A file's name: its title, else the last segment of its URL's path, decoded.
    pub fn file_name(&self) -> Option<String> {
        if let Some(title) = self.title.as_deref().filter(|t| !t.trim().is_empty()) {
            return Some(title.to_owned());
        }
        let url = reqwest::Url::parse(self.url.as_deref()?).ok()?;
        let last = url.path_segments()?.rev().find(|s| !s.is_empty())?;
        let name = percent_encoding::percent_decode_str(last).decode_utf8_lossy();
        (!name.trim().is_empty()).then(|| name.into_owned())
    }

    /// A location's place on OpenStreetMap.
    pub fn map_url(&self) -> Option<String> {
        let Coordinates { lat, long } = self.coordinates?;
        Some(format!(
            "https://www.openstreetmap.org/?mlat={lat}&mlon={long}#map=16/{lat}/{long}"
        ))
    }
}

/// A message's attachments, or why they are malformed.
pub(super) fn parse(raw: Vec<RawAttachment>) -> Result<Vec<Attachment>, String> {
    let mut list = Vec::with_capacity(raw.len());
    for attachment in raw {
        list.push(one(attachment)?);
    }
    let sticker_urls: Vec<String> = list
        .iter()
        .filter(|a| a.kind == "sticker")
        .filter_map(|a| a.url.clone())
        .collect();
    list.retain(|a| a.kind != "image" || a.url.as_ref().is_none_or(|u| !sticker_urls.contains(u)));
    let mut unique: Vec<Attachment> = Vec::with_capacity(list.len());
    for attachment in list {
        if !unique.contains(&attachment) {
            unique.push(attachment);
        }
    }
    Ok(unique)
}

fn one(raw: RawAttachment) -> Result<Attachment, String> {
    let RawAttachmentPayload {
        url: payload_url,
        title: payload_title,
        sticker_id,
        coordinates,
    } = raw.payload.unwrap_or(RawAttachmentPayload {
        url: None,
        title: None,
        sticker_id: None,
        coordinates: None,
    });
    let mut kind = raw.kind.to_lowercase();
    if kind.is_empty() || kind.len() > 64 || !kind.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("an attachment without a valid type".into());
    }
    let sticker_id = match sticker_id {
        Some(id) => Some(super::valid_id(id.0).ok_or("an attachment with an invalid sticker_id")?),
        None => None,
    };
    if sticker_id.is_some() && kind == "image" {
        kind = "sticker".to_owned();
    }
    let coordinates = match coordinates {
        Some(c) => Some(coordinates_of(c.lat, c.long)?),
        None => None,
    };
    let url = match payload_url.or(raw.url) {
        Some(url) => url_of(url)?,
        None => None,
    };
    let title = payload_title.or(raw.title);
    if title
        .as_deref()
        .is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS)
    {
        return Err("an attachment title over 2000 characters".into());
    }
    Ok(Attachment {
        kind,
        url,
        title,
        sticker_id,
        coordinates,
    })
}

/// An http(s) URL; one longer than `MAX_URL_LEN` is left out rather than refused.
fn url_of(url: String) -> Result<Option<String>, String> {
    if url.len() > MAX_URL_LEN {
        return Ok(None);
    }
    let parsed = reqwest::Url::parse(&url).map_err(|_| "an attachment URL that is not a URL")?;
    if !matches!(parsed.scheme(), "https" | "http") || url.chars().any(char::is_control) {
        return Err("an attachment URL that is not http(s)".into());
    }
    Ok(Some(url))
}

fn coordinates_of(lat: f64, long: f64) -> Result<Coordinates, String> {
    let on_earth = lat.is_finite()
        && long.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&long);
    if on_earth {
        Ok(Coordinates { lat, long })
    } else {
        Err("location coordinates off the globe".into())
    }
}
