//! Every response carries the security headers, errors included; CORS allows exactly the
//! configured origins.
use mf_tests::web::{SCRIPT, WASM, WebFixture};
use mf_tests::webhook::{self, batch, message};
use mf_tests::{APP_SECRET, CUSTOMER, HttpResponse, PAGE, T0, TestApp, spawn_app, spawn_app_with};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::json;

const ALLOWED_ORIGIN: &str = "https://inbox.example";
const OTHER_ORIGIN: &str = "https://evil.example";

/// What is wrong with a response's security headers, if anything.
fn header_problems(response: &HttpResponse) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, wanted) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        let actual = response.header(name);
        if actual != Some(wanted) {
            problems.push(format!("{name} is {actual:?}, not {wanted:?}"));
        }
    }
    match response.header("content-security-policy") {
        Some(csp) if csp.contains("frame-ancestors 'none'") => {}
        other => problems.push(format!(
            "content-security-policy {other:?} lacks frame-ancestors 'none'"
        )),
    }
    problems
}

fn graphql_post(app: &TestApp, body: Vec<u8>) -> reqwest::RequestBuilder {
    app.request(Method::POST, "/graphql")
        .bearer_auth(&app.admin_token)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(body)
}

fn webhook_post(body: Vec<u8>, signature: &str, app: &TestApp) -> reqwest::RequestBuilder {
    app.request(Method::POST, "/webhook")
        .header(CONTENT_TYPE, "application/json")
        .header(webhook::SIGNATURE_HEADER, signature)
        .body(body)
}

fn preflight(app: &TestApp, origin: &str) -> reqwest::RequestBuilder {
    app.request(Method::OPTIONS, "/graphql")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    // Arrange: any built page stands in for GraphiQL's.
    let fixture = WebFixture::new();
    let page = fixture.dir();
    let app = spawn_app_with(move |config| config.graphiql_dir = page).await;
    let delivery =
        serde_json::to_vec(&batch(PAGE, [message(PAGE, CUSTOMER, "m1", "hi", T0)])).expect("JSON");
    let signature = webhook::sign(APP_SECRET, &delivery);
    let query = serde_json::to_vec(&json!({ "query": "{ me { id } }" })).expect("JSON");
    let too_big_for_graphql = vec![b' '; 256 * 1024 + 1];
    let too_big_for_webhook = vec![b' '; 1024 * 1024 + 1];
    let too_big_signature = webhook::sign(APP_SECRET, &too_big_for_webhook);
    let requests = [
        ("GET /health", app.request(Method::GET, "/health")),
        ("POST /graphql", graphql_post(&app, query.clone())),
        (
            "POST /graphql without a token",
            app.request(Method::POST, "/graphql")
                .header(CONTENT_TYPE, "application/json")
                .body(query),
        ),
        (
            "POST /graphql that is not JSON (400)",
            graphql_post(&app, b"not json".to_vec()),
        ),
        (
            "POST /graphql too large (413)",
            graphql_post(&app, too_big_for_graphql),
        ),
        (
            "GET /graphql GraphiQL",
            app.request(Method::GET, "/graphql")
                .header(ACCEPT, "text/html"),
        ),
        (
            "GET /graphql with a mutation (405)",
            app.request(Method::GET, "/graphql?query=mutation%20%7B%20logout%20%7D")
                .bearer_auth(&app.admin_token),
        ),
        (
            "GET /webhook verification",
            app.request(
                Method::GET,
                &format!(
                    "/webhook?hub.mode=subscribe&hub.verify_token={}&hub.challenge=42",
                    mf_tests::VERIFY_TOKEN
                ),
            ),
        ),
        (
            "GET /webhook with a wrong verify token (403)",
            app.request(
                Method::GET,
                "/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42",
            ),
        ),
        (
            "POST /webhook",
            webhook_post(delivery.clone(), &signature, &app),
        ),
        (
            "POST /webhook with a bad signature (401)",
            webhook_post(delivery, "sha256=00", &app),
        ),
        (
            "POST /webhook too large (413)",
            webhook_post(too_big_for_webhook, &too_big_signature, &app),
        ),
        (
            "GET of an unknown path (404)",
            app.request(Method::GET, "/nowhere.txt"),
        ),
    ];

    // Act
    let mut problems = Vec::new();
    let mut statuses = Vec::new();
    for (name, request) in requests {
        let response = app.send(request).await;
        statuses.push(format!("{name}: {}", response.status));
        problems.extend(
            header_problems(&response)
                .into_iter()
                .map(|problem| format!("{name} ({}): {problem}", response.status)),
        );
    }

    // Assert
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let expected_statuses = [
        "GET /health: 200",
        "POST /graphql: 200",
        "POST /graphql without a token: 200",
        "POST /graphql that is not JSON (400): 400",
        "POST /graphql too large (413): 413",
        "GET /graphql GraphiQL: 200",
        "GET /graphql with a mutation (405): 405",
        "GET /webhook verification: 200",
        "GET /webhook with a wrong verify token (403): 403",
        "POST /webhook: 200",
        "POST /webhook with a bad signature (401): 401",
        "POST /webhook too large (413): 413",
        "GET of an unknown path (404): 404",
    ];
    assert_eq!(statuses, expected_statuses);
}

