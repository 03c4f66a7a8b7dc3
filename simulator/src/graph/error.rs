//! Graph's error body, `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`,
//! and the errors the simulator answers, worded as Graph words them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::ids;

/// One Graph API error. Graph answers HTTP 400 for nearly all of them, token errors included.
#[derive(Debug, Clone)]
pub struct GraphError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message.
    pub message: String,
    /// `OAuthException`, `GraphMethodException`...
    pub kind: &'static str,
    /// Graph error code.
    pub code: u32,
    /// Graph error subcode.
    pub subcode: Option<u32>,
    /// Extra headers, such as usage headers on throttling errors.
    pub headers: Vec<(&'static str, String)>,
    /// `is_transient` in the body, when Graph would say it (see `crate::faults`).
    pub is_transient: Option<bool>,
}

impl GraphError {
    fn new(
        code: u32,
        subcode: Option<u32>,
        kind: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind,
            code,
            subcode,
            headers: Vec::new(),
            is_transient: None,
        }
    }

    /// Any error, as an armed fault answers it.
    pub fn custom(
        status: StatusCode,
        code: u32,
        subcode: Option<u32>,
        kind: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            ..Self::new(code, subcode, kind, message)
        }
    }

    /// Sets `is_transient` in the body.
    pub fn transient(mut self, transient: bool) -> Self {
        self.is_transient = Some(transient);
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// An object that does not exist, or that this token may not see.
    pub fn unsupported(method: &str, id: &str) -> Self {
        Self::new(
            100,
            Some(33),
            "GraphMethodException",
            format!(
                "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
    }

    /// A known object with an edge it does not have.
    pub fn unknown_path(components: &str) -> Self {
        Self::new(
            2500,
            None,
            "OAuthException",
            format!("Unknown path components: {components}"),
        )
    }

    /// Code 100, invalid parameter.
    pub fn invalid_param(message: impl AsRef<str>) -> Self {
        Self::new(
            100,
            None,
            "OAuthException",
            format!("(#100) {}", message.as_ref()),
        )
    }

    /// A field the node type does not have.
    pub fn nonexisting_field(field: &str, node_type: &str) -> Self {
        Self::invalid_param(format!(
            "Tried accessing nonexisting field ({field}) on node type ({node_type})"
        ))
    }

    /// No token at all.
    pub fn token_required() -> Self {
        Self::new(
            104,
            None,
            "OAuthException",
            "An access token is required to request this resource.",
        )
    }

    /// A token that was never issued.
    pub fn invalid_token() -> Self {
        Self::new(
            190,
            None,
            "OAuthException",
            "Invalid OAuth access token - Cannot parse access token",
        )
    }

    /// A token that was revoked or replaced.
    pub fn revoked_token() -> Self {
        Self::new(
            190,
            Some(460),
            "OAuthException",
            "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
        )
    }

    /// The Send API outside the 24-hour window (or the 7-day HUMAN_AGENT window).
    pub fn outside_window() -> Self {
        Self::new(
            10,
            Some(2_018_278),
            "OAuthException",
            "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        )
    }

    /// The Send API with a recipient the Page does not know.
    pub fn no_matching_user() -> Self {
        Self::new(
            100,
            Some(2_018_001),
            "OAuthException",
            "(#100) No matching user found",
        )
    }

    /// A file the Send API or the Attachment Upload API could not take: the Send API error
    /// codes page's 100 / 2018047, "Upload attachment failure" (there for a type that does
    /// not match the file; the simulator also answers it for an empty or oversized file).
    pub fn upload_failure(detail: &str) -> Self {
        Self::new(
            100,
            Some(2_018_047),
            "OAuthException",
            format!("(#100) Upload attachment failure: {detail}"),
        )
    }

    /// An `attachment_id` this Page cannot send: never issued, another Page's, or not
    /// reusable and sent already. Documented nowhere; code 100 is the simulator's choice.
    pub fn unknown_attachment(id: &str) -> Self {
        Self::invalid_param(format!(
            "param message[attachment][payload][attachment_id] {id} is not an attachment this Page can send."
        ))
    }

    /// The User Profile API for an account without a profile.
    pub fn no_profile() -> Self {
        Self::new(
            100,
            Some(2_018_218),
            "OAuthException",
            "(#100) No profile available for this user.",
        )
    }

    /// A cursor that went stale. Graph's paging documentation says cursors go stale but
    /// documents no error for it: the simulator chooses code 100 with this message.
    pub fn cursor_expired() -> Self {
        Self::invalid_param("The cursor has expired. Request the first page again.")
    }

    /// Send API throttling.
    pub fn send_throttled() -> Self {
        Self::new(
            613,
            None,
            "OAuthException",
            "(#613) Calls to this api have exceeded the rate limit.",
        )
    }

    /// Business Use Case throttling of Messenger calls (the Conversations API's 2 calls/s per Page).
    pub fn messenger_throttled() -> Self {
        Self::new(
            80_006,
            None,
            "OAuthException",
            "(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        )
        .transient(true)
    }

    /// The body Graph sends for this error.
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": ids::fbtrace_id(),
        });
        if let Some(map) = error.as_object_mut() {
            if let Some(subcode) = self.subcode {
                map.insert("error_subcode".into(), subcode.into());
            }
            if let Some(transient) = self.is_transient {
                map.insert("is_transient".into(), transient.into());
            }
        }
        json!({ "error": error })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if self.code == 190 || self.code == 104 {
            let value = format!(
                "OAuth \"Facebook Platform\" \"invalid_token\" \"{}\"",
                self.message
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(*name, value);
            }
        }
        response
    }
}

/// What Graph handlers return.
pub type GraphResult<T> = Result<T, GraphError>;
