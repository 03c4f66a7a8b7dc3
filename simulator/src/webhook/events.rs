//! The messaging objects of Facebook's webhook envelope, built from the simulated world.
//! They are structs, not maps, so keys come out in Facebook's order
//! (`sender`, `recipient`, `timestamp`, then the event), and each is written once,
//! with Facebook's escaping, into a raw JSON fragment.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::fbjson;
use crate::model::{Attachment, Message};

/// What one webhook event is, which decides the subscription field it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A customer's message: needs `messages`.
    Message,
    /// A message the Page sent: needs `message_echoes`.
    Echo,
    /// Delivery receipt: needs `message_deliveries`.
    Delivery,
    /// Read receipt: needs `message_reads`.
    Read,
}

impl EventKind {
    /// The `subscribed_fields` entry Facebook requires before it sends this kind.
    pub fn subscription_field(self) -> &'static str {
        match self {
            Self::Message => "messages",
            Self::Echo => "message_echoes",
            Self::Delivery => "message_deliveries",
            Self::Read => "message_reads",
        }
    }
}

#[derive(Serialize)]
struct Party<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Payload<'a> {
    payload: &'a str,
}

#[derive(Serialize)]
struct ReplyTo<'a> {
    mid: &'a str,
}

#[derive(Serialize)]
struct MessageBody<'a> {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    is_echo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a str>,
    mid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quick_reply: Option<Payload<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<ReplyTo<'a>>,
    #[serde(skip_serializing_if = "<[Attachment]>::is_empty")]
    attachments: &'a [Attachment],
}

#[derive(Serialize)]
struct MessageEvent<'a> {
    sender: Party<'a>,
    recipient: Party<'a>,
    timestamp: i64,
    message: MessageBody<'a>,
}

#[derive(Serialize)]
struct DeliveryBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    mids: Option<&'a [String]>,
    watermark: i64,
}

#[derive(Serialize)]
struct DeliveryEvent<'a> {
    sender: Party<'a>,
    recipient: Party<'a>,
    timestamp: i64,
    delivery: DeliveryBody<'a>,
}

#[derive(Serialize)]
struct Watermark {
    watermark: i64,
}

#[derive(Serialize)]
struct ReadEvent<'a> {
    sender: Party<'a>,
    recipient: Party<'a>,
    timestamp: i64,
    read: Watermark,
}

/// Writes an event once, escaped as Facebook escapes it.
pub fn raw<T: Serialize + ?Sized>(event: &T) -> Option<Box<RawValue>> {
    let bytes = fbjson::to_vec(event).ok()?;
    RawValue::from_string(String::from_utf8(bytes).ok()?).ok()
}

fn body(message: &Message) -> MessageBody<'_> {
    MessageBody {
        is_echo: false,
        app_id: None,
        metadata: None,
        mid: &message.mid,
        text: message.text.as_deref(),
        quick_reply: message
            .quick_reply
            .as_deref()
            .map(|payload| Payload { payload }),
        reply_to: message.reply_to.as_deref().map(|mid| ReplyTo { mid }),
        attachments: &message.attachments,
    }
}

/// `{sender: customer, recipient: page, timestamp, message}`.
pub fn customer_message(message: &Message) -> Option<Box<RawValue>> {
    raw(&MessageEvent {
        sender: Party { id: &message.psid },
        recipient: Party {
            id: &message.page_id,
        },
        timestamp: message.timestamp,
        message: body(message),
    })
}

/// The echo of a message the Page sent: sender and recipient swapped, `is_echo` and `app_id` set.
pub fn echo(message: &Message, app_id: u64) -> Option<Box<RawValue>> {
    raw(&MessageEvent {
        sender: Party {
            id: &message.page_id,
        },
        recipient: Party { id: &message.psid },
        timestamp: message.timestamp,
        message: MessageBody {
            is_echo: true,
            app_id: Some(app_id),
            metadata: message.metadata.as_deref(),
            ..body(message)
        },
    })
}

/// Every Page message to `psid` at or before `watermark` is delivered; `mids`, when
/// given, names the messages this receipt is for (Facebook sometimes leaves it out).
pub fn delivery(
    page_id: &str,
    psid: &str,
    mids: Option<&[String]>,
    watermark: i64,
    now: i64,
) -> Option<Box<RawValue>> {
    raw(&DeliveryEvent {
        sender: Party { id: psid },
        recipient: Party { id: page_id },
        timestamp: now,
        delivery: DeliveryBody { mids, watermark },
    })
}

/// Every Page message to `psid` at or before `watermark` was read.
pub fn read(page_id: &str, psid: &str, watermark: i64, now: i64) -> Option<Box<RawValue>> {
    raw(&ReadEvent {
        sender: Party { id: psid },
        recipient: Party { id: page_id },
        timestamp: now,
        read: Watermark { watermark },
    })
}
