//! Rate limits: sign-in attempts per address and per email, API calls per token.
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Sign-in attempts a minute from one address.
const LOGIN_PER_IP_PER_MINUTE: u32 = 30;
/// Sign-in attempts a minute for one email, from anywhere: brute force on one account.
const LOGIN_PER_EMAIL_PER_MINUTE: u32 = 10;
/// Requests a second for one API token, with a burst of twice that.
const API_PER_TOKEN_PER_SECOND: u32 = 50;

/// Shared by every request of this instance.
pub struct Limits {
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_email: DefaultKeyedRateLimiter<String>,
    api_token: DefaultKeyedRateLimiter<i64>,
    clock: DefaultClock,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limits {
    pub fn new() -> Self {
        Self {
            login_ip: RateLimiter::keyed(Quota::per_minute(nonzero(LOGIN_PER_IP_PER_MINUTE))),
            login_email: RateLimiter::keyed(Quota::per_minute(nonzero(LOGIN_PER_EMAIL_PER_MINUTE))),
            api_token: RateLimiter::keyed(
                Quota::per_second(nonzero(API_PER_TOKEN_PER_SECOND))
                    .allow_burst(nonzero(2 * API_PER_TOKEN_PER_SECOND)),
            ),
            clock: DefaultClock::default(),
        }
    }

    /// One sign-in attempt from `ip` for `email`.
    pub fn login(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        if let Some(ip) = ip {
            self.login_ip
                .check_key(&ip)
                .map_err(|wait| self.limited(wait.wait_time_from(self.clock.now())))?;
        }
        let email = email.trim().to_lowercase();
        self.login_email
            .check_key(&email)
            .map_err(|wait| self.limited(wait.wait_time_from(self.clock.now())))?;
        self.forget_old();
        Ok(())
    }

    /// One API call with token `id`.
    pub fn api_call(&self, token_id: i64) -> Result<(), ApiError> {
        self.api_calls(token_id, 1)
    }

    /// `calls` API calls at once with token `id` (a batch pays one per item): all of them,
    /// or none and RATE_LIMITED.
    pub fn api_calls(&self, token_id: i64, calls: u32) -> Result<(), ApiError> {
        match self.api_token.check_key_n(&token_id, nonzero(calls)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(wait)) => Err(self.limited(wait.wait_time_from(self.clock.now()))),
            // More than the burst: never possible, whatever the wait.
            Err(_) => Err(self.limited(std::time::Duration::from_secs(1))),
        }
    }

    fn limited(&self, wait: std::time::Duration) -> ApiError {
        ApiError::RateLimited(wait.as_secs().max(1))
    }

    /// Keeps the keyed state from growing without bound.
    fn forget_old(&self) {
        if self.login_ip.len() > 10_000 {
            self.login_ip.retain_recent();
        }
        if self.login_email.len() > 10_000 {
            self.login_email.retain_recent();
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}
