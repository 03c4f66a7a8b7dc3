//! The web client: the directory `scripts/build-client` fills (`MF_WEB_DIR`, default
//! `client/dist`), served at `/` beside the API.
//!
//! - Content-hashed files (`app-3f9a0c1d.wasm`) never change under their name, so browsers
//!   keep them a year without asking again; `index.html`, which names them, is revalidated
//!   on every load (`no-cache`), so a new build is picked up at the next reload.
//! - A `.gz` (or `.br`) sibling made at build time is sent when the browser accepts it
//!   (tower-http's `ServeDir` does the negotiation and sets `Vary: Accept-Encoding`).
//! - Any other path without a file extension is a client route (`/c/42`, `/settings`):
//!   it gets `index.html`, and the client's router takes over. The API's own paths keep
//!   their handlers and answer 404 for what they do not know.
//! - A missing build does not stop the server: the page says how to build the client.
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// For content-hashed files: a year, and no revalidation.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For `index.html` and unhashed files: always revalidated.
pub const NO_CACHE: &str = "no-cache";

/// Paths that belong to the API: never answered with the client's `index.html`.
const API_PREFIXES: [&str; 4] = ["/graphql", "/webhook", "/health", "/metrics"];

const NOT_BUILT: &str = "The MessengerFlow web client is not built.\n\n\
    Build it with `scripts/build-client` (which `./scripts/run` does first), \
    or point MF_WEB_DIR at a directory that holds a built client (index.html and its files).\n\
    The API is up: /graphql, /graphql/ws, /webhook, /health and /metrics answer as usual.\n";

/// The built client's directory.
#[derive(Clone)]
struct WebDir {
    dir: PathBuf,
    index: PathBuf,
}

/// The fallback of the whole router: static files, client routes, or 404.
pub fn fallback(
    dir: &Path,
) -> impl Fn(Request) -> futures::future::BoxFuture<'static, Response> + Clone + Send + Sync + 'static
{
    let web = Arc::new(WebDir {
        dir: dir.to_path_buf(),
        index: dir.join("index.html"),
    });
    move |request: Request| {
        let web = Arc::clone(&web);
        Box::pin(async move { serve(&web, request).await })
    }
}

async fn serve(web: &WebDir, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let api = API_PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
    if api {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "method not allowed\n",
        )
            .into_response();
    }
    let file = last_segment(&path).contains('.');
    if !tokio::fs::metadata(&web.index)
        .await
        .is_ok_and(|m| m.is_file())
    {
        if file {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
        tracing::warn!(dir = %web.dir.display(), "the web client is not built");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, NO_CACHE)],
            NOT_BUILT,
        )
            .into_response();
    }

    if file || path == "/" {
        let served = into_response(
            ServeDir::new(&web.dir)
                .precompressed_br()
                .precompressed_gzip()
                .oneshot(request)
                .await,
        );
        if served.status() == StatusCode::NOT_FOUND {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
        let cache = if is_content_hashed(last_segment(&path)) {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        return with_cache(served, cache);
    }

    // A client route: the app's page, which routes it in the browser.
    let served = into_response(
        ServeFile::new(&web.index)
            .precompressed_br()
            .precompressed_gzip()
            .oneshot(request)
            .await,
    );
    with_cache(served, NO_CACHE)
}

fn into_response<B>(result: Result<axum::http::Response<B>, Infallible>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    match result {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

fn with_cache(mut response: Response, cache: &'static str) -> Response {
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

/// Whether a file name carries a content hash: one of its `-`, `_` or `.` separated parts
/// (not the first) is at least 8 hex digits with a digit among them (`app-3f9a0c1d.js`,
/// `client_bg.5e1b2c3d4f.wasm.gz`), or dx's `dxh` + hex form (`main-dxh1a2b3c4d.js`).
pub fn is_content_hashed(name: &str) -> bool {
    name.split(['-', '_', '.']).skip(1).any(|part| {
        let hex = part.strip_prefix("dxh").unwrap_or(part);
        hex.len() >= 8
            && hex.chars().all(|c| c.is_ascii_hexdigit())
            && hex.chars().any(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        for hashed in [
            "app-3f9a0c1d.js",
            "client_bg-0123456789abcdef.wasm",
            "client.5e1b2c3d4f.wasm.gz",
            "main-dxh1a2b3c4d5e.js",
            "style-a1b2c3d4.css",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in [
            "index.html",
            "favicon.ico",
            "client_bg.wasm",
            "app.js",
            "robots.txt",
            "deadbeefcafe.js",
            "app-1234567.js",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
