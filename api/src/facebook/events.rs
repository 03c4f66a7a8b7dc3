//! Facebook's webhook payloads, parsed leniently: unknown fields and event types are
//! ignored, and one malformed event is skipped without losing the good ones beside it.
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::time;

/// A message's direction, seen from the Page (as stored).
pub use entity::message::Direction;

/// An attachment as stored and shown: its type and, when it has one, its URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
    pub title: Option<String>,
}

/// A message, a postback (shown as a message with its title) or an echo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingMessage {
    pub page_id: String,
    pub psid: String,
    pub mid: String,
    pub direction: Direction,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub quick_reply_payload: Option<String>,
    pub reply_to_mid: Option<String>,
    pub app_id: Option<String>,
    /// ms since the epoch, Facebook's time.
    pub timestamp: i64,
    /// For echoes: the `metadata` the sender attached (ours: `mf:<message id>`).
    pub metadata: Option<String>,
    /// Imported by a history sync rather than delivered live: not counted as unread.
    pub historical: bool,
}

/// One event we act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Message(IncomingMessage),
    /// Every message the Page sent to `psid` at or before `watermark` is delivered.
    Delivery {
        page_id: String,
        psid: String,
        watermark: i64,
    },
    /// Every message the Page sent to `psid` at or before `watermark` was read.
    Read {
        page_id: String,
        psid: String,
        watermark: i64,
    },
}

impl Event {
    pub fn page_id(&self) -> &str {
        match self {
            Self::Message(m) => &m.page_id,
            Self::Delivery { page_id, .. } | Self::Read { page_id, .. } => page_id,
        }
    }

    /// The customer it concerns: `(page_id, psid)`.
    pub fn customer(&self) -> (&str, &str) {
        match self {
            Self::Message(m) => (&m.page_id, &m.psid),
            Self::Delivery { page_id, psid, .. } | Self::Read { page_id, psid, .. } => {
                (page_id, psid)
            }
        }
    }

    /// Which event this is, for the log: ids only, never a message's content.
    pub fn describe(&self) -> String {
        match self {
            Self::Message(m) => format!("message {} of Page {}", m.mid, m.page_id),
            Self::Delivery { page_id, psid, .. } => {
                format!("delivery watermark of Page {page_id} for {psid}")
            }
            Self::Read { page_id, psid, .. } => {
                format!("read watermark of Page {page_id} for {psid}")
            }
        }
    }
}

/// The events of one delivery, and how many were skipped as malformed.
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<Event>,
    pub skipped: usize,
    pub ignored: usize,
}

/// The body is not JSON of the webhook's envelope shape.
#[derive(Debug, thiserror::Error)]
#[error("webhook body is not a valid event envelope: {0}")]
pub struct EnvelopeError(#[from] serde_json::Error);

/// The webhook fields MessengerFlow subscribes a Page to (`connectPage`): exactly those
/// whose events `parse` turns into an [`Event`]. Facebook sends only subscribed fields, so
/// a field missing here is an event type we never see, and one here that we do not parse is
/// traffic for nothing; the tests below hold the two together. `standby` brings the same
/// event shapes for threads another app owns (the handover protocol).
pub const SUBSCRIBED_FIELDS: &[&str] = &[
    "messages",
    "message_echoes",
    "messaging_postbacks",
    "message_deliveries",
    "message_reads",
    "standby",
];

/// Largest id, mid or URL we accept; anything longer is malformed, not data.
const MAX_ID_LEN: usize = 512;

/// Parses a delivery. Fails only when the envelope itself is not JSON; bad events inside
/// are counted in `skipped`, unknown ones in `ignored`.
///
/// Times are made safe here (`time::event_time`, `time::watermark`): a signed delivery may
/// still carry `0`, negative or `i64::MAX` timestamps, and nothing after parsing does
/// arithmetic on a time it has not checked.
pub fn parse(body: &[u8]) -> Result<Parsed, EnvelopeError> {
    parse_at(body, crate::time::now_ms())
}

/// `parse`, as if received at `now` (ms since the epoch).
pub fn parse_at(body: &[u8], now: i64) -> Result<Parsed, EnvelopeError> {
    let envelope: Envelope<'_> = serde_json::from_slice(body)?;
    let mut parsed = Parsed::default();
    if envelope.object.as_deref().is_some_and(|o| o != "page") {
        parsed.ignored = envelope.entry.len();
        return Ok(parsed);
    }
    for raw_entry in envelope.entry {
        let entry: Entry<'_> = match serde_json::from_str(raw_entry.get()) {
            Ok(entry) => entry,
            Err(err) => {
                tracing::warn!(error = %err, "skipping a malformed webhook entry");
                parsed.skipped += 1;
                continue;
            }
        };
        let Some(page_id) = entry.id.and_then(|id| valid_id(id.0)) else {
            tracing::warn!("skipping a webhook entry without a valid page id");
            parsed.skipped += 1 + entry.messaging.len() + entry.standby.len();
            continue;
        };
        for raw in entry.messaging.iter().chain(entry.standby.iter()) {
            match parse_event(&page_id, raw.get(), now) {
                Ok(Some(event)) => parsed.events.push(event),
                Ok(None) => parsed.ignored += 1,
                Err(reason) => {
                    tracing::warn!(page_id = %page_id, %reason, "skipping a malformed webhook event");
                    parsed.skipped += 1;
                }
            }
        }
    }
    Ok(parsed)
}

