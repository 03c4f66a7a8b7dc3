//! Rate limits: sign-in attempts per (email, address) with back-off and per address across
//! emails; API calls per token.
//!
//! Sign-in is keyed by the pair, not by the email alone: a stranger failing at an agent's
//! email from their own address backs off themselves, and the agent still signs in from
//! theirs. Guessing many emails from one address meets the per-address limit; guessing
//! one email from many addresses meets a per-email limit, which spares the addresses that
//! email signed in from before.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Sign-in attempts a minute from one address (an IPv6 /64), whatever the email.
const LOGIN_PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Failed sign-ins for one email from one address before the next one waits.
pub const LOGIN_FREE_FAILURES: u32 = 10;
/// The first wait; each further failure doubles it, up to `LOGIN_MAX_BACKOFF`.
const LOGIN_FIRST_BACKOFF: Duration = Duration::from_secs(1);
const LOGIN_MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// A pair with no failure for this long starts again from zero.
const LOGIN_FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Most (email, address) pairs remembered: the oldest are forgotten beyond it.
const LOGIN_MAX_PAIRS: usize = 50_000;
/// Longest email kept as a key (longer ones cannot be valid: RFC 5321 allows 254).
const MAX_EMAIL_KEY: usize = 320;
/// Sign-in attempts for one email from addresses it has not signed in from: a burst of
/// 50, then 10 a minute. Guessing one password from many addresses (each with its own
/// free failures) meets it; the agent's own addresses do not (`LOGIN_KNOWN_FOR`).
const LOGIN_PER_EMAIL_BURST: u32 = 50;
const LOGIN_PER_EMAIL_PER_MINUTE: u32 = 10;
/// How long a successful sign-in from an address exempts that (email, address) pair
/// from the per-email limit.
const LOGIN_KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Shared by every request of this instance.
pub struct Limits {
    login_address: DefaultKeyedRateLimiter<IpAddr>,
    login_pairs: Mutex<HashMap<PairKey, Failures>>,
    login_email: DefaultKeyedRateLimiter<String>,
    /// Pairs that signed in, and when (at most `LOGIN_MAX_PAIRS`).
    login_known: Mutex<HashMap<PairKey, Instant>>,
    api_token: DefaultKeyedRateLimiter<i64>,
    clock: DefaultClock,
}

type PairKey = (IpAddr, String);

/// Failed (or still running) sign-ins of one pair.
struct Failures {
    count: u32,
    last: Instant,
    /// No attempt before this.
    wait_until: Instant,
}

/// A sign-in attempt let through. `succeeded` forgets its pair's failures; dropped
/// without it, the attempt failed and the pair's wait starts from the failure (not from
/// when the password check began).
#[must_use]
pub struct LoginAttempt<'a> {
    limits: &'a Limits,
    key: Option<PairKey>,
}

impl LoginAttempt<'_> {
    /// The password was right: the pair starts again from zero.
    pub fn succeeded(mut self) {
        if let Some(key) = self.key.take() {
            self.limits.pairs().remove(&key);
            self.limits.remember(key);
        }
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let now = Instant::now();
        if let Some(failures) = self.limits.pairs().get_mut(&key) {
            failures.wait_until = failures.wait_until.max(now + backoff(failures.count));
        }
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// The unit an address is limited as: an IPv4 address, or an IPv6 /64 (what one
/// subscriber usually holds).
fn address_key(ip: Option<IpAddr>) -> IpAddr {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        Some(v4) => v4,
        None => IpAddr::from([0, 0, 0, 0]),
    }
}

fn email_key(email: &str) -> String {
    let email = email.trim().to_lowercase();
    match email.char_indices().nth(MAX_EMAIL_KEY) {
        Some((cut, _)) => email[..cut].to_owned(),
        None => email,
    }
}

/// The wait after the `count`-th failure: none before the `LOGIN_FREE_FAILURES`-th, then
/// 1 s, 2 s, 4 s, … up to 15 minutes.
fn backoff(count: u32) -> Duration {
    let Some(extra) = count.checked_sub(LOGIN_FREE_FAILURES) else {
        return Duration::ZERO;
    };
    LOGIN_FIRST_BACKOFF
        .checked_mul(2u32.saturating_pow(extra.min(31)))
        .unwrap_or(LOGIN_MAX_BACKOFF)
        .min(LOGIN_MAX_BACKOFF)
}

