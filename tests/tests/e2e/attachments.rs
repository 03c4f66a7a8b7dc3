//! Files agents send from their computers (issue 15 point 6, issue 14 point 6): the real
//! api against the `graph-simulator` binary. `sendMessage(input: {file})` as a GraphQL
//! multipart request; the api checks the size and the type (by content) before Facebook is
//! called, then uploads the file with the Send API's `filedata`; an `attachmentId` Facebook
//! does not know fails the message.
use std::time::Duration;

use mf_tests::sim::{SIM_SECRET, Simulator, World, spawn_app_on_with};
use mf_tests::{HttpResponse, PAGE, TestApp, eventually, id_of};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PSID: &str = "4300000001";
/// A 1x1 PNG's first bytes: enough for its magic number.
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0";
/// The upload limit the tests that reach it run with (`MF_MAX_UPLOAD_BYTES`).
const SMALL_LIMIT: u64 = 64 * 1024;

const SEND: &str = "mutation($input: SendMessageInput!) { sendMessage(input: $input) \
     { id status errorCode text attachments { type url title } } }";

/// The simulator and an api connected to its Page (upload limit `limit`, or the default),
/// with a customer who just wrote; the conversation's id.
async fn world(limit: Option<u64>) -> (World, String) {
    let sim = Simulator::start(SIM_SECRET).await;
    let app = spawn_app_on_with(&sim, |config| {
        if let Some(limit) = limit {
            config.max_upload_bytes = limit;
        }
    })
    .await;
    let token = sim.create_page(PAGE, "Nordlicht Outdoor").await;
    let page = app.connect_page(PAGE, &token).await;
    assert_eq!(page["connected"], true, "{page:#}");
    sim.create_customer(PAGE, PSID, "Grace", "Hopper").await;
    sim.customer_says(PAGE, PSID, "Can you send me the invoice?", None)
        .await;
    let conversation = eventually(Duration::from_secs(10), async || {
        app.conversations(PAGE)
            .await
            .into_iter()
            .find(|c| c["customer"]["psid"] == PSID)
            .map(|c| id_of(&c).to_owned())
    })
    .await;
    (World { sim, app, token }, conversation)
}

/// `sendMessage` with `file` (named `name`, declared `mime`) as the administrator.
async fn send_file(
    app: &TestApp,
    conversation: &str,
    file: (&[u8], &str, Option<&str>),
    key: Option<&str>,
) -> HttpResponse {
    let input = json!({ "conversationId": conversation, "file": null, "clientMutationId": key });
    app.gql_file(
        Some(&app.admin_token),
        SEND,
        json!({ "input": input }),
        "input.file",
        file,
    )
    .await
}

/// What the simulator says the Page's app uploaded.
async fn uploads(sim: &Simulator) -> Vec<Value> {
    let listed = sim
        .control(
            reqwest::Method::GET,
            &format!("/pages/{PAGE}/attachments"),
            None,
        )
        .await;
    listed["data"].as_array().cloned().unwrap_or_default()
}

fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {response:#}"))
}

/// Nothing reached Facebook, and the conversation holds only the customer's message.
async fn assert_nothing_sent(world: &World, conversation: &str) {
    assert!(world.sim.sent(PAGE).await.is_empty(), "nothing was sent");
    assert!(uploads(&world.sim).await.is_empty(), "nothing was uploaded");
    let messages = world.app.messages(conversation).await;
    assert_eq!(messages.len(), 1, "nothing was stored: {messages:#?}");
}

#[tokio::test]
async fn a_file_sent_from_the_inbox_reaches_facebook_with_its_bytes_and_its_type() {
    // Arrange
    let (world, conversation) = world(None).await;
    let pdf = [PDF, &b"x".repeat(5000)[..]].concat();

    // Act
    let response = send_file(
        &world.app,
        &conversation,
        (&pdf, "invoice-2026.pdf", Some("application/pdf")),
        Some("file-1"),
    )
    .await;

    // Assert: SENT, shown as a file with its name, uploaded once with the same bytes.
    let response = response.json();
    let message = &response["data"]["sendMessage"];
    assert!(mf_tests::went_out(&message["status"]), "{response:#}");
    assert_eq!(message["text"], Value::Null);
    assert_eq!(
        message["attachments"],
        json!([{ "type": "file", "url": null, "title": "invoice-2026.pdf" }])
    );
    let uploaded = uploads(&world.sim).await;
    assert_eq!(uploaded.len(), 1, "{uploaded:#?}");
    assert_eq!(uploaded[0]["type"], "file");
    assert_eq!(uploaded[0]["mime_type"], "application/pdf");
    assert_eq!(uploaded[0]["file_name"], "invoice-2026.pdf");
    assert_eq!(uploaded[0]["size"], pdf.len());
    assert_eq!(uploaded[0]["sha256"], hex::encode(Sha256::digest(&pdf)));
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["attachments"][0]["type"], "file");

    // The idempotency key holds for files too: the same message, nothing sent again.
    let again = send_file(
        &world.app,
        &conversation,
        (&pdf, "invoice-2026.pdf", Some("application/pdf")),
        Some("file-1"),
    )
    .await
    .json();
    assert_eq!(
        again["data"]["sendMessage"]["id"], message["id"],
        "{again:#}"
    );
    assert_eq!(uploads(&world.sim).await.len(), 1);
}

