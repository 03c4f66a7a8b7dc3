//! What Graph's errors mean for us: each answer is classified once ([`Failure`]), and the
//! throttling headers are read into how long to stay away ([`Usage`]).
//!
//! Sources: Graph API "Rate Limits" (codes 4, 17, 32, 613, the Business Use Case codes
//! 80000-80014 with 80001 for Pages and 80006 for Messenger; `X-App-Usage`,
//! `X-Business-Use-Case-Usage` and its `estimated_time_to_regain_access`, in minutes),
//! Messenger Platform "Send API error codes" (551/1545041, 10/2018108, 10/2018278, 200,
//! 230, 2, 1200), Graph API "Handling Errors" (`is_transient`, 190, the 200-299 range of
//! permission errors).
use std::time::Duration;

use serde::Deserialize;

/// Graph's error codes we act on.
pub mod codes {
    /// With subcode 2018278 (or the older 2018065): outside the messaging window; with
    /// 2018108: the person is not receiving messages from the Page.
    pub const PERMISSION: i64 = 10;
    pub const OUTSIDE_WINDOW_SUBCODE: i64 = 2018278;
    pub const OUTSIDE_WINDOW_OLD_SUBCODE: i64 = 2018065;
    pub const NOT_RECEIVING_SUBCODE: i64 = 2018108;
    /// Token expired or revoked: the Page must be reconnected.
    pub const INVALID_TOKEN: i64 = 190;
    pub const INVALID_PARAMETER: i64 = 100;
    /// No profile for this person.
    pub const NO_PROFILE_SUBCODE: i64 = 2018218;
    /// "This person isn't available right now" (subcode 1545041).
    pub const PERSON_UNAVAILABLE: i64 = 551;
    /// Application-, user-, Page- and custom-level throttling.
    pub const RATE_LIMITS: [i64; 4] = [4, 17, 32, 613];
    /// Business Use Case throttling (80001 Pages, 80006 Messenger, ...).
    pub const BUC_RATE_LIMITS: std::ops::RangeInclusive<i64> = 80000..=80014;
    /// Permission errors: 200 to 299 (230: `pages_messaging` is missing).
    pub const PERMISSIONS: std::ops::RangeInclusive<i64> = 200..=299;
    /// Temporary failures: unknown (1), unexpected (2), temporary send failure (1200).
    pub const TEMPORARY: [i64; 3] = [1, 2, 1200];
}

/// What a failed Graph call means, and so what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A rate limit: wait (as long as the usage headers say), then try again.
    Throttled,
    /// Temporary: try again with backoff.
    Transient,
    /// Outside the messaging window (10/2018278).
    OutsideWindow,
    /// The person cannot be messaged now (551/1545041).
    PersonUnavailable,
    /// The person does not receive messages from the Page (10/2018108).
    NotReceiving,
    /// The token lacks a permission (200-299, 230 `pages_messaging`): reconnect with it.
    PermissionMissing,
    /// The token was refused (190): reconnect.
    InvalidToken,
    /// Anything else: not retried.
    Other,
}

impl Failure {
    /// Our code for it, stored on a FAILED message (`Message.errorCode`).
    pub fn error_code(self) -> &'static str {
        match self {
            Self::Throttled => "RATE_LIMITED",
            Self::Transient => "TEMPORARY_FAILURE",
            Self::OutsideWindow => "OUTSIDE_MESSAGING_WINDOW",
            Self::PersonUnavailable => "RECIPIENT_UNAVAILABLE",
            Self::NotReceiving => "RECIPIENT_NOT_RECEIVING",
            Self::PermissionMissing => "PERMISSION_MISSING",
            Self::InvalidToken => "PAGE_NEEDS_RECONNECT",
            Self::Other => "GRAPH_API_ERROR",
        }
    }

    /// Worth trying the same call again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Transient)
    }
}

/// Classifies one Graph error answer.
pub fn classify(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    is_transient: Option<bool>,
) -> Failure {
    use codes::*;
    match (code, subcode) {
        (c, _) if RATE_LIMITS.contains(&c) || BUC_RATE_LIMITS.contains(&c) => Failure::Throttled,
        (INVALID_TOKEN, _) => Failure::InvalidToken,
        (PERMISSION, Some(OUTSIDE_WINDOW_SUBCODE | OUTSIDE_WINDOW_OLD_SUBCODE)) => {
            Failure::OutsideWindow
        }
        (PERMISSION, Some(NOT_RECEIVING_SUBCODE)) => Failure::NotReceiving,
        (PERSON_UNAVAILABLE, _) => Failure::PersonUnavailable,
        (c, _) if PERMISSIONS.contains(&c) => Failure::PermissionMissing,
        (c, _) if TEMPORARY.contains(&c) => Failure::Transient,
        _ if is_transient == Some(true) || status >= 500 => Failure::Transient,
        _ => Failure::Other,
    }
}

/// What the throttling headers of one answer say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// The highest percentage of any budget used (`call_count`, `total_time`, `total_cputime`).
    pub percent: u32,
    /// How long until calls go through again (`estimated_time_to_regain_access`, minutes).
    pub regain_access: Option<Duration>,
}

#[derive(Deserialize)]
struct UsageEntry {
    #[serde(default)]
    call_count: f64,
    #[serde(default)]
    total_time: f64,
    #[serde(default)]
    total_cputime: f64,
    #[serde(default)]
    estimated_time_to_regain_access: f64,
}

impl UsageEntry {
    fn percent(&self) -> u32 {
        let top = self
            .call_count
            .max(self.total_time)
            .max(self.total_cputime)
            .clamp(0.0, 1000.0);
        // In range by the clamp above.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let top = top as u32;
        top
    }

