//! Security headers on every response, and CORS for the origins in `CORS_ORIGINS`.
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content Security Policy of the web client, the same for every response but for
/// two parts: `connect-src` names the WebSocket URLs of the host the page was loaded
/// from, and `img-src` may name the Graph API's origin when it is not HTTPS (the
/// simulator of the demo and the tests serves pictures from there).
///
/// - scripts: the client's own, and compiling its WebAssembly (`'wasm-unsafe-eval'`);
/// - styles: its own stylesheet only;
/// - connections: its own API over HTTP and WebSocket (`ws:`/`wss:` to the same host);
/// - images: its own, `data:`, and HTTPS (customer pictures on Facebook's CDN, attachments);
/// - media (customers' videos and voice messages, played inline): its own and HTTPS, and
///   the same plain-HTTP Graph origin as images.
pub fn content_security_policy(host: Option<&str>, extra_img_src: Option<&str>) -> String {
    let websocket = match host.filter(|host| is_plain_host(host)) {
        Some(host) => format!(" ws://{host} wss://{host}"),
        None => String::new(),
    };
    let images = extra_img_src.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: https:{images}; media-src 'self' https:{images}; \
         connect-src 'self'{websocket}; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// A `Host` header that can go into a policy as it is: a name or address and a port,
/// nothing that could end a directive or add a source.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// The origin of an `http://` Graph API URL (`http://127.0.0.1:4000`), which the policy's
/// `img-src` then allows; `None` for HTTPS, already allowed, or anything unparsable.
pub fn plain_http_origin(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    is_plain_host(authority).then(|| format!("http://{authority}"))
}

/// Adds the headers unless a handler set its own (GraphiQL sets a wider CSP).
pub fn headers(app: Router, cors: Option<CorsLayer>, extra_img_src: Option<String>) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    // CORS inside, so that the preflight answers it makes carry the headers too.
    let app = match cors {
        Some(cors) => app.layer(cors),
        None => app,
    };
    let extra_img_src: Arc<Option<String>> = Arc::new(extra_img_src);
    app.layer(middleware::from_fn(move |request: Request, next: Next| {
        let extra_img_src = Arc::clone(&extra_img_src);
        async move {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned);
            let mut response = next.run(request).await;
            if !response
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
            {
                let policy = content_security_policy(host.as_deref(), extra_img_src.as_deref());
                if let Ok(value) = HeaderValue::from_str(&policy) {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, value);
                }
            }
            response
        }
    }))
    .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
    .layer(set(header::X_FRAME_OPTIONS, "DENY"))
    .layer(set(header::REFERRER_POLICY, "no-referrer"))
    .layer(set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ))
}

/// CORS for a comma-separated list of origins; `None` (same origin only) when unset.
pub fn cors(origins: Option<&str>) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins?
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .filter_map(|o| match HeaderValue::from_str(o) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(origin = o, "ignoring an invalid origin in CORS_ORIGINS");
                None
            }
        })
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::{content_security_policy, plain_http_origin};

    #[test]
    fn the_policy_names_the_websocket_of_the_page_host_only() {
        let policy = content_security_policy(Some("127.0.0.1:3000"), None);
        assert!(
            policy.contains("connect-src 'self' ws://127.0.0.1:3000 wss://127.0.0.1:3000;"),
            "{policy}"
        );
    }

    #[test]
    fn a_host_header_cannot_add_sources_to_the_policy() {
        for host in ["evil.example; script-src *", "a b", "x'y", ""] {
            let policy = content_security_policy(Some(host), None);
            assert!(policy.contains("connect-src 'self';"), "{host}: {policy}");
        }
    }

    #[test]
    fn videos_and_voice_messages_may_play_from_https_and_the_graph_origin() {
        let policy = content_security_policy(None, Some("http://127.0.0.1:4321"));
        assert!(
            policy.contains("media-src 'self' https: http://127.0.0.1:4321;"),
            "{policy}"
        );
    }

    #[test]
    fn an_http_graph_url_gives_its_origin_for_pictures() {
        assert_eq!(
            plain_http_origin("http://127.0.0.1:4321/v25.0").as_deref(),
            Some("http://127.0.0.1:4321")
        );
        assert_eq!(plain_http_origin("https://graph.facebook.com/v25.0"), None);
        assert_eq!(plain_http_origin("http://a b/v1"), None);
    }
}
