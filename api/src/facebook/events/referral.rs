//! How a customer came to the Page, when Facebook says so: the `messaging_referrals` event
//! (a person with a thread follows an ad, an m.me link or the chat plugin), and the
//! `referral` inside a postback (Get Started in a new thread) or a message (the first one
//! after a click-to-Messenger ad). From Meta's `messaging_referrals` and `messaging_postbacks`
//! webhook references.
use super::raw::RawReferral;
use super::valid_id;

/// Longest `source` or `type` accepted: Facebook's are short upper-case words.
const MAX_WORD_LEN: usize = 64;
/// Longest `ref` accepted (characters): m.me allows far fewer.
const MAX_REF_CHARS: usize = 2000;
/// Longest ad title accepted (characters).
const MAX_TITLE_CHARS: usize = 1000;
/// Longest `referer_uri` accepted (bytes), as browsers bound an address.
const MAX_URI_LEN: usize = 2048;

/// One referral, as stored: of the customer `psid` of Page `page_id`, once per `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referral {
    pub page_id: String,
    pub psid: String,
    /// The event it came from: `referral:<psid>:<Facebook's raw time>` for a standalone
    /// referral, `mid:<mid>` for one in a postback or a message. A retried delivery
    /// carries the same, so it is stored once.
    pub key: String,
    /// ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN, or a source Facebook adds later.
    pub source: String,
    /// Facebook's `type` (OPEN_THREAD).
    pub kind: Option<String>,
    /// `ref`: the m.me link's, the ad's or the plugin's parameter.
    pub ref_param: Option<String>,
    pub ad_id: Option<String>,
    pub ad_title: Option<String>,
    /// The web page of the chat plugin: http or https only.
    pub referer_uri: Option<String>,
    /// ms since the epoch, Facebook's time (made safe).
    pub timestamp: i64,
}

/// The referral `raw` of `psid`, from the event named by `key`; an error says what makes
/// it malformed.
pub(super) fn referral(
    page_id: &str,
    psid: &str,
    key: String,
    raw: RawReferral,
    timestamp: i64,
) -> Result<Referral, String> {
    let source = raw
        .source
        .filter(|s| word(s))
        .ok_or("referral without a valid source")?;
    let kind = match raw.kind {
        Some(kind) if !word(&kind) => return Err("referral with an invalid type".into()),
        other => other,
    };
    let ref_param = match raw.ref_param {
        Some(r) if r.chars().count() > MAX_REF_CHARS || r.chars().any(char::is_control) => {
            return Err("referral with an invalid ref".into());
        }
        Some(r) if r.is_empty() => None,
        other => other,
    };
    let ad_id = match raw.ad_id {
        Some(id) => Some(valid_id(id.0).ok_or("referral with an invalid ad_id")?),
        None => None,
    };
    let ad_title = match raw.ads_context_data.and_then(|c| c.ad_title) {
        Some(t) if t.chars().count() > MAX_TITLE_CHARS || t.chars().any(char::is_control) => {
            return Err("referral with an invalid ad title".into());
        }
        other => other,
    };
    let referer_uri = match raw.referer_uri {
        Some(uri) if !web_address(&uri) => {
            return Err("referral with a referer_uri that is not an http(s) address".into());
        }
        other => other,
    };
    let key = valid_id(key).ok_or("referral with too long an id to key it")?;
    Ok(Referral {
        page_id: page_id.to_owned(),
        psid: psid.to_owned(),
        key,
        source,
        kind,
        ref_param,
        ad_id,
        ad_title,
        referer_uri,
        timestamp,
    })
}

/// A short token of visible ASCII (`SHORTLINK`, `IGME-SOURCE-LINK`).
fn word(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_WORD_LEN && s.bytes().all(|b| b.is_ascii_graphic())
}

/// An http(s) address without spaces or control characters: the inbox links to it.
fn web_address(uri: &str) -> bool {
    let lower = uri
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && uri.len() <= MAX_URI_LEN
        && uri.bytes().all(|b| b.is_ascii_graphic())
}
