//! Facebook's webhook payloads, parsed leniently: unknown fields and event types are
//! ignored, and one malformed event is skipped without losing the good ones beside it.
use crate::time;

mod attachments;
mod changes;
mod raw;
mod referral;

use raw::{Entry, Envelope, Party, RawEvent, RawMessage, RawPostback, RawReferral};

pub use attachments::{Attachment, Coordinates};
pub use changes::{Edit, Reaction};
/// A message's direction, seen from the Page (as stored).
pub use entity::message::Direction;
pub use referral::Referral;

/// A message, a postback (shown as a message with its title) or an echo.
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
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
    /// A customer reacted to a message, or took the reaction back (`message_reactions`).
    Reaction(Reaction),
    /// A customer edited a message (`message_edits`).
    Edit(Edit),
    /// How a customer came: an ad, an m.me link, the chat plugin (`messaging_referrals`, or
    /// the `referral` of a postback or a message, which comes as an event of its own
    /// beside it).
    Referral(Referral),
}

impl Event {
    pub fn page_id(&self) -> &str {
        match self {
            Self::Message(m) => &m.page_id,
            Self::Delivery { page_id, .. } | Self::Read { page_id, .. } => page_id,
            Self::Reaction(r) => &r.page_id,
            Self::Edit(e) => &e.page_id,
            Self::Referral(r) => &r.page_id,
        }
    }

