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

/// How far ahead of our clock Facebook's times may be and still be believed.
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// A message time from a webhook, as stored: times before the epoch or more than
/// `MAX_FUTURE_SKEW_MS` ahead of `now` (0, negative, `i64::MAX`: a broken or hostile
/// sender) become `now`, the time we received it. Stored as given, such a time would sort
/// the message first (or last) for ever and, being the conversation's latest, keep every
/// later message from becoming its last one, or hold the messaging window open.
pub fn event_time(raw: i64, now: i64) -> i64 {
    if raw > 0 && raw <= now.saturating_add(MAX_FUTURE_SKEW_MS) {
        raw
    } else {
        now
    }
}

/// A delivery or read watermark from a webhook: `None` when it marks nothing (zero or
/// negative); never later than `now`, so a far-future watermark cannot mark replies not
/// yet sent as delivered or read.
pub fn watermark(raw: i64, now: i64) -> Option<i64> {
    (raw > 0).then(|| raw.min(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_163_526_123;

    #[test]
    fn implausible_event_times_become_the_time_of_receipt() {
        assert_eq!(event_time(NOW - 1000, NOW), NOW - 1000);
        assert_eq!(event_time(NOW + 1000, NOW), NOW + 1000);
        for raw in [0, -1, i64::MIN, i64::MAX, NOW + MAX_FUTURE_SKEW_MS + 1] {
            assert_eq!(event_time(raw, NOW), NOW, "{raw}");
        }
        assert_eq!(event_time(i64::MAX, i64::MAX), i64::MAX);
    }

    #[test]
    fn watermarks_are_positive_and_never_ahead_of_now() {
        assert_eq!(watermark(NOW - 5, NOW), Some(NOW - 5));
        assert_eq!(watermark(i64::MAX, NOW), Some(NOW));
        assert_eq!(watermark(0, NOW), None);
        assert_eq!(watermark(i64::MIN, NOW), None);
    }

    #[test]
    fn any_time_formats() {
        for ms in [i64::MIN, -1, 0, i64::MAX] {
            assert!(!rfc3339(ms).is_empty());
        }
    }
}