#[tokio::test]
async fn graphiql_is_served_as_html_with_frame_ancestors_none() {
    // Arrange: any built page stands in for GraphiQL's.
    let fixture = WebFixture::new();
    let page = fixture.dir();
    let app = spawn_app_with(move |config| config.graphiql_dir = page).await;

    // Act
    let response = app
        .send(
            app.request(Method::GET, "/graphql")
                .header(ACCEPT, "text/html"),
        )
        .await;

    // Assert
    assert_eq!(response.status, 200, "{response:?}");
    assert!(
        response
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html")),
        "{response:?}"
    );
    assert_eq!(header_problems(&response), Vec::<String>::new());
}

#[tokio::test]
async fn a_preflight_from_the_configured_origin_is_allowed() {
    // Arrange
    let app = spawn_app_with(|config| config.cors_origins = Some(ALLOWED_ORIGIN.to_owned())).await;

    // Act
    let response = app.send(preflight(&app, ALLOWED_ORIGIN)).await;

    // Assert
    assert!(
        (200..300).contains(&response.status),
        "the preflight failed: {response:?}"
    );
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN),
        "{response:?}"
    );
    let methods = response
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(methods.contains("POST"), "{response:?}");
    let headers = response
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{response:?}"
    );
}

#[tokio::test]
async fn a_preflight_from_another_origin_is_not_allowed() {
    // Arrange
    let app = spawn_app_with(|config| config.cors_origins = Some(ALLOWED_ORIGIN.to_owned())).await;

    // Act
    let response = app.send(preflight(&app, OTHER_ORIGIN)).await;

    // Assert
    assert_eq!(
        response.header("access-control-allow-origin"),
        None,
        "{response:?}"
    );
}

#[tokio::test]
async fn a_cross_origin_post_from_another_origin_gets_no_allow_origin() {
    // Arrange
    let app = spawn_app_with(|config| config.cors_origins = Some(ALLOWED_ORIGIN.to_owned())).await;
    let query = serde_json::to_vec(&json!({ "query": "{ me { id } }" })).expect("JSON");

    // Act
    let allowed = app
        .send(graphql_post(&app, query.clone()).header("Origin", ALLOWED_ORIGIN))
        .await;
    let other = app
        .send(graphql_post(&app, query).header("Origin", OTHER_ORIGIN))
        .await;

    // Assert
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN),
        "{allowed:?}"
    );
    assert_eq!(
        other.header("access-control-allow-origin"),
        None,
        "{other:?}"
    );
}

#[tokio::test]
async fn without_cors_origins_no_origin_is_allowed() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let from_inbox = app.send(preflight(&app, ALLOWED_ORIGIN)).await;
    let from_other = app.send(preflight(&app, OTHER_ORIGIN)).await;

    // Assert
    for response in [&from_inbox, &from_other] {
        assert_eq!(
            response.header("access-control-allow-origin"),
            None,
            "{response:?}"
        );
    }
}

