//! The harness cleans up after itself: each test's PostgreSQL database is dropped once the
//! apps using it are gone, whether the test passed or failed, and not while a second
//! instance still uses it. (Left behind, they once filled a developer's disk.)
use std::time::Duration;

use mf_tests::{eventually, spawn_app, spawn_app_process_with};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

/// Long enough for an in-process server to stop after its app is dropped.
const STOPPED: Duration = Duration::from_secs(20);

/// The name of an app's database (the last part of its PostgreSQL URL).
fn name_of(database_url: &str) -> String {
    let name = database_url.rsplit('/').next().unwrap_or_default();
    assert!(
        name.starts_with("mf_test_"),
        "not a test database: {database_url}"
    );
    name.to_owned()
}

/// Whether database `name` is on the test cluster.
async fn exists(name: &str) -> bool {
    let base = std::env::var("MF_TEST_POSTGRES_URL").expect("MF_TEST_POSTGRES_URL");
    let admin = Database::connect(format!("{}/postgres", base.trim_end_matches('/')))
        .await
        .expect("connecting to the test cluster");
    let row = admin
        .query_one_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT count(*) AS n FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await
        .expect("reading pg_database")
        .expect("a count");
    let count: i64 = row.try_get("", "n").expect("the count");
    admin.close().await.ok();
    count == 1
}

async fn dropped(name: &str) {
    eventually(STOPPED, async || {
        if exists(name).await {
            Err(format!("{name} is still on the cluster"))
        } else {
            Ok(())
        }
    })
    .await;
}

#[tokio::test]
async fn a_test_database_is_dropped_once_its_app_is() {
    if !mf_tests::require::services(&["MF_TEST_POSTGRES_URL"]) {
        return;
    }
    let app = spawn_app().await;
    let name = name_of(&app.database_url);
    assert!(exists(&name).await, "{name} was never created");

    drop(app);

    dropped(&name).await;
}

#[tokio::test]
async fn a_database_two_instances_share_is_dropped_after_the_second() {
    if !mf_tests::require::services(&["MF_TEST_POSTGRES_URL"]) {
        return;
    }
    // Processes: dropping one kills it at once, so what follows is after it is gone.
    let one = spawn_app_process_with(|_| {}).await;
    let database_url = one.database_url.clone();
    let two = spawn_app_process_with(move |config| config.database_url = database_url).await;
    let name = name_of(&one.database_url);

    drop(one);
    // Any drop it started has finished (they run on threads of their own).
    mf_tests::backend::wait_for_drops();

    assert!(
        exists(&name).await,
        "{name} was dropped under the second instance"
    );
    let data = two.gql_data("{ me { email } }", json!({})).await;
    assert_eq!(data["me"]["email"], mf_tests::ADMIN_EMAIL, "{data}");
    drop(two);
    dropped(&name).await;
}

#[test]
fn a_failing_test_still_drops_its_database() {
    if !mf_tests::require::services(&["MF_TEST_POSTGRES_URL"]) {
        return;
    }
    let (named, name) = std::sync::mpsc::channel();
    // A test of its own, on its own thread and runtime, that fails with its app running.
    let failing = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async move {
            let app = spawn_app().await;
            named
                .send(name_of(&app.database_url))
                .expect("sending the name");
            panic!("this test fails on purpose, its app still running");
        });
    });
    assert!(failing.join().is_err(), "the inner test did not fail");
    let name = name.recv().expect("the inner test's database");

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(dropped(&name));
}
