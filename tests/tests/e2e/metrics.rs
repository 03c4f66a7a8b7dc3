//! `GET /metrics`: Prometheus text, counting what the webhook did.
use mf_tests::webhook::{batch, message};
use mf_tests::{CUSTOMER, PAGE, T0, spawn_app};

fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line[series.len()..].trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_deliveries_by_answer_and_events_by_outcome() {
    // Arrange
    let app = spawn_app().await;
    let body = batch(PAGE, [message(PAGE, CUSTOMER, "m-1", "hello", T0)]);

    // Act: stored, then the same again (a duplicate), then a forged signature.
    app.ingest(&body).await;
    app.ingest(&body).await;
    let forged = app
        .post_webhook_signed_with(serde_json::to_vec(&body).unwrap(), Some("sha256=00"))
        .await;
    let metrics = app.get("/metrics").await;

    // Assert
    assert_eq!(forged.status, 401);
    assert_eq!(metrics.status, 200);
    let text = &metrics.body;
    let series = |s: &str| value(text, s).unwrap_or_else(|| panic!("no {s} in:\n{text}"));
    assert_eq!(
        series(r#"messengerflow_webhook_deliveries_total{result="accepted"}"#),
        2.0
    );
    assert_eq!(
        series(r#"messengerflow_webhook_deliveries_total{result="unauthorized"}"#),
        1.0
    );
    assert_eq!(
        series(r#"messengerflow_webhook_events_total{outcome="stored"}"#),
        1.0
    );
    assert_eq!(
        series(r#"messengerflow_webhook_events_total{outcome="duplicate"}"#),
        1.0
    );
    assert!(series("messengerflow_ingest_commit_seconds_count") >= 2.0);
}