#[tokio::test]
async fn cors_preflight_responses_carry_the_security_headers() {
    // Arrange
    let app = spawn_app_with(|config| config.cors_origins = Some(ALLOWED_ORIGIN.to_owned())).await;

    // Act
    let allowed = app.send(preflight(&app, ALLOWED_ORIGIN)).await;
    let refused = app.send(preflight(&app, OTHER_ORIGIN)).await;

    // Assert
    let problems: Vec<String> = [("allowed", &allowed), ("refused", &refused)]
        .into_iter()
        .flat_map(|(which, response)| {
            header_problems(response).into_iter().map(move |problem| {
                format!("the {which} preflight ({}): {problem}", response.status)
            })
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The directives of a policy, by name: `"script-src" -> ["'self'", ...]`.
fn directives(policy: &str) -> std::collections::HashMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace();
            let name = words.next()?.to_owned();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

#[tokio::test]
async fn the_web_client_gets_a_policy_that_lets_it_run_and_nothing_more() {
    // Arrange
    let fixture = WebFixture::new();
    let dir = fixture.dir();
    let app = spawn_app_with(move |config| config.web_dir = dir).await;
    let host = app.addr.to_string();

    // Act
    let mut responses = Vec::new();
    for path in ["/", SCRIPT, WASM, "/settings"] {
        responses.push((path, app.get(path).await));
    }

    // Assert
    for (path, response) in &responses {
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(header_problems(response), Vec::<String>::new(), "{path}");
        let policy = directives(
            response
                .header("content-security-policy")
                .unwrap_or_default(),
        );
        let expect = |name: &str, sources: &[&str]| {
            assert_eq!(
                policy.get(name).map(Vec::as_slice),
                Some(
                    sources
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .as_slice()
                ),
                "{path}: {name} in {policy:?}"
            );
        };
        expect("default-src", &["'self'"]);
        expect("script-src", &["'self'", "'wasm-unsafe-eval'"]);
        expect("style-src", &["'self'"]);
        expect("img-src", &["'self'", "data:", "https:"]);
        expect("media-src", &["'self'", "https:"]);
        expect(
            "connect-src",
            &["'self'", &format!("ws://{host}"), &format!("wss://{host}")],
        );
        expect("frame-ancestors", &["'none'"]);
        expect("object-src", &["'none'"]);
    }
}

#[tokio::test]
async fn pictures_from_a_plain_http_graph_api_are_allowed_by_the_policy() {
    // Arrange: the demo's and the tests' simulator serves Graph over plain HTTP.
    let app = spawn_app_with(|config| {
        config.fb_graph_url = "http://127.0.0.1:4321/v25.0".to_owned();
    })
    .await;

    // Act
    let response = app.get("/health").await;

    // Assert
    let policy = directives(
        response
            .header("content-security-policy")
            .unwrap_or_default(),
    );
    assert_eq!(
        policy.get("img-src").map(Vec::as_slice),
        Some(
            ["'self'", "data:", "https:", "http://127.0.0.1:4321"]
                .map(str::to_owned)
                .as_slice()
        ),
        "{policy:?}"
    );
    assert_eq!(
        policy.get("media-src").map(Vec::as_slice),
        Some(
            ["'self'", "https:", "http://127.0.0.1:4321"]
                .map(str::to_owned)
                .as_slice()
        ),
        "{policy:?}"
    );
}

#[tokio::test]
async fn a_forged_host_header_cannot_widen_the_policy() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.request(Method::GET, "/health")
                .header("Host", "evil.example; script-src *"),
        )
        .await;

    // Assert
    let policy = directives(
        response
            .header("content-security-policy")
            .unwrap_or_default(),
    );
    assert_eq!(
        policy.get("connect-src").map(Vec::as_slice),
        Some(["'self'".to_owned()].as_slice()),
        "{policy:?}"
    );
    assert_eq!(
        policy.get("script-src").map(Vec::as_slice),
        Some(["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()].as_slice()),
        "{policy:?}"
    );
}
