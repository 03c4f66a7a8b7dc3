//! `syncFullHistory` runs one job per Page: while one runs, every call (also two at once)
//! answers that one; a job left RUNNING by an instance that stopped does not block a new one.
use mf_tests::sim::{SIM_SECRET, Simulator, spawn_app_on};
use mf_tests::{PAGE, TestApp, id_of};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const SYNC: &str = "mutation($page: ID!) { syncFullHistory(pageId: $page) { id status } }";

/// A connected Page with a history long enough that a full sync runs for seconds
/// (300 threads at the simulator's 2 Conversations API calls a second).
async fn connected_page_with_history() -> (Simulator, TestApp) {
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    app.connect_page(PAGE, &token).await;
    sim.seed(PAGE, 300, 1).await;
    (sim, app)
}

async fn sync(app: &TestApp) -> String {
    let data = app.gql_data(SYNC, json!({ "page": PAGE })).await;
    assert_eq!(data["syncFullHistory"]["status"], "RUNNING", "{data:#}");
    id_of(&data["syncFullHistory"]).to_owned()
}

async fn running_jobs(app: &TestApp) -> Vec<entity::sync_job::Model> {
    entity::sync_job::Entity::find()
        .filter(entity::sync_job::Column::PageId.eq(PAGE))
        .filter(entity::sync_job::Column::Status.eq("RUNNING"))
        .all(app.db())
        .await
        .expect("reading the jobs")
}

#[tokio::test]
async fn two_full_syncs_started_at_once_are_one_job_and_a_later_call_answers_it_too() {
    // Arrange
    let (_sim, app) = connected_page_with_history().await;

    // Act
    let (first, second) = tokio::join!(sync(&app), sync(&app));
    let later = sync(&app).await;

    // Assert
    assert_eq!(first, second, "two calls at once started two jobs");
    assert_eq!(later, first, "a call while the job runs started another");
    let running = running_jobs(&app).await;
    assert_eq!(running.len(), 1, "{running:#?}");
}

#[tokio::test]
async fn a_job_left_running_by_a_stopped_instance_does_not_block_a_new_sync() {
    // Arrange: a RUNNING job whose heartbeat stopped long ago.
    let (_sim, app) = connected_page_with_history().await;
    let long_ago = mf_tests::T0;
    let abandoned = entity::sync_job::ActiveModel {
        page_id: Set(PAGE.to_owned()),
        status: Set(entity::sync_job::Status::Running),
        started_at: Set(long_ago),
        heartbeat_at: Set(Some(long_ago)),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("arranging an abandoned job");

    // Act
    let started = sync(&app).await;

    // Assert: a new job, and the abandoned one marked FAILED.
    assert_ne!(started, abandoned.id.to_string());
    let old = entity::sync_job::Entity::find_by_id(abandoned.id)
        .one(app.db())
        .await
        .expect("reading the job")
        .expect("the job");
    assert_eq!(old.status, entity::sync_job::Status::Failed, "{old:#?}");
    assert_eq!(running_jobs(&app).await.len(), 1);
}

#[tokio::test]
async fn a_full_sync_reports_a_total_that_never_shrinks_and_ends_at_what_it_imported() {
    // Arrange: 120 threads; three new customers will write while the sync runs.
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on(&sim).await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    app.connect_page(PAGE, &token).await;
    sim.seed(PAGE, 120, 1).await;
    let newcomers = ["3100000001", "3100000002", "3100000003"];
    for psid in newcomers {
        sim.create_customer(PAGE, psid, "New", "Customer").await;
    }

    // Act: follow the job; once its total is known and it imported some, they write.
    let job = sync(&app).await;
    let mut progress = app
        .subscribe(
            "subscription($id: ID!) { syncProgress(jobId: $id) { status conversations total } }",
            json!({ "id": job }),
        )
        .await;
    let mut events: Vec<serde_json::Value> = Vec::new();
    let mut wrote = false;
    let finished = loop {
        let event = progress
            .next(std::time::Duration::from_secs(30))
            .await
            .unwrap_or_else(|error| panic!("the job did not finish ({error:#}): {events:#?}"));
        let job = event["syncProgress"].clone();
        events.push(job.clone());
        if job["status"] != "RUNNING" {
            break job;
        }
        if !wrote && job["total"].is_i64() && job["conversations"].as_i64() > Some(0) {
            for psid in newcomers {
                sim.customer_says(PAGE, psid, "Hello, is anyone there?", None)
                    .await;
            }
            wrote = true;
        }
    };

    // Assert: once known, the total never went down, and never below the progress...
    assert!(wrote, "the total was never reported: {events:#?}");
    let known: Vec<(i64, i64)> = events
        .iter()
        .skip_while(|e| e["total"].is_null())
        .map(|e| {
            let total = e["total"]
                .as_i64()
                .unwrap_or_else(|| panic!("total unknown again: {events:#?}"));
            (total, e["conversations"].as_i64().unwrap_or(-1))
        })
        .collect();
    assert_eq!(
        known[0].0, 120,
        "the first total is the seeded threads: {events:#?}"
    );
    for pair in known.windows(2) {
        assert!(pair[1].0 >= pair[0].0, "the total went down: {events:#?}");
    }
    assert!(
        known.iter().all(|(total, done)| done <= total),
        "{events:#?}"
    );
    // ...and it ends equal to what was imported: every thread, the new ones included, once.
    assert_eq!(finished["status"], "DONE", "{events:#?}");
    assert_eq!(finished["total"], 123, "{events:#?}");
    assert_eq!(finished["conversations"], 123, "{events:#?}");
    let stored = entity::conversation::Entity::find()
        .filter(entity::conversation::Column::PageId.eq(PAGE))
        .all(app.db())
        .await
        .expect("reading the conversations");
    assert_eq!(stored.len(), 123);
}