#[tokio::test]
async fn an_image_goes_out_as_an_image_by_its_content_whatever_its_name() {
    let (world, conversation) = world(None).await;

    let response = send_file(&world.app, &conversation, (PNG, "scan.pdf", None), None)
        .await
        .json();

    let message = &response["data"]["sendMessage"];
    assert!(mf_tests::went_out(&message["status"]), "{response:#}");
    assert_eq!(message["attachments"][0]["type"], "image");
    let uploaded = uploads(&world.sim).await;
    assert_eq!(uploaded[0]["type"], "image");
    assert_eq!(
        uploaded[0]["mime_type"], "image/png",
        "the content's type, not the name's"
    );
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_before_facebook_is_called() {
    // Arrange
    let (world, conversation) = world(Some(SMALL_LIMIT)).await;
    let limit = usize::try_from(SMALL_LIMIT).unwrap();

    // Act: one byte over, and far over (cut off while it streams).
    let over = send_file(
        &world.app,
        &conversation,
        (&vec![b'a'; limit + 1], "notes.txt", Some("text/plain")),
        None,
    )
    .await
    .json();
    let far_over = send_file(
        &world.app,
        &conversation,
        (
            &vec![b'a'; 2 * limit + 300_000],
            "notes.txt",
            Some("text/plain"),
        ),
        None,
    )
    .await
    .json();

    // Assert
    assert_eq!(error_code(&over), "BAD_USER_INPUT", "{over:#}");
    let message = over["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&SMALL_LIMIT.to_string()), "{message}");
    assert_eq!(error_code(&far_over), "BAD_USER_INPUT", "{far_over:#}");
    assert_nothing_sent(&world, &conversation).await;

    // Exactly the limit goes through.
    let at_limit = send_file(
        &world.app,
        &conversation,
        (&vec![b'a'; limit], "notes.txt", Some("text/plain")),
        None,
    )
    .await
    .json();
    assert!(
        mf_tests::went_out(&at_limit["data"]["sendMessage"]["status"]),
        "{at_limit:#}"
    );
}

#[tokio::test]
async fn a_file_whose_content_is_not_its_declared_type_or_not_one_messenger_takes_is_refused() {
    let (world, conversation) = world(None).await;

    let mismatch = send_file(
        &world.app,
        &conversation,
        (PDF, "photo.png", Some("image/png")),
        None,
    )
    .await
    .json();
    let program = send_file(&world.app, &conversation, (ELF, "invoice.pdf", None), None)
        .await
        .json();
    let empty = send_file(&world.app, &conversation, (b"", "empty.txt", None), None)
        .await
        .json();

    assert_eq!(error_code(&mismatch), "BAD_USER_INPUT", "{mismatch:#}");
    let message = mismatch["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("application/pdf"), "{message}");
    assert_eq!(error_code(&program), "BAD_USER_INPUT", "{program:#}");
    assert_eq!(error_code(&empty), "BAD_USER_INPUT", "{empty:#}");
    assert_nothing_sent(&world, &conversation).await;
}

#[tokio::test]
async fn an_attachment_id_facebook_does_not_know_fails_the_message_and_a_saved_one_is_sent() {
    // Arrange: the Page saves an asset with the Attachment Upload API.
    let (world, conversation) = world(None).await;
    let saved: Value = reqwest::Client::new()
        .post(format!(
            "{}/{PAGE}/message_attachments",
            world.sim.base_url()
        ))
        .bearer_auth(&world.token)
        .json(&json!({ "message": { "attachment": { "type": "image",
            "payload": { "url": "https://example.com/logo.png", "is_reusable": true } } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let saved = saved["attachment_id"].as_str().unwrap().to_owned();
    let by_id = |id: &str| {
        json!({ "input": { "conversationId": conversation,
                           "attachment": { "type": "IMAGE", "attachmentId": id } } })
    };

    // Act
    let unknown = world.app.gql(SEND, by_id("1234567890")).await;
    let known = world.app.gql(SEND, by_id(&saved)).await;

    // Assert: Facebook refused the unknown id (code 100): FAILED, stored, not sent.
    let failed = &unknown["data"]["sendMessage"];
    assert_eq!(failed["status"], "FAILED", "{unknown:#}");
    assert_eq!(failed["errorCode"], "GRAPH_API_ERROR", "{unknown:#}");
    assert!(
        mf_tests::went_out(&known["data"]["sendMessage"]["status"]),
        "{known:#}"
    );
    let sent = world.sim.sent(PAGE).await;
    assert_eq!(sent.len(), 1, "only the saved one went out: {sent:#?}");
    assert_eq!(
        sent[0]["attachments"][0]["payload"]["url"],
        "https://example.com/logo.png"
    );

    // An id that cannot be Facebook's is refused before it is sent.
    let malformed = world.app.gql(SEND, by_id("../1")).await;
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT", "{malformed:#}");
}

#[tokio::test]
async fn sending_a_file_to_another_pages_conversation_answers_not_found() {
    // Arrange: an agent of another Page only.
    let (world, conversation) = world(None).await;
    let other_token = world.sim.create_page("9100000002", "Elsewhere Two").await;
    world.app.connect_page("9100000002", &other_token).await;
    let outsider = world
        .app
        .agent_on("outsider@demo.local", "Out Sider", &["9100000002"])
        .await;
    let input = json!({ "conversationId": conversation, "file": null });

    // Act
    let response = world
        .app
        .gql_file(
            Some(&outsider.token),
            SEND,
            json!({ "input": input }),
            "input.file",
            (PNG, "dot.png", Some("image/png")),
        )
        .await
        .json();

    // Assert
    assert_eq!(error_code(&response), "NOT_FOUND", "{response:#}");
    assert_nothing_sent(&world, &conversation).await;
}

#[tokio::test]
async fn hostile_multipart_requests_are_refused_and_change_nothing() {
    let (world, conversation) = world(None).await;
    let input = json!({ "input": { "conversationId": conversation, "file": null } });

    // No credential: refused before the body is read.
    let anonymous = world
        .app
        .gql_file(
            None,
            SEND,
            input.clone(),
            "input.file",
            (PNG, "a.png", None),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(error_code(&anonymous.json()), "UNAUTHENTICATED");

    // A file and a text together; a file mapped where the input has no such field.
    let both = json!({ "input": { "conversationId": conversation, "text": "hi", "file": null } });
    let both = world
        .app
        .gql_file(
            Some(&world.app.admin_token),
            SEND,
            both,
            "input.file",
            (PNG, "a.png", None),
        )
        .await
        .json();
    assert_eq!(error_code(&both), "BAD_USER_INPUT", "{both:#}");
    let elsewhere = world
        .app
        .gql_file(
            Some(&world.app.admin_token),
            SEND,
            input.clone(),
            "input.nowhere",
            (PNG, "a.png", None),
        )
        .await
        .json();
    assert!(elsewhere.get("errors").is_some(), "{elsewhere:#}");

    // Not a multipart body at all, though it says so.
    let garbage = reqwest::Client::new()
        .post(world.app.url("/graphql"))
        .bearer_auth(&world.app.admin_token)
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--xyz--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);

    assert_nothing_sent(&world, &conversation).await;

    // A name that breaks the part's header is a malformed request.
    let broken = send_file(
        &world.app,
        &conversation,
        (PDF, "invoice\r\n.pdf", Some("application/pdf")),
        None,
    )
    .await
    .json();
    assert_eq!(error_code(&broken), "BAD_USER_INPUT", "{broken:#}");
    assert_nothing_sent(&world, &conversation).await;

    // A name with a path and control characters is kept as its last part, cleaned.
    let named = send_file(
        &world.app,
        &conversation,
        (PDF, "..\\..\\etc/\tinvoice.pdf", Some("application/pdf")),
        None,
    )
    .await
    .json();
    let message = &named["data"]["sendMessage"];
    assert_eq!(
        message["attachments"][0]["title"], "invoice.pdf",
        "{named:#}"
    );
    assert_eq!(uploads(&world.sim).await[0]["file_name"], "invoice.pdf");
}
