//! Facebook webhook payloads, small and composable:
//! `batch(PAGE, [message(PAGE, PSID, "m1", "hi", T0), read(PAGE, PSID, T0)])`.
//!
//! Event builders return one `messaging` object; `entry` and `envelope` wrap them.
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

/// The header Facebook signs deliveries with.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// `sha256=<lowercase hex HMAC-SHA256(secret, body)>`, the value of [`SIGNATURE_HEADER`].
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `{"object":"page","entry":[...]}`.
pub fn envelope(entries: impl IntoIterator<Item = Value>) -> Value {
    json!({ "object": "page", "entry": entries.into_iter().collect::<Vec<_>>() })
}

/// One page's entry holding the given `messaging` events.
pub fn entry(page: &str, events: impl IntoIterator<Item = Value>) -> Value {
    let events: Vec<Value> = events.into_iter().collect();
    let time = events
        .iter()
        .filter_map(|event| event["timestamp"].as_i64())
        .max()
        .unwrap_or(0);
    json!({ "id": page, "time": time, "messaging": events })
}

/// An envelope with one entry: the usual delivery for one page.
pub fn batch(page: &str, events: impl IntoIterator<Item = Value>) -> Value {
    envelope([entry(page, events)])
}

/// A messaging object: `{sender, recipient, timestamp, <field>: value}`.
pub fn event(sender: &str, recipient: &str, timestamp: i64, field: &str, value: Value) -> Value {
    let mut event = json!({
        "sender": { "id": sender },
        "recipient": { "id": recipient },
        "timestamp": timestamp,
    });
    event[field] = value;
    event
}

/// The customer `psid` wrote `message` (a whole `message` object) to the page.
pub fn message_with(page: &str, psid: &str, timestamp: i64, message: Value) -> Value {
    event(psid, page, timestamp, "message", message)
}

/// The customer `psid` wrote `text` to the page.
pub fn message(page: &str, psid: &str, mid: &str, text: &str, timestamp: i64) -> Value {
    message_with(page, psid, timestamp, json!({ "mid": mid, "text": text }))
}

/// The page wrote `text` to the customer `psid` (from Business Suite, the phone app or us).
pub fn echo(page: &str, psid: &str, mid: &str, text: &str, timestamp: i64) -> Value {
    event(
        page,
        psid,
        timestamp,
        "message",
        json!({ "is_echo": true, "app_id": 263902037430900_u64, "mid": mid, "text": text }),
    )
}

/// The customer tapped a button titled `title`.
pub fn postback(
    page: &str,
    psid: &str,
    mid: &str,
    title: &str,
    payload: &str,
    timestamp: i64,
) -> Value {
    event(
        psid,
        page,
        timestamp,
        "postback",
        json!({ "mid": mid, "title": title, "payload": payload }),
    )
}

/// Every message the page sent to `psid` at or before `watermark` was delivered.
pub fn delivery(page: &str, psid: &str, watermark: i64) -> Value {
    event(
        psid,
        page,
        watermark,
        "delivery",
        json!({ "watermark": watermark }),
    )
}

/// Every message the page sent to `psid` at or before `watermark` was read.
pub fn read(page: &str, psid: &str, watermark: i64) -> Value {
    event(
        psid,
        page,
        watermark,
        "read",
        json!({ "watermark": watermark }),
    )
}
