//! What a test needs besides the server, and what happens when it is missing here.
//!
//! Services and tools: PostgreSQL (`MF_TEST_POSTGRES_URL`), Redis (`MF_TEST_REDIS_URL`),
//! `redis-server`, node with the stock JavaScript clients. The browser tests': Chromium,
//! chromedriver and the built pages (`client/dist`, `graphiql/dist`). A test whose need is
//! missing is skipped with a loud message, except where the run must prove it works:
//! under `CI=true` (or `1`), `MF_REQUIRE_SERVICES=1` (services and tools) or
//! `MF_REQUIRE_BROWSER=1` (browser and built pages), it fails, naming what is missing.
//! `scripts/test` sets both switches; its SQLite pass leaves out the tests that need
//! PostgreSQL or Redis, which run (or fail) in its PostgreSQL + Redis pass.

use std::io::Write;

/// What kind of need a test has, which says which switch makes it required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// PostgreSQL, Redis, `redis-server`, node and its packages: `MF_REQUIRE_SERVICES=1`.
    Service,
    /// Chromium, chromedriver, `client/dist`, `graphiql/dist`: `MF_REQUIRE_BROWSER=1`.
    Browser,
}

impl Need {
    /// The variable that makes this kind of need required outside CI.
    pub fn switch(self) -> &'static str {
        match self {
            Need::Service => "MF_REQUIRE_SERVICES",
            Need::Browser => "MF_REQUIRE_BROWSER",
        }
    }

    /// Whether a missing need of this kind fails the test rather than skips it.
    pub fn required(self) -> bool {
        std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
            || std::env::var(self.switch()).is_ok_and(|v| v == "1")
    }
}

/// The running test's name: libtest names each test's thread after it.
pub fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned()
}

/// `missing` (what, and how to get it) is not here: fails the test when `need` is
/// required, or prints that it is skipped (the caller then returns).
pub fn missing(need: Need, missing: &str) {
    let test = current_test();
    assert!(
        !need.required(),
        "test {test} cannot run: missing {missing} \
         (required because CI or {}=1 is set)",
        need.switch()
    );
    // Straight to stderr, past the test harness's capture, so a skip shows in every run.
    let _ = writeln!(
        std::io::stderr(),
        "\n==== SKIPPED {test}: missing {missing}.\n==== scripts/test provides it; \
         set {}=1 to fail instead.\n",
        need.switch()
    );
}

/// Whether every one of `variables` (`MF_TEST_POSTGRES_URL`, `MF_TEST_REDIS_URL`) is set,
/// so the test can run. When one is not, the test fails if services are required (naming
/// the variable), else it is skipped with a message: the caller returns.
#[must_use = "the test returns when its services are missing"]
pub fn services(variables: &[&str]) -> bool {
    let unset: Vec<&str> = variables
        .iter()
        .copied()
        .filter(|name| !std::env::var(name).is_ok_and(|value| !value.is_empty()))
        .collect();
    if unset.is_empty() {
        return true;
    }
    missing(
        Need::Service,
        &format!(
            "{} (scripts/test sets it in its PostgreSQL + Redis pass, and leaves the \
             tests named in its services_only list out of its SQLite pass)",
            unset.join(" and ")
        ),
    );
    false
}