/// Whole seconds to wait, at least one.
fn retry_after(wait: Duration) -> ApiError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::RateLimited(seconds.max(1))
}

impl Limits {
    /// `api_per_token_per_second`: calls a second for one API token, with a burst of
    /// twice that (`MF_API_TOKEN_RATE_PER_SECOND`).
    pub fn new(api_per_token_per_second: u32) -> Self {
        Self {
            login_address: RateLimiter::keyed(Quota::per_minute(nonzero(
                LOGIN_PER_ADDRESS_PER_MINUTE,
            ))),
            login_pairs: Mutex::default(),
            login_email: RateLimiter::keyed(
                Quota::per_minute(nonzero(LOGIN_PER_EMAIL_PER_MINUTE))
                    .allow_burst(nonzero(LOGIN_PER_EMAIL_BURST)),
            ),
            login_known: Mutex::default(),
            api_token: RateLimiter::keyed(
                Quota::per_second(nonzero(api_per_token_per_second))
                    .allow_burst(nonzero(api_per_token_per_second.saturating_mul(2))),
            ),
            clock: DefaultClock::default(),
        }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<PairKey, Instant>> {
        self.login_known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `key` signed in: exempt from the per-email limit for `LOGIN_KNOWN_FOR`.
    fn remember(&self, key: PairKey) {
        let now = Instant::now();
        let mut known = self.known();
        if known.len() >= LOGIN_MAX_PAIRS && !known.contains_key(&key) {
            known.retain(|_, at| now.duration_since(*at) <= LOGIN_KNOWN_FOR);
            if known.len() * 4 > LOGIN_MAX_PAIRS * 3 {
                let mut times: Vec<Instant> = known.values().copied().collect();
                let middle = times.len() / 2;
                let (_, cutoff, _) = times.select_nth_unstable(middle);
                let cutoff = *cutoff;
                known.retain(|_, at| *at > cutoff);
            }
        }
        known.insert(key, now);
    }

    fn pairs(&self) -> std::sync::MutexGuard<'_, HashMap<PairKey, Failures>> {
        self.login_pairs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One sign-in attempt from `ip` for `email`. It counts as a failure until
    /// `LoginAttempt::succeeded` says otherwise, so attempts running at once count too.
    pub fn login(&self, ip: Option<IpAddr>, email: &str) -> Result<LoginAttempt<'_>, ApiError> {
        let address = address_key(ip);
        self.login_address
            .check_key(&address)
            .map_err(|wait| retry_after(wait.wait_time_from(self.clock.now())))?;
        if self.login_address.len() > LOGIN_MAX_PAIRS {
            self.login_address.retain_recent();
        }
        let key = (address, email_key(email));
        let now = Instant::now();
        let known = self
            .known()
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) <= LOGIN_KNOWN_FOR);
        let mut pairs = self.pairs();
        if let Some(failures) = pairs.get(&key)
            && failures.wait_until > now
        {
            return Err(retry_after(failures.wait_until - now));
        }
        if !known {
            self.login_email
                .check_key(&key.1)
                .map_err(|wait| retry_after(wait.wait_time_from(self.clock.now())))?;
            if self.login_email.len() > LOGIN_MAX_PAIRS {
                self.login_email.retain_recent();
            }
        }
        if pairs.len() >= LOGIN_MAX_PAIRS && !pairs.contains_key(&key) {
            forget_oldest(&mut pairs, now);
        }
        let failures = pairs.entry(key.clone()).or_insert(Failures {
            count: 0,
            last: now,
            wait_until: now,
        });
        if now.duration_since(failures.last) > LOGIN_FORGET_AFTER {
            failures.count = 0;
        }
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
        failures.wait_until = now + backoff(failures.count);
        Ok(LoginAttempt {
            limits: self,
            key: Some(key),
        })
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
            Ok(Err(wait)) => Err(retry_after(wait.wait_time_from(self.clock.now()))),
            // More than the burst: never possible, whatever the wait.
            Err(_) => Err(retry_after(Duration::from_secs(1))),
        }
    }
}