#[expect(clippy::too_many_lines, reason = "still to split (issue 13)")]
fn parse_event(page_id: &str, raw: &str, now: i64) -> Result<Option<Event>, String> {
    let event: RawEvent = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let sender = event.sender.and_then(Party::into_id);
    let recipient = event.recipient.and_then(Party::into_id);

    if let Some(message) = event.message {
        let timestamp = event.timestamp.ok_or("message without timestamp")?;
        let timestamp = time::event_time(timestamp, now);
        let (direction, psid) = if message.is_echo {
            (
                Direction::Outbound,
                recipient.ok_or("echo without recipient")?,
            )
        } else {
            (Direction::Inbound, sender.ok_or("message without sender")?)
        };
        let mid = message
            .mid
            .and_then(valid_id)
            .ok_or("message without a valid mid")?;
        let attachments = message
            .attachments
            .into_iter()
            .map(|a| Attachment {
                kind: a.kind.to_lowercase(),
                url: a
                    .payload
                    .and_then(|p| p.url)
                    .filter(|u| u.len() <= 8 * MAX_ID_LEN),
                title: a.title,
            })
            .collect();
        return Ok(Some(Event::Message(IncomingMessage {
            page_id: page_id.to_owned(),
            psid,
            mid,
            direction,
            text: message.text,
            attachments,
            quick_reply_payload: message.quick_reply.map(|q| q.payload),
            reply_to_mid: message.reply_to.and_then(|r| r.mid),
            app_id: message.app_id.map(|id| id.0),
            timestamp,
            metadata: message.metadata,
            historical: false,
        })));
    }
    if let Some(postback) = event.postback {
        let timestamp = event.timestamp.ok_or("postback without timestamp")?;
        let psid = sender.ok_or("postback without sender")?;
        // Older postbacks carry no mid; derive a stable one so a retry is still one message.
        let mid = match postback.mid.and_then(valid_id) {
            Some(mid) => mid,
            None => valid_id(format!("postback:{psid}:{timestamp}"))
                .ok_or("postback without mid, and too long an id to make one")?,
        };
        // After the mid: a retry derives the same mid from the same raw time.
        let timestamp = time::event_time(timestamp, now);
        return Ok(Some(Event::Message(IncomingMessage {
            page_id: page_id.to_owned(),
            psid,
            mid,
            direction: Direction::Inbound,
            text: postback.title.or(postback.payload),
            attachments: Vec::new(),
            quick_reply_payload: None,
            reply_to_mid: None,
            app_id: None,
            timestamp,
            metadata: None,
            historical: false,
        })));
    }
    if let Some(delivery) = event.delivery {
        let psid = sender.ok_or("delivery without sender")?;
        let Some(watermark) = time::watermark(delivery.watermark, now) else {
            return Ok(None);
        };
        return Ok(Some(Event::Delivery {
            page_id: page_id.to_owned(),
            psid,
            watermark,
        }));
    }
    if let Some(read) = event.read {
        let psid = sender.ok_or("read without sender")?;
        let Some(watermark) = time::watermark(read.watermark, now) else {
            return Ok(None);
        };
        return Ok(Some(Event::Read {
            page_id: page_id.to_owned(),
            psid,
            watermark,
        }));
    }
    Ok(None)
}

fn valid_id(id: String) -> Option<String> {
    let ok = !id.is_empty() && id.len() <= MAX_ID_LEN && !id.chars().any(char::is_control);
    ok.then_some(id)
}

#[derive(Deserialize)]
struct Envelope<'a> {
    object: Option<String>,
    #[serde(default, borrow)]
    entry: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    id: Option<FbId>,
    #[serde(default, borrow)]
    messaging: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    standby: Vec<&'a RawValue>,
}

/// Facebook sends ids as strings; accept numbers too rather than drop the event.
#[derive(Deserialize)]
#[serde(from = "IdRepr")]
struct FbId(String);

#[derive(Deserialize)]
#[serde(untagged)]
enum IdRepr {
    Text(String),
    Number(u64),
}

