//! Facebook's webhook JSON as it comes, before we judge it: every field optional, ids as
//! strings or numbers, events and entries kept raw so one bad one can be skipped alone.
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    pub(super) object: Option<String>,
    #[serde(default, borrow)]
    pub(super) entry: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct Entry<'a> {
    pub(super) id: Option<FbId>,
    #[serde(default, borrow)]
    pub(super) messaging: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    pub(super) standby: Vec<&'a RawValue>,
}

/// Facebook sends ids as strings; accept numbers too rather than drop the event.
#[derive(Deserialize)]
#[serde(from = "IdRepr")]
pub(super) struct FbId(pub(super) String);

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
pub(super) struct Party {
    pub(super) id: Option<FbId>,
    /// The chat plugin identifies a visitor by `user_ref` instead of a PSID.
    pub(super) user_ref: Option<String>,
}

impl Party {
    pub(super) fn into_id(self) -> Option<String> {
        self.id
            .map(|id| id.0)
            .or(self.user_ref)
            .and_then(super::valid_id)
    }
}

#[derive(Deserialize)]
pub(super) struct RawEvent {
    pub(super) sender: Option<Party>,
    pub(super) recipient: Option<Party>,
    pub(super) timestamp: Option<i64>,
    pub(super) message: Option<RawMessage>,
    pub(super) postback: Option<RawPostback>,
    pub(super) delivery: Option<RawWatermark>,
    pub(super) read: Option<RawWatermark>,
    pub(super) reaction: Option<RawReaction>,
    pub(super) message_edit: Option<RawEdit>,
    pub(super) referral: Option<RawReferral>,
}

#[derive(Deserialize)]
pub(super) struct RawMessage {
    pub(super) mid: Option<String>,
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) is_echo: bool,
    pub(super) app_id: Option<FbId>,
    pub(super) metadata: Option<String>,
    pub(super) quick_reply: Option<RawQuickReply>,
    pub(super) reply_to: Option<RawReplyTo>,
    #[serde(default)]
    pub(super) attachments: Vec<RawAttachment>,
    /// A customer's first message after a click-to-Messenger ad.
    pub(super) referral: Option<RawReferral>,
}

#[derive(Deserialize)]
pub(super) struct RawQuickReply {
    pub(super) payload: String,
}

#[derive(Deserialize)]
pub(super) struct RawReplyTo {
    pub(super) mid: Option<String>,
}

/// An attachment: `type` and a `payload` of its type's shape. A shared link (`fallback`)
/// and a location may carry `title` and `url` beside the payload (the older shape) or in
/// it; both are read.
#[derive(Deserialize)]
pub(super) struct RawAttachment {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) payload: Option<RawAttachmentPayload>,
    pub(super) title: Option<String>,
    pub(super) url: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawAttachmentPayload {
    pub(super) url: Option<String>,
    pub(super) title: Option<String>,
    /// Stickers: as a `sticker` attachment, or (before August 2026) an `image` one.
    pub(super) sticker_id: Option<FbId>,
    /// Locations.
    pub(super) coordinates: Option<RawCoordinates>,
}

#[derive(Deserialize)]
pub(super) struct RawCoordinates {
    pub(super) lat: f64,
    pub(super) long: f64,
}

#[derive(Deserialize)]
pub(super) struct RawPostback {
    pub(super) mid: Option<String>,
    pub(super) title: Option<String>,
    pub(super) payload: Option<String>,
    /// Get Started in a new thread, pressed after an ad, an m.me link or the chat plugin.
    pub(super) referral: Option<RawReferral>,
}

/// `referral`: `{ref?, source, type, ad_id?, referer_uri?, ads_context_data?}`, standalone
/// (`messaging_referrals`) or inside a postback or a message.
#[derive(Deserialize)]
pub(super) struct RawReferral {
    #[serde(rename = "ref")]
    pub(super) ref_param: Option<String>,
    pub(super) source: Option<String>,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) ad_id: Option<FbId>,
    pub(super) referer_uri: Option<String>,
    pub(super) ads_context_data: Option<RawAdsContext>,
}

#[derive(Deserialize)]
pub(super) struct RawAdsContext {
    pub(super) ad_title: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawWatermark {
    pub(super) watermark: i64,
}

/// `message_reactions`: `{reaction, emoji, action: react|unreact, mid}`; an unreact may
/// leave out `reaction` and `emoji`.
#[derive(Deserialize)]
pub(super) struct RawReaction {
    pub(super) mid: Option<String>,
    pub(super) action: Option<String>,
    pub(super) reaction: Option<String>,
    pub(super) emoji: Option<String>,
}

/// `message_edits`: `{mid, text, num_edit}`. The reference's example writes `num_edit`
/// as a string and its table says integer: both are read.
#[derive(Deserialize)]
pub(super) struct RawEdit {
    pub(super) mid: Option<String>,
    pub(super) text: Option<String>,
    pub(super) num_edit: Option<FbId>,
}