    /// The customer whose conversation it needs: `(page_id, psid)`. None for a reaction or
    /// an edit, which change a message already stored (or nothing) and create nothing. A
    /// referral names a customer who opened the thread: it gets its conversation.
    pub fn customer(&self) -> Option<(&str, &str)> {
        match self {
            Self::Message(m) => Some((&m.page_id, &m.psid)),
            Self::Delivery { page_id, psid, .. } | Self::Read { page_id, psid, .. } => {
                Some((page_id, psid))
            }
            Self::Referral(r) => Some((&r.page_id, &r.psid)),
            Self::Reaction(_) | Self::Edit(_) => None,
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
            Self::Reaction(r) => format!("reaction to message {} of Page {}", r.mid, r.page_id),
            Self::Edit(e) => format!("edit of message {} of Page {}", e.mid, e.page_id),
            Self::Referral(r) => format!("referral {} of Page {}", r.key, r.page_id),
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
    "message_reactions",
    "message_edits",
    "messaging_referrals",
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
            let mut carried = None;
            match parse_event(&page_id, raw.get(), now, &mut carried) {
                Ok(Some(event)) => {
                    parsed.events.push(event);
                    parsed.events.extend(carried.map(Event::Referral));
                }
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

/// One event of an entry of `page_id`: `None` for a kind we do not act on (or a watermark
/// too far off to be a time); an error says what makes it malformed. The referral a
/// message or postback carries goes into `carried`, an event of its own.
fn parse_event(
    page_id: &str,
    raw: &str,
    now: i64,
    carried: &mut Option<Referral>,
) -> Result<Option<Event>, String> {
    let event: RawEvent = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let sender = event.sender.and_then(Party::into_id);
    let recipient = event.recipient.and_then(Party::into_id);
    let page_id = page_id.to_owned();

    if let Some(mut message) = event.message {
        let timestamp = event.timestamp.ok_or("message without timestamp")?;
        let timestamp = time::event_time(timestamp, now);
        let referral = message.referral.take().filter(|_| !message.is_echo);
        let event = message_event(page_id, message, sender, recipient, timestamp)?;
        *carried = carried_referral(&event, referral, timestamp);
        return Ok(Some(event));
    }
    if let Some(mut postback) = event.postback {
        let timestamp = event.timestamp.ok_or("postback without timestamp")?;
        let psid = sender.ok_or("postback without sender")?;
        let referral = postback.referral.take();
        let event = postback_event(page_id, postback, psid, timestamp, now)?;
        *carried = carried_referral(&event, referral, time::event_time(timestamp, now));
        return Ok(Some(event));
    }
    if let Some(raw) = event.referral {
        let at = event.timestamp.ok_or("referral without timestamp")?;
        let psid = sender.ok_or("referral without sender")?;
        // The raw time keys it, so a retry of the same event is the same referral.
        let key = format!("referral:{psid}:{at}");
        let timestamp = time::event_time(at, now);
        return referral::referral(&page_id, &psid, key, raw, timestamp)
            .map(|r| Some(Event::Referral(r)));
    }
    if let Some(delivery) = event.delivery {
        let psid = sender.ok_or("delivery without sender")?;
        let watermark = time::watermark(delivery.watermark, now);
        return Ok(watermark.map(|watermark| Event::Delivery {
            page_id,
            psid,
            watermark,
        }));
    }
    if let Some(reaction) = event.reaction {
        let timestamp = event.timestamp.ok_or("reaction without timestamp")?;
        let psid = sender.ok_or("reaction without sender")?;
        let timestamp = time::event_time(timestamp, now);
        return changes::reaction(page_id, psid, reaction, timestamp)
            .map(|r| Some(Event::Reaction(r)));
    }
    if let Some(edit) = event.message_edit {
        let timestamp = event.timestamp.ok_or("edit without timestamp")?;
        let psid = sender.ok_or("edit without sender")?;
        let timestamp = time::event_time(timestamp, now);
        return changes::edit(page_id, psid, edit, timestamp).map(|e| Some(Event::Edit(e)));
    }
    if let Some(read) = event.read {
        let psid = sender.ok_or("read without sender")?;
        let watermark = time::watermark(read.watermark, now);
        return Ok(watermark.map(|watermark| Event::Read {
            page_id,
            psid,
            watermark,
        }));
    }
    Ok(None)
}

/// The referral a customer's message or postback carries, keyed by its mid. A malformed
/// one is dropped and logged, and the message kept: it is what the customer said.
fn carried_referral(
    event: &Event,
    referral: Option<RawReferral>,
    timestamp: i64,
) -> Option<Referral> {
    let (Some(raw), Event::Message(message)) = (referral, event) else {
        return None;
    };
    let key = format!("mid:{}", message.mid);
    referral::referral(&message.page_id, &message.psid, key, raw, timestamp)
        .inspect_err(|reason| {
            tracing::warn!(page_id = %message.page_id, %reason, "dropping a malformed referral of a message");
        })
        .ok()
}

/// A message from the customer, or the echo of one the Page sent (to `recipient`).
fn message_event(
    page_id: String,
    message: RawMessage,
    sender: Option<String>,
    recipient: Option<String>,
    timestamp: i64,
) -> Result<Event, String> {
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
    let attachments = attachments::parse(message.attachments)?;
    Ok(Event::Message(IncomingMessage {
        page_id,
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
    }))
}

/// A button the customer pressed, shown as a message with its title; `timestamp` is
/// Facebook's raw time.
fn postback_event(
    page_id: String,
    postback: RawPostback,
    psid: String,
    timestamp: i64,
    now: i64,
) -> Result<Event, String> {
    // Older postbacks carry no mid; derive a stable one so a retry is still one message.
    let mid = match postback.mid.and_then(valid_id) {
        Some(mid) => mid,
        None => valid_id(format!("postback:{psid}:{timestamp}"))
            .ok_or("postback without mid, and too long an id to make one")?,
    };
    // After the mid: a retry derives the same mid from the same raw time.
    let timestamp = time::event_time(timestamp, now);
    Ok(Event::Message(IncomingMessage {
        page_id,
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
    }))
}

fn valid_id(id: String) -> Option<String> {
    let ok = !id.is_empty() && id.len() <= MAX_ID_LEN && !id.chars().any(char::is_control);
    ok.then_some(id)
}

#[cfg(test)]
mod tests;
