use hmac::{KeyInit, Mac};
use mf_tests::webhook::{self, SIGNATURE_HEADER};
use mf_tests::{APP_SECRET, CUSTOMER, PAGE, T0, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const MAX_BODY: usize = 1_048_576;

fn one_message() -> Value {
    webhook::batch(PAGE, [webhook::message(PAGE, CUSTOMER, "m1", "hi", T0)])
}

fn body_bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).expect("serialising")
}

/// A webhook body of exactly `size` bytes holding one message, padded with an unknown
/// field (which the server ignores).
fn body_of_size(size: usize) -> Vec<u8> {
    let mut body = one_message();
    body["padding"] = json!("");
    let padding = size - body_bytes(&body).len();
    body["padding"] = json!("x".repeat(padding));
    let bytes = body_bytes(&body);
    assert_eq!(bytes.len(), size);
    bytes
}

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(
        app.page_ids().await,
        Vec::<String>::new(),
        "something was stored"
    );
}

#[tokio::test]
async fn correctly_signed_delivery_is_accepted_and_stored() {
    // Arrange
    let app = spawn_app().await;
    let body = body_bytes(&one_message());
    let signature = webhook::sign(APP_SECRET, &body);

    // Act
    let response = app.post_webhook_signed_with(body, Some(&signature)).await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["text"], "hi");
}

