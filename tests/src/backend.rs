//! Which database and bus a test server uses. By default a fresh SQLite file and the
//! in-process bus; `scripts/test` runs the suite a second time with
//! `MF_TEST_POSTGRES_URL` (a throwaway cluster: each test gets its own database) and
//! `MF_TEST_REDIS_URL` (the Redis bus; tests share the server, each app its own events).
//!
//! A test's PostgreSQL database (`mf_test_<random>`) is dropped when the last app using it
//! is gone, the test passing or failing (a panic drops the apps too): a cluster that
//! kept them once held 3,646 of them, 28 GB, and filled the disk. Only a test process that
//! is killed leaves its databases behind.
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

/// How long the holder of the last test database waits for the drops still under way
/// (dropping is best effort: a test never fails for it).
const DROP_WAIT: Duration = Duration::from_secs(10);

/// A database made for one test: a fresh SQLite file (in the test's temporary directory,
/// which goes with it) or `mf_test_<random>` on the PostgreSQL cluster, dropped when the
/// last holder of this handle lets go of it.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    /// The cluster (a URL without a database) and the name, for a PostgreSQL database.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates a fresh database for a test whose files live in `dir`.
    pub async fn create(dir: &Path) -> Arc<Self> {
        Fresh::new(dir).create().await
    }

    /// The URL the server connects to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let mut registry = lock_registry();
        registry.live.remove(&self.url);
        if let Some((server, name)) = self.postgres.take() {
            start_dropping(&mut registry, server, name);
        }
        // The test does not wait for its database to go (that takes a few hundred ms on
        // a busy cluster), unless it held the last one: the test binary may be about to
        // exit, which would cut the drops still under way short.
        if registry.live.is_empty() {
            drop(drops_done(registry));
        }
    }
}

/// Waits until the test databases being dropped are gone (at most [`DROP_WAIT`]): for a
/// test that checks what is left on the cluster.
pub fn wait_for_drops() {
    drop(drops_done(lock_registry()));
}

fn drops_done(mut registry: MutexGuard<'static, Registry>) -> MutexGuard<'static, Registry> {
    let deadline = Instant::now() + DROP_WAIT;
    while registry.dropping > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let dropping = registry.dropping;
            report(&format!(
                "{dropping} test database(s) still being dropped after {DROP_WAIT:?}"
            ));
            break;
        }
        registry = dropped()
            .wait_timeout(registry, left)
            .map_or_else(|poisoned| poisoned.into_inner().0, |(guard, _)| guard);
    }
    registry
}

/// A database a test server may use, chosen but not created yet: a server configured
/// with another database (a second instance beside a first) never needs it.
pub(crate) struct Fresh {
    url: String,
    postgres: Option<(String, String)>,
}

impl Fresh {
    /// A new SQLite file in `dir`, or, with `MF_TEST_POSTGRES_URL`, a new database name.
    pub(crate) fn new(dir: &Path) -> Self {
        match std::env::var("MF_TEST_POSTGRES_URL") {
            Ok(base) if !base.is_empty() => {
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes).expect("randomness");
                let name = format!("mf_test_{}", hex::encode(bytes));
                let server = base.trim_end_matches('/').to_owned();
                Self {
                    url: format!("{server}/{name}"),
                    postgres: Some((server, name)),
                }
            }
            _ => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.join("messengerflow.sqlite").display()
                ),
                postgres: None,
            },
        }
    }

    /// The URL it will have.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Creates it (on PostgreSQL; SQLite makes its file on the first connection).
    pub(crate) async fn create(self) -> Arc<TestDatabase> {
        if let Some((server, name)) = &self.postgres {
            let admin = Database::connect(format!("{server}/postgres"))
                .await
                .expect("connecting to the test PostgreSQL cluster");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("creating a test database");
            admin.close().await.ok();
        }
        let database = Arc::new(TestDatabase {
            url: self.url,
            postgres: self.postgres,
        });
        lock_registry()
            .live
            .insert(database.url.clone(), Arc::downgrade(&database));
        database
    }
}

/// The database a server configured with `url` uses: `fresh`, created now, when the
/// configuration kept it; else the test database already at `url` (a second instance
/// beside a first holds it too, so it outlives both), or `None` for a database no test
/// made.
pub(crate) async fn database_for(url: &str, fresh: Fresh) -> Option<Arc<TestDatabase>> {
    if url == fresh.url() {
        return Some(fresh.create().await);
    }
    lock_registry().live.get(url).and_then(Weak::upgrade)
}

/// The Redis URL for one test server, when the suite runs on Redis.
pub fn redis_url() -> Option<String> {
    std::env::var("MF_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The test databases of this process that exist now, and how many are being dropped.
#[derive(Default)]
struct Registry {
    live: HashMap<String, Weak<TestDatabase>>,
    dropping: usize,
}

fn lock_registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Signalled each time a drop has finished.
fn dropped() -> &'static Condvar {
    static DROPPED: OnceLock<Condvar> = OnceLock::new();
    DROPPED.get_or_init(Condvar::new)
}

/// Starts dropping database `name` on the cluster at `server`, ending any connection still
/// open to it (`WITH (FORCE)`, PostgreSQL 13+), on a thread and runtime of its own: a
/// `Drop` cannot await, and it may run while the test's runtime is shutting down. It is
/// counted in `registry.dropping` until done; a failure is only reported.
fn start_dropping(registry: &mut Registry, server: String, name: String) {
    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let thread_name = format!("dropping {name}");
    let spawned = std::thread::Builder::new()
        .name(thread_name)
        .spawn(move || {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())
                .and_then(|runtime| {
                    runtime
                        .block_on(async {
                            let admin = Database::connect(format!("{server}/postgres")).await?;
                            admin.execute_unprepared(&statement).await?;
                            admin.close().await
                        })
                        .map_err(|error| error.to_string())
                });
            if let Err(error) = outcome {
                report(&format!("could not drop the test database {name}: {error}"));
            }
            lock_registry().dropping -= 1;
            dropped().notify_all();
        });
    match spawned {
        Ok(_) => registry.dropping += 1,
        Err(error) => report(&format!(
            "could not start dropping a test database: {error}"
        )),
    }
}

/// Straight to stderr, past the test harness's capture: a database left behind is worth
/// seeing even when the test passes.
fn report(problem: &str) {
    let _ = writeln!(std::io::stderr(), "mf-tests: {problem}");
}
