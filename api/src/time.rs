//! Time as the API shows it: RFC 3339 in UTC with milliseconds; stored as ms since the epoch.
use chrono::{DateTime, SecondsFormat, Utc};

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `1764163526123` -> `2025-11-26T13:25:26.123Z`.
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
