//! The Graph API client: Send API, sender actions, Conversations API, profiles, tokens.
//!
//! Tokens travel in the `Authorization` header, never in URLs, so no error or log line
//! can carry one. Rate-limit answers are retried with exponential backoff and jitter, and
//! the Conversations API is called no faster than 2 calls/s per Page, as documented.
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::Secret;

mod shapes;
mod tokens;
use shapes::ErrorEnvelope;
pub use shapes::{
    GraphAttachmentData, GraphConversation, GraphMessage, GraphPage, Outgoing, PageIdentity,
    Paging, Participant, Participants, Profile, SendResult,
};
pub use tokens::{Permission, TokenInfo, TokenInfoError};

/// Graph's error codes we act on.
pub mod codes {
    /// With subcode 2018278: outside the messaging window.
    pub const PERMISSION: i64 = 10;
    pub const OUTSIDE_WINDOW_SUBCODE: i64 = 2018278;
    /// Token expired or revoked: the Page must be reconnected.
    pub const INVALID_TOKEN: i64 = 190;
    pub const INVALID_PARAMETER: i64 = 100;
    /// No profile for this person.
    pub const NO_PROFILE_SUBCODE: i64 = 2018218;
    pub const PERSON_UNAVAILABLE: i64 = 551;
    /// Rate limits: application, user, page-level throttling.
    pub const RATE_LIMITS: [i64; 5] = [4, 17, 32, 613, 80001];
}

/// What went wrong talking to Facebook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("Graph API error {code}/{subcode:?}: {message}")]
    Api {
        status: u16,
        code: i64,
        subcode: Option<i64>,
        message: String,
        fbtrace_id: Option<String>,
    },
    #[error("Graph API unreachable: {0}")]
    Transport(String),
    #[error("unexpected Graph API answer: {0}")]
    Decode(String),
}

impl GraphError {
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn is_outside_window(&self) -> bool {
        matches!(
            self,
            Self::Api {
                code: codes::PERMISSION,
                subcode: Some(codes::OUTSIDE_WINDOW_SUBCODE),
                ..
            }
        )
    }

    pub fn is_invalid_token(&self) -> bool {
        self.code() == Some(codes::INVALID_TOKEN)
    }

    pub fn is_rate_limited(&self) -> bool {
        self.code().is_some_and(|c| codes::RATE_LIMITS.contains(&c))
    }

    fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, .. } => self.is_rate_limited() || *status >= 500,
            Self::Transport(_) => true,
            Self::Decode(_) => false,
        }
    }
}

/// The client. Cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Arc<str>,
    conversations_limit: Arc<DefaultKeyedRateLimiter<String>>,
    retries: u32,
}

