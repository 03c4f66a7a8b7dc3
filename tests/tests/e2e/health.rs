use mf_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn health_reports_database_and_bus_ok() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/health").await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json(),
        json!({ "status": "ok", "database": "ok", "bus": "ok" })
    );
}
