use mf_tests::{VERIFY_TOKEN, spawn_app, spawn_app_with};

#[tokio::test]
async fn verification_with_the_right_token_answers_the_challenge_as_plain_text() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .verify_webhook(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "1158201444"),
        ])
        .await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, "1158201444");
    let content_type = response.content_type.unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "content type {content_type:?}"
    );
}

#[tokio::test]
async fn verification_with_a_wrong_token_is_forbidden() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .verify_webhook(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "not-the-token"),
            ("hub.challenge", "1158201444"),
        ])
        .await;

    // Assert
    assert_eq!(response.status, 403, "{response:?}");
    assert!(!response.body.contains("1158201444"), "{response:?}");
}

#[tokio::test]
async fn verification_with_a_mode_other_than_subscribe_is_forbidden() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .verify_webhook(&[
            ("hub.mode", "unsubscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "1158201444"),
        ])
        .await;

    // Assert
    assert_eq!(response.status, 403, "{response:?}");
}

#[tokio::test]
async fn verification_is_forbidden_when_no_verify_token_is_configured() {
    // Arrange
    let app = spawn_app_with(|config| config.fb_verify_token = None).await;

    // Act
    let with_the_usual_token = app
        .verify_webhook(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "1158201444"),
        ])
        .await;
    let with_an_empty_token = app
        .verify_webhook(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", ""),
            ("hub.challenge", "1158201444"),
        ])
        .await;

    // Assert
    assert_eq!(with_the_usual_token.status, 403, "{with_the_usual_token:?}");
    assert_eq!(with_an_empty_token.status, 403, "{with_an_empty_token:?}");
}