impl GraphClient {
    /// `base` is `FB_GRAPH_URL`, version included.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .user_agent("MessengerFlow/0.1")
            .build()?;
        let per_second = NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            http,
            base: base.trim_end_matches('/').into(),
            conversations_limit: Arc::new(RateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(NonZeroU32::MIN),
            )),
            retries: 4,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// One request with retries for rate limits and transient failures.
    async fn call<T: DeserializeOwned>(
        &self,
        token: &Secret,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, GraphError> {
        let mut attempt = 0;
        loop {
            let result = self.call_once(token, &build).await;
            match result {
                Err(err) if err.is_transient() && attempt < self.retries => {
                    attempt += 1;
                    let delay = backoff(attempt);
                    tracing::warn!(error = %err, attempt, ?delay, "Graph API call failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }

    async fn call_once<T: DeserializeOwned>(
        &self,
        token: &Secret,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, GraphError> {
        let response = build(&self.http)
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| GraphError::Transport(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| GraphError::Transport(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| GraphError::Decode(e.to_string()));
        }
        match serde_json::from_slice::<ErrorEnvelope>(&body) {
            Ok(envelope) => Err(GraphError::Api {
                status,
                code: envelope.error.code.unwrap_or(0),
                subcode: envelope.error.error_subcode,
                message: envelope.error.message.unwrap_or_default(),
                fbtrace_id: envelope.error.fbtrace_id,
            }),
            Err(_) => Err(GraphError::Api {
                status,
                code: 0,
                subcode: None,
                message: format!("HTTP {status}"),
                fbtrace_id: None,
            }),
        }
    }

    /// Send API: a message to `psid`. `human_agent` tags it for the 7-day window.
    pub async fn send(
        &self,
        page_id: &str,
        token: &Secret,
        psid: &str,
        message: &Outgoing,
        human_agent: bool,
        metadata: Option<&str>,
    ) -> Result<SendResult, GraphError> {
        let mut message = match message {
            Outgoing::Text(text) => json!({ "text": text }),
            Outgoing::Attachment { kind, url } => {
                json!({ "attachment": { "type": kind, "payload": { "url": url, "is_reusable": false } } })
            }
        };
        if let Some(metadata) = metadata {
            message["metadata"] = json!(metadata);
        }
        let mut body = json!({ "recipient": { "id": psid }, "message": message });
        if human_agent {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        } else {
            body["messaging_type"] = json!("RESPONSE");
        }
        let url = self.url(&format!("{page_id}/messages"));
        self.call(token, |http| http.post(&url).json(&body)).await
    }

    /// `mark_seen`, `typing_on` or `typing_off`.
    pub async fn sender_action(
        &self,
        page_id: &str,
        token: &Secret,
        psid: &str,
        action: &str,
    ) -> Result<(), GraphError> {
        let body = json!({ "recipient": { "id": psid }, "sender_action": action });
        let url = self.url(&format!("{page_id}/messages"));
        let _: Value = self.call(token, |http| http.post(&url).json(&body)).await?;
        Ok(())
    }

    /// Which Page a token belongs to (checks the token).
    pub async fn me(&self, token: &Secret) -> Result<PageIdentity, GraphError> {
        let url = self.url("me");
        self.call(token, |http| http.get(&url).query(&[("fields", "id,name")]))
            .await
    }

    /// Subscribes the app to the webhook fields whose events we parse
    /// (`events::SUBSCRIBED_FIELDS`).
    pub async fn subscribe_app(&self, page_id: &str, token: &Secret) -> Result<(), GraphError> {
        let url = self.url(&format!("{page_id}/subscribed_apps"));
        let fields = crate::facebook::events::SUBSCRIBED_FIELDS.join(",");
        let fields = fields.as_str();
        let _: Value = self
            .call(token, |http| {
                http.post(&url).query(&[("subscribed_fields", fields)])
            })
            .await?;
        Ok(())
    }

    /// Waits for the Page's Conversations API budget (2 calls/s).
    async fn pace(&self, page_id: &str) {
        self.conversations_limit
            .until_key_ready(&page_id.to_owned())
            .await;
    }

    /// The newest conversations of a Page, `limit` per Graph page, each with its
    /// `messages` newest messages inlined (field expansion: one call, not one per
    /// conversation), from `next` when given.
    pub async fn conversations(
        &self,
        page_id: &str,
        token: &Secret,
        limit: u32,
        messages: u32,
        next: Option<&str>,
    ) -> Result<GraphPage<GraphConversation>, GraphError> {
        self.pace(page_id).await;
        let url = self.url(&format!("{page_id}/conversations"));
        let limit = limit.to_string();
        let fields = format!(
            "id,updated_time,participants,messages.limit({messages}){{id,created_time,from,to,message,attachments}}"
        );
        self.call(token, |http| match next {
            Some(next) => http.get(next),
            None => http.get(&url).query(&[
                ("platform", "messenger"),
                ("fields", fields.as_str()),
                ("limit", limit.as_str()),
            ]),
        })
        .await
    }

    /// The Page's conversations with their participants only (no messages), `limit` per
    /// Graph page, from `next` when given: what a full sync counts before it imports.
    pub async fn conversation_participants(
        &self,
        page_id: &str,
        token: &Secret,
        limit: u32,
        next: Option<&str>,
    ) -> Result<GraphPage<GraphConversation>, GraphError> {
        self.pace(page_id).await;
        let url = self.url(&format!("{page_id}/conversations"));
        let limit = limit.to_string();
        self.call(token, |http| match next {
            Some(next) => http.get(next),
            None => http.get(&url).query(&[
                ("platform", "messenger"),
                ("fields", "id,participants"),
                ("limit", limit.as_str()),
            ]),
        })
        .await
    }

    /// A conversation's messages, newest first, `limit` per Graph page.
    pub async fn messages(
        &self,
        page_id: &str,
        conversation_id: &str,
        token: &Secret,
        limit: u32,
        next: Option<&str>,
    ) -> Result<GraphPage<GraphMessage>, GraphError> {
        self.pace(page_id).await;
        let url = self.url(&format!("{conversation_id}/messages"));
        let limit = limit.to_string();
        self.call(token, |http| match next {
            Some(next) => http.get(next),
            None => http.get(&url).query(&[
                ("fields", "id,created_time,from,to,message,attachments"),
                ("limit", limit.as_str()),
            ]),
        })
        .await
    }

    /// A customer's profile; `None` when the person has none (subcode 2018218).
    pub async fn profile(&self, psid: &str, token: &Secret) -> Result<Option<Profile>, GraphError> {
        let url = self.url(psid);
        match self
            .call(token, |http| {
                http.get(&url)
                    .query(&[("fields", "first_name,last_name,profile_pic")])
            })
            .await
        {
            Ok(profile) => Ok(Some(profile)),
            Err(GraphError::Api {
                subcode: Some(codes::NO_PROFILE_SUBCODE),
                ..
            }) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// 200 ms, 400 ms, 800 ms... (capped at 5 s), each with up to 50% random jitter.
fn backoff(attempt: u32) -> Duration {
    let base = 200u64.saturating_mul(1 << attempt.min(5)).min(5_000);
    let mut byte = [0u8; 1];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => base * u64::from(byte[0]) / 510,
        Err(_) => 0,
    };
    Duration::from_millis(base + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors_are_classified() {
        let window = GraphError::Api {
            status: 400,
            code: 10,
            subcode: Some(2018278),
            message: String::new(),
            fbtrace_id: None,
        };
        assert!(window.is_outside_window());
        assert!(!window.is_transient());
        let limited = GraphError::Api {
            status: 400,
            code: 613,
            subcode: None,
            message: String::new(),
            fbtrace_id: None,
        };
        assert!(limited.is_rate_limited() && limited.is_transient());
        let token = GraphError::Api {
            status: 400,
            code: 190,
            subcode: None,
            message: String::new(),
            fbtrace_id: None,
        };
        assert!(token.is_invalid_token() && !token.is_transient());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(1) >= Duration::from_millis(400) && backoff(1) < Duration::from_millis(600)
        );
        assert!(backoff(10) <= Duration::from_millis(7_500));
    }
}
