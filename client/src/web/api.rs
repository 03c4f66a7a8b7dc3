//! GraphQL over HTTP: `POST /graphql` on the page's own origin, with the session as
//! `Authorization: Bearer`.
use graphql_client::GraphQLQuery;
use serde_json::Value;

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

    /// The first error of a GraphQL response (its `errors`), with its code.
    pub fn from_graphql(errors: &[Value]) -> Self {
        let first = errors.first();
        let text = |field: Option<&Value>| field.and_then(Value::as_str).map(str::to_string);
        Self {
            code: text(first.and_then(|e| e.get("extensions")?.get("code")))
                .unwrap_or_else(|| "INTERNAL".into()),
            message: text(first.and_then(|e| e.get("message"))).unwrap_or_default(),
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

/// Runs operation `Q`, decoding its answer as `T` (its `ResponseData`, or one of
/// `crate::ops`' shared answers). Only the encoding and decoding are per operation: the
/// request and the reading of the answer are [`request`], compiled once (each
/// operation's copy of the whole request weighed about a kilobyte of gzipped wasm).
pub async fn call_as<Q: GraphQLQuery, T: serde::de::DeserializeOwned>(
    token: Option<&str>,
    variables: Q::Variables,
) -> Result<T, ApiError> {
    let body = serde_json::to_string(&Q::build_query(variables))
        .map_err(|e| ApiError::network(e.to_string()))?;
    let (status, answer) = request(token, body).await?;
    answer_as(answer).map_err(|failure| match failure {
        Failure::Api(e) => e,
        Failure::Undecodable | Failure::Empty => answered(status),
    })
}

/// The request body of an operation (a generated module's `QUERY` and `OPERATION_NAME`,
/// checked against the schema at build time) with `variables` as JSON, for
/// [`call_body`]: one encoder for every operation sent this way.
pub fn body(query: &str, operation: &str, variables: Value) -> String {
    serde_json::json!({ "variables": variables, "query": query, "operationName": operation })
        .to_string()
}

/// Sends a body made by [`body`]: the answer's `data` as JSON, or its first error. One
/// future for any number of operations: a screen whose mutations all go through it
/// (Settings' teammates and tokens) has one copy of the request's state machine, not one
/// per operation.
pub async fn call_body(token: Option<&str>, body: String) -> Result<Value, ApiError> {
    let (status, mut answer) = request(token, body).await?;
    let data = answer.get_mut("data").map(Value::take).unwrap_or_default();
    match answer_as::<serde::de::IgnoredAny>(answer) {
        Err(Failure::Api(e)) => Err(e),
        Err(Failure::Empty) if !data.is_null() => Ok(data),
        _ => Err(answered(status)),
    }
}

/// Why an answer gave no data.
pub enum Failure {
    /// Its data does not decode as the type asked for, or its errors are no list.
    Undecodable,
    /// It carries errors: the first, with its code.
    Api(ApiError),
    /// Neither data nor errors.
    Empty,
}

/// Decodes a GraphQL answer's `data` as `T`, then picks the result: the first of its
/// `errors` if there are any, or the data. Every answer, over HTTP or the live feed,
/// decodes through here: one decoder per type, from [`serde_json::Value`] (a decoder
/// from text besides it would be a second copy of every type's decoder in the wasm). The
/// errors are read as JSON, not decoded: only the first one's message and code count.
pub fn answer_as<T: serde::de::DeserializeOwned>(mut answer: Value) -> Result<T, Failure> {
    let data = match answer.get_mut("data").map(Value::take) {
        None | Some(Value::Null) => None,
        Some(data) => Some(serde_json::from_value::<T>(data).map_err(|_| Failure::Undecodable)?),
    };
    match (data, answer.get("errors")) {
        (_, Some(Value::Array(errors))) if !errors.is_empty() => {
            Err(Failure::Api(ApiError::from_graphql(errors)))
        }
        (_, Some(errors)) if !errors.is_array() && !errors.is_null() => Err(Failure::Undecodable),
        (Some(data), _) => Ok(data),
        (None, _) => Err(Failure::Empty),
    }
}

fn answered(status: u16) -> ApiError {
    ApiError::network(format!("the server answered HTTP {status}"))
}

/// Sends one request body (or takes its prefetched answer); the status and the answer
/// read as JSON.
async fn request(token: Option<&str>, body: String) -> Result<(u16, Value), ApiError> {
    let (status, text) = match prefetched(token, &body).await {
        Some(answer) => answer,
        None => post(token, body.into(), true).await?,
    };
    let answer: Value = serde_json::from_str(&text).map_err(|_| answered(status))?;
    Ok((status, answer))
}

/// Runs operation `Q` as a GraphQL multipart request, `file` as its `input.file` variable
/// (the server's `sendMessage(input: {file})`).
pub async fn call_with_file<Q: GraphQLQuery, T: serde::de::DeserializeOwned>(
    token: Option<&str>,
    variables: Q::Variables,
    file: &web_sys::File,
) -> Result<T, ApiError> {
    let js = |e: wasm_bindgen::JsValue| ApiError::network(format!("{e:?}"));
    let mut operations = serde_json::to_value(Q::build_query(variables))
        .map_err(|e| ApiError::network(e.to_string()))?;
    if let Some(input) = operations
        .pointer_mut("/variables/input")
        .and_then(serde_json::Value::as_object_mut)
    {
        input.insert("file".into(), serde_json::Value::Null);
    }
    let form = web_sys::FormData::new().map_err(js)?;
    form.append_with_str("operations", &operations.to_string())
        .map_err(js)?;
    form.append_with_str("map", r#"{"0":["variables.input.file"]}"#)
        .map_err(js)?;
    form.append_with_blob_and_filename("0", file, &file.name())
        .map_err(js)?;
    let (status, text) = post(token, form.into(), false).await?;
    let answer: Value = serde_json::from_str(&text).map_err(|_| answered(status))?;
    answer_as(answer).map_err(|failure| match failure {
        Failure::Api(e) => e,
        Failure::Undecodable | Failure::Empty => answered(status),
    })
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

/// `POST /graphql` with a JSON body (`json`), or a form the browser encodes as
/// `multipart/form-data` itself; the status and the body's text.
async fn post(
    token: Option<&str>,
    body: wasm_bindgen::JsValue,
    json: bool,
) -> Result<(u16, String), ApiError> {
    let mut request = gloo_net::http::Request::post("/graphql").header(
        "Accept",
        "application/graphql-response+json, application/json",
    );
    if json {
        request = request.header("Content-Type", "application/json");
    }
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