    fn regain(&self) -> Option<Duration> {
        let minutes = self.estimated_time_to_regain_access;
        // A day at most: a longer (or absurd) estimate is read as a day.
        (minutes.is_finite() && minutes > 0.0)
            .then(|| Duration::from_secs_f64((minutes * 60.0).min(86_400.0)))
    }
}

impl Usage {
    /// Reads `X-App-Usage` (`{"call_count":..}`) and `X-Business-Use-Case-Usage`
    /// (`{"<id>":[{"type","call_count",..,"estimated_time_to_regain_access"}]}`); a header
    /// that does not parse is ignored.
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Self {
        let mut entries: Vec<UsageEntry> = Vec::new();
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(app) = text("x-app-usage")
            && let Ok(entry) = serde_json::from_str::<UsageEntry>(app)
        {
            entries.push(entry);
        }
        if let Some(buc) = text("x-business-use-case-usage")
            && let Ok(map) =
                serde_json::from_str::<std::collections::HashMap<String, Vec<UsageEntry>>>(buc)
        {
            entries.extend(map.into_values().flatten());
        }
        Self {
            percent: entries.iter().map(UsageEntry::percent).max().unwrap_or(0),
            regain_access: entries.iter().filter_map(UsageEntry::regain).max(),
        }
    }
}

/// What went wrong talking to Facebook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("Graph API error {code}/{subcode:?}: {message}")]
    Api {
        status: u16,
        code: i64,
        subcode: Option<i64>,
        message: String,
        fbtrace_id: Option<String>,
        /// The body's `is_transient`.
        is_transient: Option<bool>,
        /// From the usage headers: how long until calls go through again.
        regain_access: Option<Duration>,
    },
    /// Not sent: Facebook throttled the Page and said when calls go through again.
    #[error("Graph API throttled this Page; calls go through again in {} s", .0.as_secs())]
    Throttled(Duration),
    #[error("Graph API unreachable: {0}")]
    Transport(String),
    #[error("unexpected Graph API answer: {0}")]
    Decode(String),
}

impl GraphError {
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// What it means (see [`Failure`]).
    pub fn failure(&self) -> Failure {
        match self {
            Self::Api {
                status,
                code,
                subcode,
                is_transient,
                ..
            } => classify(*status, *code, *subcode, *is_transient),
            Self::Throttled(_) => Failure::Throttled,
            Self::Transport(_) => Failure::Transient,
            Self::Decode(_) => Failure::Other,
        }
    }

    pub fn is_outside_window(&self) -> bool {
        self.failure() == Failure::OutsideWindow
    }

    pub fn is_invalid_token(&self) -> bool {
        self.failure() == Failure::InvalidToken
    }

    /// The token lacks a permission (200-299, 230): the Page must be reconnected with it.
    pub fn is_permission_missing(&self) -> bool {
        self.failure() == Failure::PermissionMissing
    }

    pub fn is_rate_limited(&self) -> bool {
        self.failure() == Failure::Throttled
    }

    /// A code-100 refusal of a `next` URL: Graph's cursors go stale (its paging docs say
    /// not to keep them), and a stale one is refused as an invalid parameter.
    pub fn is_invalid_parameter(&self) -> bool {
        self.code() == Some(codes::INVALID_PARAMETER)
    }

    pub(super) fn regain_access(&self) -> Option<Duration> {
        match self {
            Self::Api { regain_access, .. } => *regain_access,
            Self::Throttled(wait) => Some(*wait),
            _ => None,
        }
    }
}

/// An error answer: `{"error": {...}}`.
#[derive(Deserialize)]
pub(super) struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Deserialize)]
pub(super) struct ErrorBody {
    pub message: Option<String>,
    pub code: Option<i64>,
    pub error_subcode: Option<i64>,
    pub fbtrace_id: Option<String>,
    pub is_transient: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_its_meaning() {
        for code in [4, 17, 32, 613, 80001, 80006] {
            assert_eq!(
                classify(400, code, None, None),
                Failure::Throttled,
                "{code}"
            );
        }
        assert_eq!(
            classify(400, 551, Some(1545041), None),
            Failure::PersonUnavailable
        );
        assert_eq!(
            classify(400, 10, Some(2018108), None),
            Failure::NotReceiving
        );
        assert_eq!(
            classify(400, 10, Some(2018278), None),
            Failure::OutsideWindow
        );
        assert_eq!(classify(400, 200, None, None), Failure::PermissionMissing);
        assert_eq!(classify(400, 230, None, None), Failure::PermissionMissing);
        assert_eq!(classify(400, 2, None, Some(true)), Failure::Transient);
        assert_eq!(classify(400, 1200, None, None), Failure::Transient);
        assert_eq!(classify(400, 190, Some(460), None), Failure::InvalidToken);
        assert_eq!(classify(400, 100, None, Some(true)), Failure::Transient);
        assert_eq!(classify(400, 100, None, Some(false)), Failure::Other);
        assert_eq!(classify(503, 0, None, None), Failure::Transient);
    }

    #[test]
    fn usage_headers_say_how_long_to_stay_away() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-business-use-case-usage",
            r#"{"123":[{"type":"messenger","call_count":100,"total_cputime":12,"total_time":21,"estimated_time_to_regain_access":2}]}"#
                .parse()
                .unwrap(),
        );
        headers.insert(
            "x-app-usage",
            r#"{"call_count":40,"total_cputime":3,"total_time":5}"#
                .parse()
                .unwrap(),
        );
        let usage = Usage::from_headers(&headers);
        assert_eq!(usage.percent, 100);
        assert_eq!(usage.regain_access, Some(Duration::from_secs(120)));
        headers.insert("x-business-use-case-usage", "not json".parse().unwrap());
        let usage = Usage::from_headers(&headers);
        assert_eq!((usage.percent, usage.regain_access), (40, None));
    }
}
