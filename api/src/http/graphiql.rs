//! GraphiQL at `GET /graphql` (for a browser), from the files `scripts/build-graphiql`
//! vendors (`MF_GRAPHIQL_DIR`, default `graphiql/dist`): pinned npm packages checked
//! against their integrity at build time, served from here, so the page loads nothing
//! from another origin and works without internet access.
//!
//! - The page runs no inline script (a boot file starts GraphiQL), so its policy allows
//!   scripts and styles from this origin only; fonts and images inlined in GraphiQL's
//!   stylesheet come as `data:`.
//! - `/graphql/assets/*` files carry a content hash in their name and are cached for a
//!   year; their `.gz` siblings are sent to browsers that accept them.
//! - Without a build, the page says how to make one; the API is unaffected.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::web::{IMMUTABLE, NO_CACHE, is_content_hashed};
use crate::state::AppState;

/// GraphiQL's policy: everything from this origin, nothing inline but GraphiQL's own
/// `data:` fonts and icons, queries to this origin's `/graphql`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const NOT_BUILT: &str = "GraphiQL is not built.\n\n\
    Build it with `scripts/build-graphiql` (./scripts/run and ./scripts/test do it first), \
    or point MF_GRAPHIQL_DIR at a directory that holds it (index.html and assets/).\n\
    The API itself is up: POST /graphql, GET /graphql with a query, and /graphql/ws answer \
    as usual.\n";

/// `/graphql/assets/*`: the vendored files.
pub fn router(dir: &Path) -> Router<AppState> {
    let assets = Arc::new(dir.join("assets"));
    Router::new().route(
        "/graphql/assets/{*file}",
        get(move |request: Request| {
            let assets = Arc::clone(&assets);
            async move { asset(&assets, request).await }
        }),
    )
}

/// One vendored file (its `.gz` when accepted): a year in the cache when its name carries
/// a content hash, revalidated otherwise (the licences).
async fn asset(assets: &Path, request: Request) -> Response {
    let name = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    // ServeDir resolves the path below its root: strip the route's prefix.
    let (mut parts, body) = request.into_parts();
    let Ok(uri) = format!("/{name}").parse() else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    parts.uri = uri;
    let request = Request::from_parts(parts, body);
    let mut response = match ServeDir::new(assets)
        .precompressed_gzip()
        .oneshot(request)
        .await
    {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let cache = if is_content_hashed(&name) {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// The GraphiQL page, or 503 saying how to build it.
pub async fn page(dir: &Path) -> Response {
    let index: PathBuf = dir.join("index.html");
    match tokio::fs::read_to_string(&index).await {
        Ok(html) => (
            [
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::CACHE_CONTROL, NO_CACHE),
            ],
            Html(html),
        )
            .into_response(),
        Err(_) => {
            tracing::warn!(dir = %dir.display(), "GraphiQL is not built");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::CACHE_CONTROL, NO_CACHE),
                ],
                NOT_BUILT,
            )
                .into_response()
        }
    }
}
