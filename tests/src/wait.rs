//! Waiting for what should happen soon: [`eventually`] looks again and again until what it
//! looks at is there, and fails the test with the last thing it saw when it is not in time.
use std::fmt::Display;
use std::time::Duration;

use tokio::time::Instant;

/// How long [`eventually`] waits between two looks.
pub const POLL: Duration = Duration::from_millis(25);
/// How long a look that starts at the deadline may still take.
const GRACE: Duration = Duration::from_millis(100);

/// What one look found: `Some(value)` / `Ok(value)` ends the wait with `value`;
/// `None` / `Err(observation)` is looked at again (the observation says what was seen).
pub trait Look {
    type Value;
    fn found(self) -> Result<Self::Value, String>;
}

impl<T> Look for Option<T> {
    type Value = T;
    fn found(self) -> Result<T, String> {
        self.ok_or_else(|| "nothing yet".to_owned())
    }
}

impl<T, E: Display> Look for Result<T, E> {
    type Value = T;
    fn found(self) -> Result<T, String> {
        self.map_err(|observation| observation.to_string())
    }
}

/// Runs `look` every [`POLL`] (after the look before ends) until it finds its value (`Some`/`Ok`) and returns that value.
/// Fails the test when nothing is found within `timeout`, with the last observation; a
/// look still running at the deadline is cut short (and so fails too).
///
/// ```ignore
/// let conversation = eventually(TIMEOUT, async || {
///     let data = app.gql_data(QUERY, json!({})).await;
///     match data["conversations"][0].clone() {
///         Value::Null => Err(format!("no conversation yet: {data}")),
///         conversation => Ok(conversation),
///     }
/// })
/// .await;
/// ```
pub async fn eventually<L: Look>(timeout: Duration, look: impl AsyncFnMut() -> L) -> L::Value {
    eventually_every(POLL, timeout, look).await
}

/// Like [`eventually`], waiting `poll` between two looks (a rate-limited API, a tight race).
pub async fn eventually_every<L: Look>(
    poll: Duration,
    timeout: Duration,
    look: impl AsyncFnMut() -> L,
) -> L::Value {
    match within(poll, timeout, look).await {
        Ok(value) => value,
        Err(failure) => panic!("{failure}"),
    }
}

/// The value `look` finds within `timeout`, looking every `poll`; or, when it finds none in
/// time, what went wrong (with the last observation) for the caller to fail with.
pub async fn within<L: Look>(
    poll: Duration,
    timeout: Duration,
    mut look: impl AsyncFnMut() -> L,
) -> Result<L::Value, String> {
    let deadline = Instant::now() + timeout;
    let mut last = "nothing: no look finished".to_owned();
    loop {
        // The last look, at the deadline, still gets a moment to answer.
        let cut = deadline.max(Instant::now() + GRACE);
        match tokio::time::timeout_at(cut, look()).await {
            Ok(found) => match found.found() {
                Ok(value) => return Ok(value),
                Err(observation) => last = observation,
            },
            Err(_) => {
                return Err(format!(
                    "not within {timeout:?} (the last look was still running); before it: {last}"
                ));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!("not within {timeout:?}; last seen: {last}"));
        }
        tokio::time::sleep(poll.min(deadline - now)).await;
    }
}
