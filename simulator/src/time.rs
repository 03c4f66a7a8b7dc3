//! Clock readings in the two forms Facebook uses.

use chrono::{DateTime, Utc};

/// Milliseconds since the epoch, the unit of webhook `timestamp`s and watermarks.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Graph's ISO 8601 form, `2026-11-26T13:25:26+0000`.
pub fn graph_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%z")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_graph() {
        assert_eq!(
            super::graph_time(1_795_699_526_000),
            "2026-11-26T13:25:26+0000"
        );
    }
}
