//! Per-Page throttles over a sliding one-second window.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::RateLimits;

const WINDOW: Duration = Duration::from_secs(1);

/// Which budget a call draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Send API, text and most messages.
    Send,
    /// Send API with audio or video.
    MediaSend,
    /// Conversations API: `/conversations`, `/{thread}`, `/{thread}/messages`, `/{mid}`.
    Conversations,
}

/// The outcome of one call against a budget.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// False when the call is throttled.
    pub allowed: bool,
    /// Percentage of the budget used, as Graph's usage headers report it.
    pub percent: u32,
}

/// Sliding windows per Page and budget. Throttled calls do not count.
#[derive(Default)]
pub struct Limiter {
    limits: RateLimits,
    windows: HashMap<(String, Budget), VecDeque<Instant>>,
    throttled: Throttled,
}

/// How many calls each budget refused since the limits were last set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Throttled {
    /// Send API calls refused.
    pub send: u64,
    /// Send API calls with audio or video refused.
    pub media_send: u64,
    /// Conversations API calls refused.
    pub conversations: u64,
}

impl Limiter {
    /// A limiter with these limits.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            windows: HashMap::new(),
            throttled: Throttled::default(),
        }
    }

    /// How many calls were refused since the limits were last set.
    pub fn throttled(&self) -> Throttled {
        self.throttled
    }

    /// The limits in force.
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Replaces the limits and forgets past calls.
    pub fn set_limits(&mut self, limits: RateLimits) {
        self.limits = limits;
        self.windows.clear();
        self.throttled = Throttled::default();
    }

    /// Counts one call of `page_id` against `budget`, unless it is over the limit.
    pub fn hit(&mut self, page_id: &str, budget: Budget) -> Usage {
        let limit = match budget {
            Budget::Send => self.limits.send_per_sec,
            Budget::MediaSend => self.limits.media_send_per_sec,
            Budget::Conversations => self.limits.conversations_per_sec,
        };
        let Some(limit) = limit else {
            return Usage {
                allowed: true,
                percent: 0,
            };
        };
        let now = Instant::now();
        let window = self
            .windows
            .entry((page_id.to_owned(), budget))
            .or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            window.pop_front();
        }
        let limit_calls = usize::try_from(limit).unwrap_or(usize::MAX);
        let allowed = window.len() < limit_calls;
        if allowed {
            window.push_back(now);
        } else {
            let refused = match budget {
                Budget::Send => &mut self.throttled.send,
                Budget::MediaSend => &mut self.throttled.media_send,
                Budget::Conversations => &mut self.throttled.conversations,
            };
            *refused += 1;
        }
        let used = window.len().saturating_mul(100) / limit_calls.max(1);
        Usage {
            allowed,
            percent: u32::try_from(used.min(100)).unwrap_or(100),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_call_within_a_second_is_throttled() {
        let mut limiter = Limiter::new(RateLimits::default());
        assert!(limiter.hit("1", Budget::Conversations).allowed);
        assert!(limiter.hit("1", Budget::Conversations).allowed);
        let third = limiter.hit("1", Budget::Conversations);
        assert!(!third.allowed);
        assert_eq!(third.percent, 100);
        assert_eq!(limiter.throttled().conversations, 1);
        assert!(
            limiter.hit("2", Budget::Conversations).allowed,
            "budgets are per Page"
        );
    }

    #[test]
    fn switched_off_limits_never_throttle() {
        let mut limiter = Limiter::new(RateLimits::off());
        for _ in 0..1000 {
            assert!(limiter.hit("1", Budget::Send).allowed);
        }
    }
}
