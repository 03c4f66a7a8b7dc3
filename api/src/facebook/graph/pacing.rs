//! How the client paces itself: how long a caller waits ([`Patience`]), the Pages Facebook
//! throttled until their `estimated_time_to_regain_access` ([`Blocks`]), and backoff.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a caller can wait for Facebook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Patience {
    /// An agent is waiting (sends, typing, connecting): a few quick retries, and a Page
    /// that Facebook throttled for longer than a few seconds fails at once.
    Interactive,
    /// Background work (history sync, profiles): more retries, and it waits out a
    /// throttle as long as the usage headers say (up to a quarter of an hour a time).
    Background,
}

impl Patience {
    pub(super) fn retries(self) -> u32 {
        match self {
            Self::Interactive => 4,
            Self::Background => 8,
        }
    }

    pub(super) fn max_wait(self) -> Duration {
        match self {
            Self::Interactive => Duration::from_secs(10),
            Self::Background => Duration::from_secs(15 * 60),
        }
    }
}

/// Pages Facebook throttled, and until when.
#[derive(Default)]
pub(super) struct Blocks(Mutex<HashMap<String, Instant>>);

impl Blocks {
    /// How long the Page is still throttled for, if it is.
    pub(super) fn blocked_for(&self, page_id: &str) -> Option<Duration> {
        let mut blocked = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let until = *blocked.get(page_id)?;
        let left = until.checked_duration_since(Instant::now());
        if left.is_none() {
            blocked.remove(page_id);
        }
        left
    }

    /// Holds the Page's calls back for `wait` (a shorter block never shortens a longer one).
    pub(super) fn block(&self, page_id: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut blocked = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = blocked.entry(page_id.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }
}

/// From this share of its budget on (the highest of the usage headers' `call_count`,
/// `total_cputime` and `total_time`), the Page's next calls wait.
const EASE_OFF_FROM: u32 = 80;

/// How long the Page's next call waits when its usage headers say `percent` of the budget
/// is used: nothing under 80%, then from 100 ms at 80% up to 1 s at 100% and over. Facebook
/// throttles at 100% and asks apps to slow down before (Graph API "Rate Limits": "when
/// usage reaches 100%, calls are throttled"), so a sync that ran into its limit waits a
/// moment each call instead of being refused and backing off.
pub(super) fn ease_off(percent: u32) -> Option<Duration> {
    let over = percent.checked_sub(EASE_OFF_FROM)?.min(100 - EASE_OFF_FROM);
    Some(Duration::from_millis(100 + u64::from(over) * 45))
}

/// 200 ms, 400 ms, 800 ms... (capped at 5 s), each with up to 50% random jitter.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = 200u64.saturating_mul(1 << attempt.min(5)).min(5_000);
    let mut byte = [0u8; 1];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => base * u64::from(byte[0]) / 510,
        Err(_) => 0,
    };
    Duration::from_millis(base + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_facebook_throttled_is_left_alone_until_it_regains_access() {
        let blocks = Blocks::default();
        assert_eq!(blocks.blocked_for("1"), None);
        blocks.block("1", Duration::from_secs(60));
        blocks.block("1", Duration::from_secs(1));
        let left = blocks.blocked_for("1").unwrap();
        assert!(
            left > Duration::from_secs(55),
            "a shorter block never shortens a longer one"
        );
        assert_eq!(blocks.blocked_for("2"), None);
    }

    #[test]
    fn calls_slow_down_as_usage_nears_the_limit() {
        assert_eq!(ease_off(0), None);
        assert_eq!(ease_off(79), None);
        assert_eq!(ease_off(80), Some(Duration::from_millis(100)));
        assert_eq!(ease_off(90), Some(Duration::from_millis(550)));
        assert_eq!(ease_off(100), Some(Duration::from_secs(1)));
        assert_eq!(ease_off(250), Some(Duration::from_secs(1)), "capped");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(1) >= Duration::from_millis(400) && backoff(1) <= Duration::from_millis(600)
        );
        assert!(backoff(10) <= Duration::from_millis(7_500));
    }
}
