//! GraphiQL at `GET /graphql`, served by the api from the files `scripts/build-graphiql`
//! vendors: from this origin only, under a policy without `'unsafe-inline'`, cached by
//! content hash; without a build, the page says how to make one.
//!
//! The first test needs `graphiql/dist`: skipped with a message when it is missing, except
//! under `CI=true` or `MF_REQUIRE_BROWSER=1` (set by `scripts/test`), where it fails.
use mf_tests::browser::graphiql_dist;
use mf_tests::require::{self, Need};
use mf_tests::{TestApp, spawn_app_with};
use serde_json::json;

async fn get_html(app: &TestApp, path: &str) -> mf_tests::HttpResponse {
    app.send(
        app.request(reqwest::Method::GET, path)
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml"),
    )
    .await
}

/// The `src` and `href` values of a page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("a closing quote");
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

/// The sources one directive of a policy allows.
fn directive<'a>(policy: &'a str, name: &str) -> Vec<&'a str> {
    policy
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(|rest| rest.split_whitespace().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn graphiql_and_its_assets_come_from_this_origin_under_a_policy_without_unsafe_inline() {
    let dist = graphiql_dist();
    if !dist.join("index.html").is_file() {
        let missing = format!("{} (run scripts/build-graphiql)", dist.display());
        require::missing(Need::Browser, &missing);
        return;
    }
    let app = spawn_app_with(move |config| config.graphiql_dir = dist).await;

    let page = get_html(&app, "/graphql").await;

    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let policy = page
        .header("content-security-policy")
        .expect("a policy")
        .to_owned();
    for name in ["script-src", "style-src", "connect-src", "default-src"] {
        let sources = directive(&policy, name);
        assert!(!sources.is_empty(), "{name} in {policy}");
        for source in sources {
            assert!(
                ["'self'", "'none'"].contains(&source),
                "{name} allows {source}: {policy}"
            );
        }
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert!(!policy.contains("http"), "no other origin: {policy}");
    assert!(page.body.contains("id=\"graphiql\""), "{}", page.body);
    assert!(
        !page.body.contains("<script>"),
        "no inline script: {}",
        page.body
    );
    assert!(
        !page.body.contains("style="),
        "no inline style: {}",
        page.body
    );

    let references = references(&page.body);
    let assets: Vec<&String> = references.iter().filter(|r| *r != "data:,").collect();
    assert!(
        assets.len() >= 5,
        "GraphiQL, React, ReactDOM, boot, styles: {references:?}"
    );
    for asset in assets {
        assert!(
            asset.starts_with("/graphql/assets/"),
            "{asset} is not served from here"
        );
        let response = app
            .send(
                app.request(reqwest::Method::GET, asset)
                    .header(reqwest::header::ACCEPT_ENCODING, "gzip"),
            )
            .await;
        assert_eq!(response.status, 200, "{asset}: {response:?}");
        assert_eq!(
            response.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{asset}"
        );
        assert_eq!(response.header("content-encoding"), Some("gzip"), "{asset}");
        assert_eq!(
            response.header("content-security-policy"),
            Some(policy.as_str())
        );
        let kind = response.content_type.clone().unwrap_or_default();
        assert!(
            kind.contains("javascript") || kind.contains("text/css"),
            "{asset}: {kind}"
        );
        // Stylesheets load fonts and images from `data:` only.
        if kind.contains("css") {
            let text = app.get(asset).await.body;
            assert!(
                !text.contains("url(http") && !text.contains("url(\"http"),
                "{asset}"
            );
            assert!(!text.contains("@import"), "{asset}");
        }
    }

    // The API itself still answers GET queries for non-browsers.
    let query = app
        .send(
            app.request(reqwest::Method::GET, "/graphql?query=%7B__typename%7D")
                .header(reqwest::header::ACCEPT, "application/json"),
        )
        .await;
    assert_eq!(
        query.json(),
        json!({ "data": { "__typename": "QueryRoot" } })
    );
}

#[tokio::test]
async fn without_a_build_graphiql_says_how_to_build_it_and_the_api_still_answers() {
    let empty = tempfile::tempdir().expect("an empty directory");
    let dir = empty.path().to_path_buf();
    let app = spawn_app_with(move |config| config.graphiql_dir = dir).await;

    let page = get_html(&app, "/graphql").await;

    assert_eq!(page.status, 503, "{page:?}");
    assert!(
        page.body.contains("scripts/build-graphiql"),
        "{}",
        page.body
    );
    assert_eq!(
        app.get("/graphql/assets/graphiql-0123456789abcdef.js")
            .await
            .status,
        404
    );
    let me = app.gql_data("{ me { id } }", json!({})).await;
    assert!(me["me"]["id"].is_string());
}
