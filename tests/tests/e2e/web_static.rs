//! The web client's files served at `/`: cache headers, precompressed siblings, content
//! types, client routes answered with `index.html`, and the API's routes left alone.
use mf_tests::web::{self, FAKE_BROTLI, ICON, INDEX, SCRIPT, STYLE, WASM, WebFixture};
use mf_tests::{TestApp, spawn_app_with};
use reqwest::Method;
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, HeaderMap};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A response with its body as bytes (compressed bodies are not text).
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> Raw {
    let mut request = app.request(Method::GET, path);
    if let Some(encodings) = accept_encoding {
        request = request.header(ACCEPT_ENCODING, encodings);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {path}: {error}"));
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("reading the body").to_vec(),
    }
}

async fn app_serving(fixture: &WebFixture) -> TestApp {
    let dir = fixture.dir();
    spawn_app_with(move |config| config.web_dir = dir).await
}

#[tokio::test]
async fn the_root_serves_index_html_revalidated_on_every_load() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let response = get(&app, "/", None).await;

    // Assert
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.text(), INDEX);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        response.headers
    );
    assert_eq!(response.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn content_hashed_files_are_cached_for_a_year_and_unhashed_ones_revalidated() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let script = get(&app, SCRIPT, None).await;
    let wasm = get(&app, WASM, None).await;
    let style = get(&app, STYLE, None).await;
    let icon = get(&app, ICON, None).await;

    // Assert
    for (name, response) in [(SCRIPT, &script), (WASM, &wasm), (STYLE, &style)] {
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.header("cache-control"), Some(IMMUTABLE), "{name}");
    }
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn each_file_has_its_content_type_and_wasm_is_application_wasm() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let script = get(&app, SCRIPT, Some("gzip")).await;
    let wasm = get(&app, WASM, Some("gzip")).await;
    let style = get(&app, STYLE, None).await;

    // Assert: the type of the file itself, also when its gzip sibling is sent.
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert!(
        script
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/javascript")),
        "{:?}",
        script.headers
    );
    assert!(
        style
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/css")),
        "{:?}",
        style.headers
    );
}

#[tokio::test]
async fn the_gzip_sibling_is_sent_to_a_browser_that_accepts_gzip() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let response = get(&app, WASM, Some("gzip, deflate")).await;

    // Assert
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert!(
        response
            .header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "{:?}",
        response.headers
    );
    assert_eq!(response.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(web::gunzip(&response.body), WebFixture::wasm());
    assert!(response.body.len() < WebFixture::wasm().len());
}

#[tokio::test]
async fn without_accept_encoding_the_plain_file_is_sent() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let response = get(&app, WASM, None).await;
    let identity_only = get(&app, WASM, Some("identity")).await;

    // Assert
    for response in [&response, &identity_only] {
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-encoding"), None);
        assert_eq!(response.body, WebFixture::wasm());
        assert!(
            response
                .header("vary")
                .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
            "{:?}",
            response.headers
        );
    }
}

#[tokio::test]
async fn the_brotli_sibling_is_sent_when_there_is_one_and_brotli_is_accepted() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let brotli = get(&app, SCRIPT, Some("gzip, br")).await;
    let gzip_only = get(&app, SCRIPT, Some("gzip")).await;

    // Assert
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    assert_eq!(brotli.body, FAKE_BROTLI);
    assert_eq!(gzip_only.header("content-encoding"), Some("gzip"));
    assert_eq!(web::gunzip(&gzip_only.body), WebFixture::script());
}

#[tokio::test]
async fn client_routes_are_answered_with_index_html() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act and assert
    for route in ["/conversations/42", "/settings", "/login", "/c/42/"] {
        let response = get(&app, route, None).await;
        assert_eq!(response.status, 200, "{route}");
        assert_eq!(response.text(), INDEX, "{route}");
        assert_eq!(
            response.header("cache-control"),
            Some("no-cache"),
            "{route}"
        );
        assert!(
            response
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{route}: {:?}",
            response.headers
        );
    }
}

#[tokio::test]
async fn a_missing_file_is_404_not_the_client_page() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act and assert
    for path in ["/app-00000000.js", "/nowhere.txt", "/assets/missing.wasm"] {
        let response = get(&app, path, Some("gzip")).await;
        assert_eq!(response.status, 404, "{path}: {}", response.text());
        assert_ne!(response.text(), INDEX, "{path}");
        assert_eq!(response.header("cache-control"), None, "{path}");
    }
}

#[tokio::test]
async fn nothing_outside_the_client_directory_is_served() {
    // Arrange
    let fixture = WebFixture::new();
    assert!(fixture.root().join("secret.txt").is_file());
    let app = app_serving(&fixture).await;

    // Act and assert
    for path in [
        "/../secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/dist/../../secret.txt",
    ] {
        let response = get(&app, path, None).await;
        assert!(
            !response.text().contains("not for the web"),
            "{path} reached a file outside the client: {}",
            response.status
        );
    }
}

#[tokio::test]
async fn the_api_routes_keep_their_handlers() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let health = app.get("/health").await;
    let metrics = app.get("/metrics").await;
    let graphiql = app
        .send(
            app.request(Method::GET, "/graphql")
                .header(ACCEPT, "text/html"),
        )
        .await;
    let query = app.gql("{ me { email } }", serde_json::json!({})).await;
    let verification = app
        .get(&format!(
            "/webhook?hub.mode=subscribe&hub.verify_token={}&hub.challenge=1234",
            mf_tests::VERIFY_TOKEN
        ))
        .await;
    let unknown_api_paths = [
        get(&app, "/graphql/nowhere", None).await,
        get(&app, "/webhook/nowhere", None).await,
        get(&app, "/health/nowhere", None).await,
    ];

    // Assert
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok", "{}", health.body);
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("# TYPE"), "{}", metrics.body);
    assert_eq!(graphiql.status, 200);
    assert!(graphiql.body.to_ascii_lowercase().contains("graphiql"));
    assert_ne!(graphiql.body, INDEX);
    assert_eq!(
        query["data"]["me"]["email"],
        mf_tests::ADMIN_EMAIL,
        "{query}"
    );
    assert_eq!(verification.status, 200);
    assert_eq!(verification.body, "1234");
    for response in unknown_api_paths {
        assert_eq!(response.status, 404);
        assert_ne!(response.text(), INDEX);
    }
}

#[tokio::test]
async fn a_post_to_a_client_path_is_not_allowed() {
    // Arrange
    let fixture = WebFixture::new();
    let app = app_serving(&fixture).await;

    // Act
    let response = app.send(app.request(Method::POST, "/settings")).await;

    // Assert
    assert_eq!(response.status, 405);
    assert_ne!(response.body, INDEX);
}

#[tokio::test]
async fn without_a_built_client_the_root_says_how_to_build_it_and_the_api_still_runs() {
    // Arrange
    let fixture = WebFixture::new();
    let missing = fixture.root().join("not-built");
    let app = spawn_app_with(move |config| config.web_dir = missing).await;

    // Act
    let root = app.get("/").await;
    let route = app.get("/settings").await;
    let file = app.get(SCRIPT).await;
    let health = app.get("/health").await;

    // Assert
    for response in [&root, &route] {
        assert_eq!(response.status, 503, "{}", response.body);
        assert!(
            response.body.contains("not built") && response.body.contains("scripts/build-client"),
            "{}",
            response.body
        );
    }
    assert_eq!(file.status, 404);
    assert_eq!(health.status, 200);
}
