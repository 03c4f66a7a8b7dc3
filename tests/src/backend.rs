//! Which database and bus a test server uses. By default a fresh SQLite file and the
//! in-process bus; `scripts/test` runs the suite a second time with
//! `MF_TEST_POSTGRES_URL` (a throwaway cluster: each test gets its own database) and
//! `MF_TEST_REDIS_URL` (the Redis bus; tests share the server, each app its own events).
use std::path::Path;

use sea_orm::{ConnectionTrait, Database};

/// The database URL for one test server.
pub async fn database_url(dir: &Path) -> String {
    match std::env::var("MF_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => fresh_postgres_database(&base).await,
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.join("messengerflow.sqlite").display()
        ),
    }
}

/// The Redis URL for one test server, when the suite runs on Redis.
pub fn redis_url() -> Option<String> {
    std::env::var("MF_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Creates `mf_test_<random>` on the cluster at `base` (a URL without a database name,
/// or naming the maintenance database) and returns its URL.
async fn fresh_postgres_database(base: &str) -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    let name = format!("mf_test_{}", hex::encode(bytes));
    let server = base.trim_end_matches('/');
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .expect("connecting to the test PostgreSQL cluster");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("creating a test database");
    admin.close().await.ok();
    format!("{server}/{name}")
}
