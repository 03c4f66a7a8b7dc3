//! A Graph request taken apart: version, node, edge, parameters and token.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, Uri, header};
use serde_json::Value;

use super::error::{GraphError, GraphResult};
use super::multipart::{FilePart, Form};

/// A parsed Graph API call.
#[derive(Debug)]
pub struct GraphRequest {
    /// GET, POST or DELETE.
    pub method: Method,
    /// `/v25.0` or empty, echoed into `paging.next`.
    pub version_prefix: String,
    /// The first path component: an id or `me`.
    pub node: String,
    /// The second path component, if any.
    pub edge: Option<String>,
    /// Query and body parameters together; the body wins.
    pub params: Params,
    /// `access_token` parameter, else `Authorization: Bearer` / `OAuth`.
    pub token: Option<String>,
    /// `scheme://host` the caller used, for `paging.next`.
    pub origin: String,
    /// `filedata` of a multipart body.
    pub file: Option<FilePart>,
}

impl GraphRequest {
    /// Splits a request; a path no Graph call has (empty, or too deep) is an error. A
    /// multipart body comes as `form` (see `multipart::read`), any other as `body`.
    pub fn parse(
        method: Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        form: Option<Form>,
    ) -> GraphResult<Self> {
        let mut parts: Vec<&str> = uri.path().split('/').filter(|p| !p.is_empty()).collect();
        let mut version_prefix = String::new();
        if parts.first().is_some_and(|p| is_version(p)) {
            version_prefix = format!("/{}", parts.remove(0));
        }
        let (node, edge) = match parts.as_slice() {
            [node] => ((*node).to_owned(), None),
            [node, edge] => ((*node).to_owned(), Some((*edge).to_owned())),
            [] => return Err(GraphError::unsupported(method.as_str(), "")),
            [_, _, rest @ ..] => {
                return Err(GraphError::unknown_path(&format!("/{}", rest.join("/"))));
            }
        };
        let mut params = Params::default();
        if let Some(query) = uri.query() {
            params.extend_form(query.as_bytes());
        }
        let mut file = None;
        if let Some(form) = form {
            for (key, value) in form.fields {
                params.insert_form_value(key, value);
            }
            file = form.file;
        } else if !body.is_empty() {
            let is_json = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("json"));
            if is_json || body.first() == Some(&b'{') {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => params.0.extend(map),
                    _ => return Err(GraphError::invalid_param("Invalid JSON for request body")),
                }
            } else {
                params.extend_form(body);
            }
        }
        let token = params
            .str("access_token")
            .map(str::to_owned)
            .or_else(|| bearer(headers));
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1");
        Ok(Self {
            method,
            version_prefix,
            node: percent_decode(&node),
            edge,
            params,
            token,
            origin: format!("http://{host}"),
            file,
        })
    }

    /// The base every `paging.next` starts with.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.origin, self.version_prefix)
    }
}

fn is_version(part: &str) -> bool {
    let Some(rest) = part.strip_prefix('v') else {
        return false;
    };
    let mut numbers = rest.split('.');
    let major = numbers
        .next()
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let minor = numbers
        .next()
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    major && minor && numbers.next().is_none()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim().to_owned())
}

fn percent_decode(part: &str) -> String {
    url::form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| part.to_owned())
}

/// Request parameters. Form and query values are strings; a string that holds a JSON
/// object or array (Graph's form encoding of `recipient`, `message`...) is read as JSON.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, Value>);

impl Params {
    fn extend_form(&mut self, raw: &[u8]) {
        for (key, value) in url::form_urlencoded::parse(raw) {
            self.insert_form_value(key.into_owned(), value.into_owned());
        }
    }

    fn insert_form_value(&mut self, key: String, value: String) {
        let trimmed = value.trim_start();
        let parsed = if trimmed.starts_with('{') || trimmed.starts_with('[') {
            serde_json::from_str(&value).unwrap_or(Value::String(value))
        } else {
            Value::String(value)
        };
        self.0.insert(key, parsed);
    }

    /// A parameter, as JSON.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// A string parameter.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    /// `limit`: default 25, at most 100 (larger values are clamped, as Graph does).
    pub fn limit(&self) -> GraphResult<usize> {
        limit_value(self.get("limit"))
    }
}

/// Reads a `limit` given as a number or a string.
pub fn limit_value(value: Option<&Value>) -> GraphResult<usize> {
    const DEFAULT: usize = 25;
    const MAX: usize = 100;
    let raw = match value {
        None => return Ok(DEFAULT),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match raw {
        Some(n) if n <= 0 => Ok(DEFAULT),
        Some(n) => Ok(usize::try_from(n).unwrap_or(MAX).min(MAX)),
        None => Err(GraphError::invalid_param("Param limit must be a number")),
    }
}

/// The original query, minus the paging parameters, for `paging.next`.
pub fn carried_params(params: &Params) -> Vec<(String, String)> {
    let mut carried: Vec<(String, String)> = params
        .0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "after" | "before" | "limit" | "access_token"))
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect();
    carried.sort();
    carried
}