#[tokio::test]
async fn delivery_without_signature_is_unauthorized_and_stores_nothing() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.post_webhook_signed_with(&one_message(), None).await;

    // Assert
    assert_eq!(response.status, 401, "{response:?}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn delivery_signed_with_another_secret_is_unauthorized_and_stores_nothing() {
    // Arrange
    let app = spawn_app().await;
    let body = body_bytes(&one_message());
    let signature = webhook::sign("not-the-app-secret", &body);

    // Act
    let response = app.post_webhook_signed_with(body, Some(&signature)).await;

    // Assert
    assert_eq!(response.status, 401, "{response:?}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn delivery_whose_body_differs_from_the_signed_one_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;
    let signed = body_bytes(&one_message());
    let signature = webhook::sign(APP_SECRET, &signed);
    let tampered = body_bytes(&webhook::batch(
        PAGE,
        [webhook::message(PAGE, CUSTOMER, "m1", "tampered", T0)],
    ));

    // Act
    let response = app
        .post_webhook_signed_with(tampered, Some(&signature))
        .await;

    // Assert
    assert_eq!(response.status, 401, "{response:?}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn signature_with_a_prefix_other_than_sha256_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;
    let body = body_bytes(&one_message());
    let hex = webhook::sign(APP_SECRET, &body).replacen("sha256=", "", 1);

    // Act
    let sha1_prefix = app
        .post_webhook_signed_with(body.clone(), Some(&format!("sha1={hex}")))
        .await;
    let no_prefix = app.post_webhook_signed_with(body, Some(&hex)).await;

    // Assert
    assert_eq!(sha1_prefix.status, 401, "{sha1_prefix:?}");
    assert_eq!(no_prefix.status, 401, "{no_prefix:?}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn malformed_signatures_are_unauthorized() {
    // Arrange
    let app = spawn_app().await;
    let body = body_bytes(&one_message());
    let valid = webhook::sign(APP_SECRET, &body);
    let malformed = [
        "sha256=".to_owned(),
        "sha256=not-hex-at-all".to_owned(),
        format!("{valid}0"),
        valid[..valid.len() - 1].to_owned(),
        valid[..valid.len() - 2].to_owned(),
        format!("{valid},{valid}"),
    ];

    for signature in malformed {
        // Act
        let response = app
            .post_webhook_signed_with(body.clone(), Some(&signature))
            .await;

        // Assert
        assert_eq!(
            response.status, 401,
            "signature {signature:?}: {response:?}"
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn legacy_sha1_signature_alone_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;
    let body = body_bytes(&one_message());
    let sha1 = sha1_signature(APP_SECRET, &body);

    // Act
    let response = app
        .post_webhook_with_headers(body, &[("X-Hub-Signature", &sha1)])
        .await;

    // Assert
    assert_eq!(response.status, 401, "{response:?}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn valid_sha1_signature_does_not_excuse_a_wrong_sha256_one() {
    // Arrange
    let app = spawn_app().await;
    let body = body_bytes(&one_message());
    let sha1 = sha1_signature(APP_SECRET, &body);
    let wrong_sha256 = webhook::sign("not-the-app-secret", &body);

    // Act
    let response = app
        .post_webhook_with_headers(
            body,
            &[
                ("X-Hub-Signature", &sha1),
                (SIGNATURE_HEADER, &wrong_sha256),
            ],
        )
        .await;

    // Assert
    assert_eq!(response.status, 401, "{response:?}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn signature_is_checked_over_the_raw_bytes_with_facebooks_unicode_escapes() {
    // Arrange: Facebook escapes non-ASCII text, emoji as a surrogate pair.
    let app = spawn_app().await;
    let body = concat!(
        r#"{"object":"page","entry":[{"id":"1000000001","time":1764163526123,"messaging":[{"#,
        r#""sender":{"id":"2000000001"},"recipient":{"id":"1000000001"},"#,
        r#""timestamp":1764163526123,"#,
        r#""message":{"mid":"m_unicode","text":"\u00e4\u00f6\u00e5 \ud83d\ude00"}}]}]}"#,
    );
    let reserialised =
        serde_json::to_vec(&serde_json::from_str::<Value>(body).expect("valid JSON"))
            .expect("serialising");
    assert_ne!(
        reserialised,
        body.as_bytes(),
        "the body must differ from its re-serialisation for this test to mean anything"
    );
    let signature = webhook::sign(APP_SECRET, body.as_bytes());

    // Act
    let response = app.post_webhook_signed_with(body, Some(&signature)).await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    let messages = app.messages_with(PAGE, CUSTOMER).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["text"], "äöå 😀");
    let conversation = app.conversation_with(PAGE, CUSTOMER).await;
    assert_eq!(conversation["lastMessageText"], "äöå 😀");
}

#[tokio::test]
async fn body_over_one_mebibyte_is_refused_as_too_large_and_stores_nothing() {
    // Arrange
    let app = spawn_app().await;
    let body = body_of_size(MAX_BODY + 1);
    let signature = webhook::sign(APP_SECRET, &body);

    // Act
    let response = app.post_webhook_signed_with(body, Some(&signature)).await;

    // Assert
    assert_eq!(response.status, 413, "{}", response.status);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn body_of_exactly_one_mebibyte_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let body = body_of_size(MAX_BODY);
    let signature = webhook::sign(APP_SECRET, &body);

    // Act
    let response = app.post_webhook_signed_with(body, Some(&signature)).await;

    // Assert
    assert_eq!(response.status, 200, "{}", response.status);
    assert_eq!(app.messages_with(PAGE, CUSTOMER).await.len(), 1);
}

#[tokio::test]
async fn correctly_signed_body_that_is_not_json_is_a_bad_request() {
    // Arrange
    let app = spawn_app().await;
    let not_json = "this is not JSON";
    let truncated = r#"{"object":"page","entry":[{"id":"1000000001","messaging":["#;

    for body in [not_json, truncated] {
        // Act
        let response = app.post_webhook(body).await;

        // Assert
        assert_eq!(response.status, 400, "body {body:?}: {response:?}");
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn every_delivery_is_unauthorized_when_no_app_secret_is_configured() {
    // Arrange
    let app = spawn_app_with(|config| config.fb_app_secret = None).await;
    let body = body_bytes(&one_message());
    let signatures = [webhook::sign(APP_SECRET, &body), webhook::sign("", &body)];

    for signature in signatures {
        // Act
        let response = app
            .post_webhook_signed_with(body.clone(), Some(&signature))
            .await;

        // Assert
        assert_eq!(response.status, 401, "{response:?}");
    }
    assert_nothing_stored(&app).await;
}

/// `sha1=<hex HMAC-SHA1>`, Facebook's legacy `X-Hub-Signature` header.
fn sha1_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

/// `FB_APP_SECRET=` in the api process's environment (as `.env` sets it) counts as unset:
/// a delivery signed with the empty key is refused and nothing is stored.
#[tokio::test]
async fn an_empty_app_secret_in_the_environment_refuses_deliveries_signed_with_it() {
    // Arrange
    let app = mf_tests::spawn_app_process_with(|config| {
        config.fb_app_secret = Some(api::Secret::new(""));
    })
    .await;
    let body = body_bytes(&one_message());
    let signature = webhook::sign("", &body);

    // Act
    let response = app.post_webhook_signed_with(body, Some(&signature)).await;

    // Assert
    assert_eq!(response.status, 401, "{response:?}");
    assert_nothing_stored(&app).await;
}
