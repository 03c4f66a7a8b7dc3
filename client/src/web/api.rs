//! GraphQL over HTTP: `POST /graphql` on the page's own origin, with the session as
//! `Authorization: Bearer`.
use graphql_client::{GraphQLQuery, Response};

/// A failed operation: the server's `extensions.code` and message, or no answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn network(message: impl Into<String>) -> Self {
        Self {
            code: "NETWORK".into(),
            message: message.into(),
        }
    }

    pub fn is_unauthenticated(&self) -> bool {
        self.code == "UNAUTHENTICATED"
    }

    /// The first error of a GraphQL response, with its code.
    pub fn from_graphql(errors: &[graphql_client::Error]) -> Self {
        let first = errors.first();
        let code = first
            .and_then(|e| e.extensions.as_ref())
            .and_then(|x| x.get("code"))
            .and_then(|c| c.as_str())
            .unwrap_or("INTERNAL")
            .to_string();
        Self {
            code,
            message: first.map(|e| e.message.clone()).unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// Runs one query or mutation. Only the encoding and decoding are per operation: the
/// request itself is [`post`], compiled once (each operation's copy of the whole request
/// weighed about a kilobyte of gzipped wasm).
pub async fn call<Q: GraphQLQuery>(
    token: Option<&str>,
    variables: Q::Variables,
) -> Result<Q::ResponseData, ApiError> {
    call_as::<Q, Q::ResponseData>(token, variables).await
}

/// Runs operation `Q`, decoding its answer as `T` (one of `crate::ops`' shared answers).
pub async fn call_as<Q: GraphQLQuery, T: serde::de::DeserializeOwned>(
    token: Option<&str>,
    variables: Q::Variables,
) -> Result<T, ApiError> {
    let body = serde_json::to_string(&Q::build_query(variables))
        .map_err(|e| ApiError::network(e.to_string()))?;
    let (status, text) = match prefetched(token, &body).await {
        Some(answer) => answer,
        None => post(token, body).await?,
    };
    let decoded: Response<T> = serde_json::from_str(&text)
        .map_err(|_| ApiError::network(format!("the server answered HTTP {status}")))?;
    match (decoded.data, decoded.errors) {
        (_, Some(errors)) if !errors.is_empty() => Err(ApiError::from_graphql(&errors)),
        (Some(data), _) => Ok(data),
        (None, _) => Err(ApiError::network(format!(
            "the server answered HTTP {status}"
        ))),
    }
}

/// The answer to a request the page's boot module (`boot-<hash>.js`, written by
/// `scripts/build-client`) sent while the wasm was still downloading and compiling:
/// with the stored session, `Session`, then the first page of the first Page's
/// conversations. Taken once, and only for the same request body (operation, document
/// and variables) and session; anything else (or a prefetch that failed) is asked for
/// as usual.
async fn prefetched(token: Option<&str>, body: &str) -> Option<(u16, String)> {
    use wasm_bindgen::{JsCast, JsValue};
    let field = |object: &JsValue, key: &str| js_sys::Reflect::get(object, &key.into()).ok();
    let text = |object: &JsValue, key: &str| field(object, key)?.as_string();
    let window: JsValue = web_sys::window()?.into();
    let list: js_sys::Array = field(&window, "__mfPrefetch")?.dyn_into().ok()?;
    // The same request: `JSON.stringify` wrote its body in the order serde writes it.
    let entry = list.iter().find(|entry| {
        field(entry, "taken").is_some_and(|t| t.is_falsy())
            && text(entry, "token").as_deref() == token
            && text(entry, "body").as_deref() == Some(body)
    })?;
    js_sys::Reflect::set(&entry, &"taken".into(), &true.into()).ok()?;
    let promise: js_sys::Promise = field(&entry, "answer")?.dyn_into().ok()?;
    let answer = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let status = field(&answer, "status")?.as_f64()? as u16;
    Some((status, text(&answer, "text")?))
}

/// `POST /graphql` with a JSON body; the status and the body's text.
async fn post(token: Option<&str>, body: String) -> Result<(u16, String), ApiError> {
    let mut request = gloo_net::http::Request::post("/graphql")
        .header(
            "Accept",
            "application/graphql-response+json, application/json",
        )
        .header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request
        .body(body)
        .map_err(|e| ApiError::network(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::network(e.to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|_| ApiError::network(format!("the server answered HTTP {status}")))?;
    Ok((status, text))
}