impl From<IdRepr> for FbId {
    fn from(repr: IdRepr) -> Self {
        match repr {
            IdRepr::Text(s) => Self(s),
            IdRepr::Number(n) => Self(n.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct Party {
    id: Option<FbId>,
    /// The chat plugin identifies a visitor by `user_ref` instead of a PSID.
    user_ref: Option<String>,
}

impl Party {
    fn into_id(self) -> Option<String> {
        self.id.map(|id| id.0).or(self.user_ref).and_then(valid_id)
    }
}

#[derive(Deserialize)]
struct RawEvent {
    sender: Option<Party>,
    recipient: Option<Party>,
    timestamp: Option<i64>,
    message: Option<RawMessage>,
    postback: Option<RawPostback>,
    delivery: Option<RawWatermark>,
    read: Option<RawWatermark>,
}

#[derive(Deserialize)]
struct RawMessage {
    mid: Option<String>,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    app_id: Option<FbId>,
    metadata: Option<String>,
    quick_reply: Option<RawQuickReply>,
    reply_to: Option<RawReplyTo>,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
}

#[derive(Deserialize)]
struct RawQuickReply {
    payload: String,
}

#[derive(Deserialize)]
struct RawReplyTo {
    mid: Option<String>,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<RawAttachmentPayload>,
    title: Option<String>,
}

#[derive(Deserialize)]
struct RawAttachmentPayload {
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawPostback {
    mid: Option<String>,
    title: Option<String>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct RawWatermark {
    watermark: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_event_is_skipped_and_its_neighbours_kept() {
        let body = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"a","text":"hi"}},
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":6,"message":"oops"},
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":7,"reaction":{"mid":"a"}},
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":8,"read":{"watermark":8}}
        ]}]}"#;
        let parsed = parse(body).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.skipped, 1);
        assert_eq!(parsed.ignored, 1);
    }

    #[test]
    fn escaped_unicode_is_decoded() {
        let body = br#"{"object":"page","entry":[{"id":"1","messaging":[
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"a","text":"\u00e4\u00f6\u00e5 \ud83d\ude00"}}]}]}"#;
        let parsed = parse(body).unwrap();
        let Event::Message(m) = &parsed.events[0] else {
            panic!("not a message")
        };
        assert_eq!(m.text.as_deref(), Some("äöå 😀"));
    }

    /// One event of each webhook field, as Facebook documents it; `standby` is a message
    /// under the entry's `standby` array.
    fn event_of_field(field: &str) -> (&'static str, &'static str) {
        let event = match field {
            "messages" => r#""message":{"mid":"m1","text":"hi"}"#,
            "message_echoes" => r#""message":{"mid":"m2","is_echo":true,"app_id":1,"text":"x"}"#,
            "messaging_postbacks" => r#""postback":{"mid":"m3","title":"Start","payload":"GO"}"#,
            "message_deliveries" => r#""delivery":{"watermark":5}"#,
            "message_reads" => r#""read":{"watermark":5}"#,
            "standby" => r#""message":{"mid":"m4","text":"elsewhere"}"#,
            "message_reactions" => r#""reaction":{"mid":"m1","action":"react","emoji":"x"}"#,
            "message_edits" => r#""message_edit":{"mid":"m1","text":"y","num_edit":1}"#,
            "messaging_referrals" => {
                r#""referral":{"ref":"r","source":"SHORTLINK","type":"OPEN_THREAD"}"#
            }
            "messaging_optins" => r#""optin":{"ref":"r"}"#,
            "messaging_handovers" => r#""pass_thread_control":{"new_owner_app_id":"1"}"#,
            other => panic!("no sample event for {other}"),
        };
        let array = if field == "standby" {
            "standby"
        } else {
            "messaging"
        };
        (array, event)
    }

    fn parses(field: &str) -> bool {
        let (array, event) = event_of_field(field);
        let body = format!(
            r#"{{"object":"page","entry":[{{"id":"1","time":1,"{array}":[
                {{"sender":{{"id":"9"}},"recipient":{{"id":"1"}},"timestamp":5,{event}}}]}}]}}"#
        );
        let parsed = parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.skipped, 0, "{field}: {body}");
        !parsed.events.is_empty()
    }

    #[test]
    fn every_subscribed_field_is_parsed() {
        for field in SUBSCRIBED_FIELDS {
            assert!(
                parses(field),
                "{field} is subscribed but its event is ignored"
            );
        }
    }

    #[test]
    fn fields_we_do_not_parse_are_not_subscribed() {
        // Parsing one of these? Add its field to SUBSCRIBED_FIELDS (and move it up there).
        for field in [
            "message_reactions",
            "message_edits",
            "messaging_referrals",
            "messaging_optins",
            "messaging_handovers",
        ] {
            assert!(!SUBSCRIBED_FIELDS.contains(&field), "{field}");
            assert!(
                !parses(field),
                "{field} is parsed: subscribe the Page to it"
            );
        }
    }

    #[test]
    fn not_json_is_an_error() {
        assert!(parse(b"{not json").is_err());
    }
}
