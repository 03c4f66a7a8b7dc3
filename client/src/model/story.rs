//! The customer panel's words: how a customer came (a referral), and when they wrote.
use serde_json::Value;

use super::time;

/// How a customer came to the Page, as Facebook said (`Referral`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: String,
    pub source: String,
    pub ref_param: Option<String>,
    pub ad_id: Option<String>,
    pub ad_title: Option<String>,
    pub referer_uri: Option<String>,
    pub at: String,
}

/// The customer panel's data (`CustomerStory`); the other conversations stay JSON, each
/// read with the one conversation decoder the client has.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub psid: String,
    pub name: Option<String>,
    pub picture_url: Option<String>,
    pub first_contact_at: Option<String>,
    pub last_contact_at: Option<String>,
    pub inbound_count: i64,
    pub outbound_count: i64,
    pub other_conversations: Vec<Value>,
    pub referrals: Vec<Referral>,
}

/// A string field of `v`.
fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl Story {
    /// The customer's name, or "Customer <PSID>".
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) if !name.trim().is_empty() => name.clone(),
            _ => format!("Customer {}", self.psid),
        }
    }

    /// Read by hand from the answer's `customerStory`: a serde decoder per type costs the
    /// wasm more than these lines (see client/README.md, "Size").
    pub fn from_json(v: &Value) -> Option<Self> {
        let list = |key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        Some(Self {
            psid: text(v, "psid")?,
            name: text(v, "name"),
            picture_url: text(v, "pictureUrl"),
            first_contact_at: text(v, "firstContactAt"),
            last_contact_at: text(v, "lastContactAt"),
            inbound_count: v.get("inboundCount").and_then(Value::as_i64).unwrap_or(0),
            outbound_count: v.get("outboundCount").and_then(Value::as_i64).unwrap_or(0),
            other_conversations: list("otherConversations"),
            referrals: list("referrals")
                .iter()
                .filter_map(|r| {
                    Some(Referral {
                        id: text(r, "id")?,
                        source: text(r, "source")?,
                        ref_param: text(r, "ref"),
                        ad_id: text(r, "adId"),
                        ad_title: text(r, "adTitle"),
                        referer_uri: text(r, "refererUri"),
                        at: text(r, "at")?,
                    })
                })
                .collect(),
        })
    }
}

impl Referral {
    /// What it was: "An ad", "An m.me link", "The chat plugin on a website", or
    /// Facebook's word for a source this client does not know.
    pub fn title(&self) -> String {
        match self.source.as_str() {
            "ADS" => "An ad".into(),
            "SHORTLINK" => "An m.me link".into(),
            "CUSTOMER_CHAT_PLUGIN" => "The chat plugin on a website".into(),
            other => format!("Source {other}"),
        }
    }

    /// When, then its details, in one line: the ad's title and id, the `ref`.
    pub fn details(&self, when: String) -> String {
        let mut line = when;
        if let Some(title) = &self.ad_title {
            line += &format!(" · “{title}”");
        }
        if let Some(id) = &self.ad_id {
            line += &format!(" · ad {id}");
        }
        if let Some(r) = &self.ref_param {
            line += &format!(" · ref: {r}");
        }
        line
    }

    /// The plugin's web page, to link to: http(s) only (the server refuses others too).
    pub fn page_link(&self) -> Option<&str> {
        self.referer_uri
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    }
}

/// `Today 14:02`, `Yesterday 09:10`, `Tue 24 Nov 18:30`: a contact time (RFC 3339), in
/// the browser's zone (`offset_minutes` as JavaScript gives it), seen on `now_ms`; `—`
/// for none.
#[inline(never)]
pub fn contact_time(at: Option<&str>, now_ms: i64, offset_minutes: i64) -> String {
    let Some(ms) = at.and_then(time::parse_rfc3339) else {
        return "—".into();
    };
    let day = time::local_day(ms, offset_minutes);
    let today = time::local_day(now_ms, offset_minutes);
    format!(
        "{} {}",
        time::day_label(day, today),
        time::clock(ms, offset_minutes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referral(source: &str) -> Referral {
        Referral {
            id: "1".into(),
            source: source.into(),
            ref_param: None,
            ad_id: None,
            ad_title: None,
            referer_uri: None,
            at: "2026-11-26T13:25:26.123Z".into(),
        }
    }

    #[test]
    fn each_source_says_how_the_customer_came() {
        let ad = Referral {
            ad_id: Some("604".into()),
            ad_title: Some("Tents -20%".into()),
            ref_param: Some("spring".into()),
            ..referral("ADS")
        };
        assert_eq!(ad.title(), "An ad");
        assert_eq!(
            ad.details("Today 10:00".into()),
            "Today 10:00 · “Tents -20%” · ad 604 · ref: spring"
        );
        assert_eq!(referral("SHORTLINK").title(), "An m.me link");
        assert_eq!(referral("IGME").title(), "Source IGME");
        let plugin = Referral {
            referer_uri: Some("javascript:alert(1)".into()),
            ..referral("CUSTOMER_CHAT_PLUGIN")
        };
        assert_eq!(plugin.page_link(), None, "never a script link");
    }

    #[test]
    fn a_story_reads_from_the_answer() {
        let v = serde_json::json!({ "psid": "9", "name": null, "inboundCount": 3, "outboundCount": 1,
            "otherConversations": [{ "id": "7" }],
            "referrals": [{ "id": "1", "source": "ADS", "ref": "r", "adId": "5", "at": "t" }, { "id": "2" }] });
        let story = Story::from_json(&v).unwrap();
        assert_eq!((story.inbound_count, story.outbound_count), (3, 1));
        assert_eq!(story.name, None);
        assert_eq!(story.other_conversations.len(), 1);
        assert_eq!(story.referrals.len(), 1, "one without a source is left out");
        assert_eq!(story.referrals[0].ad_id.as_deref(), Some("5"));
        assert_eq!(Story::from_json(&serde_json::json!({})), None);
    }

    #[test]
    fn contact_times_name_the_day() {
        let now = 1_764_163_526_123; // Wed 26 Nov 2025 13:25 UTC
        assert_eq!(
            contact_time(Some("2025-11-26T13:24:00Z"), now, 0),
            "Today 13:24"
        );
        assert_eq!(
            contact_time(Some("2025-11-25T13:25:00Z"), now, 0),
            "Yesterday 13:25"
        );
        assert_eq!(contact_time(None, now, 0), "—");
    }
}