/// Makes room in a full map: first the pairs quiet for `LOGIN_FORGET_AFTER`, then, if it
/// is still more than three quarters full, the older half (sorted once, so a flood of new
/// pairs costs O(log n) each on average).
fn forget_oldest(pairs: &mut HashMap<PairKey, Failures>, now: Instant) {
    pairs.retain(|_, failures| now.duration_since(failures.last) <= LOGIN_FORGET_AFTER);
    if pairs.len() * 4 <= LOGIN_MAX_PAIRS * 3 {
        return;
    }
    let mut lasts: Vec<Instant> = pairs.values().map(|failures| failures.last).collect();
    let middle = lasts.len() / 2;
    let (_, cutoff, _) = lasts.select_nth_unstable(middle);
    let cutoff = *cutoff;
    pairs.retain(|_, failures| failures.last > cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_per_pair_and_a_success_resets_it() {
        let limits = Limits::new(50);
        let stranger = Some(IpAddr::from([203, 0, 113, 7]));
        let agent = Some(IpAddr::from([198, 51, 100, 2]));
        for _ in 0..LOGIN_FREE_FAILURES {
            let failed = limits.login(stranger, "Ada@Example.com");
            assert!(failed.is_ok());
        }
        assert!(matches!(
            limits.login(stranger, "ada@example.com"),
            Err(ApiError::RateLimited(1))
        ));
        limits.login(agent, "ada@example.com").unwrap().succeeded();
        assert!(limits.login(stranger, "grace@example.com").is_ok());
    }

    #[test]
    fn many_addresses_guessing_one_email_are_limited_but_its_known_addresses_are_not() {
        let limits = Limits::new(50);
        let agent = Some(IpAddr::from([198, 51, 100, 2]));
        limits.login(agent, "ada@example.com").unwrap().succeeded();
        for i in 0..LOGIN_PER_EMAIL_BURST - 1 {
            let stranger = Some(IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]));
            let failed = limits.login(stranger, "ada@example.com");
            assert!(failed.is_ok(), "attempt {i}");
        }
        let newcomer = Some(IpAddr::from([192, 0, 2, 1]));
        assert!(matches!(
            limits.login(newcomer, "ada@example.com"),
            Err(ApiError::RateLimited(_))
        ));
        assert!(limits.login(agent, "ada@example.com").is_ok());
        assert!(limits.login(newcomer, "grace@example.com").is_ok());
    }

    #[test]
    fn the_wait_doubles_up_to_a_cap() {
        assert_eq!(backoff(LOGIN_FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(backoff(LOGIN_FREE_FAILURES), Duration::from_secs(1));
        assert_eq!(backoff(LOGIN_FREE_FAILURES + 2), Duration::from_secs(4));
        assert_eq!(backoff(u32::MAX), LOGIN_MAX_BACKOFF);
    }

    #[test]
    fn ipv6_addresses_are_limited_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(Some(a)), address_key(Some(b)));
        assert_ne!(address_key(Some(a)), address_key(Some(c)));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(Some(mapped)), IpAddr::from([192, 0, 2, 1]));
    }

    #[test]
    fn a_full_map_forgets_its_oldest_pairs() {
        let now = Instant::now();
        let mut pairs = HashMap::new();
        for i in 0..LOGIN_MAX_PAIRS {
            let at = now + Duration::from_millis(i as u64);
            pairs.insert(
                (IpAddr::from([10, 0, 0, 1]), format!("{i}@example.com")),
                Failures {
                    count: 1,
                    last: at,
                    wait_until: at,
                },
            );
        }
        forget_oldest(&mut pairs, now + Duration::from_secs(60));
        assert!(pairs.len() <= LOGIN_MAX_PAIRS / 2, "{}", pairs.len());
        let newest = format!("{}@example.com", LOGIN_MAX_PAIRS - 1);
        assert!(pairs.contains_key(&(IpAddr::from([10, 0, 0, 1]), newest)));
    }
}
