//! The Graph API client: Send API, sender actions, Conversations API, profiles, tokens.
//!
//! Tokens travel in the `Authorization` header, never in URLs, so no error or log line
//! can carry one. Throttled and temporary failures are retried with exponential backoff and
//! jitter, a Page Facebook throttled is left alone for as long as its usage headers say
//! (`errors`), and the Conversations API is called no faster than 2 calls/s per Page, as
//! documented.
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::Secret;

mod errors;
mod files;
mod pacing;
mod shapes;
mod tokens;
use errors::ErrorEnvelope;
pub use errors::{Failure, GraphError, Usage, classify, codes};
use files::{UPLOAD_TIMEOUT, file_form};
use pacing::{Blocks, Patience, backoff, ease_off};
pub use shapes::{
    FileData, GraphAttachmentData, GraphConversation, GraphMessage, GraphPage, Outgoing,
    PageIdentity, Paging, Participant, Participants, Profile, SendResult,
};
pub use tokens::{Permission, TokenInfo, TokenInfoError};

/// The client. Cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Arc<str>,
    conversations_limit: Arc<DefaultKeyedRateLimiter<String>>,
    /// Pages Facebook throttled, until when (from `estimated_time_to_regain_access`).
    blocked: Arc<Blocks>,
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
            blocked: Arc::new(Blocks::default()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// One request, retried while Facebook throttles it or fails for a moment: with
    /// exponential backoff and jitter, and never sooner than the usage headers'
    /// `estimated_time_to_regain_access` (which holds back every call of the Page).
    async fn call<T: DeserializeOwned>(
        &self,
        page_id: Option<&str>,
        patience: Patience,
        token: &Secret,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, GraphError> {
        let mut attempt = 0;
        loop {
            if let Some(page_id) = page_id
                && let Some(wait) = self.blocked.blocked_for(page_id)
            {
                if wait > patience.max_wait() {
                    return Err(GraphError::Throttled(wait));
                }
                tracing::info!(page_id, ?wait, "Facebook throttled this Page; waiting");
                tokio::time::sleep(wait).await;
            }
            let (result, usage) = self.call_once(token, &build).await;
            if let (Some(page_id), Some(wait)) = (page_id, usage.regain_access) {
                self.blocked.block(page_id, wait);
            } else if let (Some(page_id), Some(wait)) = (page_id, ease_off(usage.percent)) {
                tracing::debug!(
                    page_id,
                    percent = usage.percent,
                    ?wait,
                    "Graph API usage is high; slowing down"
                );
                self.blocked.block(page_id, wait);
            }
            match result {
                Err(err) if err.failure().is_retryable() && attempt < patience.retries() => {
                    attempt += 1;
                    let delay = backoff(attempt);
                    if err.regain_access().is_some_and(|w| w > patience.max_wait()) {
                        return Err(err);
                    }
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
    ) -> (Result<T, GraphError>, Usage) {
        let response = match build(&self.http).bearer_auth(token.expose()).send().await {
            Ok(response) => response,
            Err(e) => {
                let error = GraphError::Transport(e.without_url().to_string());
                return (Err(error), Usage::default());
            }
        };
        let status = response.status().as_u16();
        let usage = Usage::from_headers(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => {
                let error = GraphError::Transport(e.without_url().to_string());
                return (Err(error), usage);
            }
        };
        if (200..300).contains(&status) {
            let decoded =
                serde_json::from_slice(&body).map_err(|e| GraphError::Decode(e.to_string()));
            return (decoded, usage);
        }
        let error = match serde_json::from_slice::<ErrorEnvelope>(&body) {
            Ok(envelope) => GraphError::Api {
                status,
                code: envelope.error.code.unwrap_or(0),
                subcode: envelope.error.error_subcode,
                message: envelope.error.message.unwrap_or_default(),
                fbtrace_id: envelope.error.fbtrace_id,
                is_transient: envelope.error.is_transient,
                regain_access: usage.regain_access,
            },
            Err(_) => GraphError::Api {
                status,
                code: 0,
                subcode: None,
                message: format!("HTTP {status}"),
                fbtrace_id: None,
                is_transient: None,
                regain_access: usage.regain_access,
            },
        };
        (Err(error), usage)
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
        let content = message;
        let mut message = match content {
            Outgoing::Text(text) => json!({ "text": text }),
            Outgoing::Attachment { kind, url } => {
                json!({ "attachment": { "type": kind, "payload": { "url": url, "is_reusable": false } } })
            }
            Outgoing::Saved {
                kind,
                attachment_id,
            } => {
                json!({ "attachment": { "type": kind, "payload": { "attachment_id": attachment_id } } })
            }
            Outgoing::File(file) => {
                json!({ "attachment": { "type": file.kind, "payload": { "is_reusable": false } } })
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
        if let Outgoing::File(file) = content {
            // Saving Assets: the same fields as form fields, and the file as `filedata`.
            return self
                .call(Some(page_id), Patience::Interactive, token, |http| {
                    http.post(&url)
                        .timeout(UPLOAD_TIMEOUT)
                        .multipart(file_form(&body, file))
                })
                .await;
        }
        self.call(Some(page_id), Patience::Interactive, token, |http| {
            http.post(&url).json(&body)
        })
        .await
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
        let _: Value = self
            .call(Some(page_id), Patience::Interactive, token, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        Ok(())
    }

    /// Which Page a token belongs to (checks the token).
    pub async fn me(&self, token: &Secret) -> Result<PageIdentity, GraphError> {
        let url = self.url("me");
        self.call(None, Patience::Interactive, token, |http| {
            http.get(&url).query(&[("fields", "id,name")])
        })
        .await
    }

    /// Subscribes the app to the webhook fields whose events we parse
    /// (`events::SUBSCRIBED_FIELDS`).
    pub async fn subscribe_app(&self, page_id: &str, token: &Secret) -> Result<(), GraphError> {
        let url = self.url(&format!("{page_id}/subscribed_apps"));
        let fields = crate::facebook::events::SUBSCRIBED_FIELDS.join(",");
        let fields = fields.as_str();
        let _: Value = self
            .call(Some(page_id), Patience::Interactive, token, |http| {
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
        let fields = format!(
            "id,updated_time,participants,messages.limit({messages}){{id,created_time,from,to,message,attachments}}"
        );
        let node = format!("{page_id}/conversations");
        let query = [("platform", "messenger"), ("fields", fields.as_str())];
        self.listing(page_id, token, &node, &query, limit, next)
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
        let node = format!("{page_id}/conversations");
        let query = [("platform", "messenger"), ("fields", "id,participants")];
        self.listing(page_id, token, &node, &query, limit, next)
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
        let node = format!("{conversation_id}/messages");
        let query = [("fields", "id,created_time,from,to,message,attachments")];
        self.listing(page_id, token, &node, &query, limit, next)
            .await
    }

    /// One page of a Conversations API listing of `node`: the first with `query` and
    /// `limit`, a later one from its `next` link as Facebook gave it (the link carries
    /// the query and the cursor). Paced by the Page's budget, patient like background work.
    async fn listing<T: DeserializeOwned>(
        &self,
        page_id: &str,
        token: &Secret,
        node: &str,
        query: &[(&str, &str)],
        limit: u32,
        next: Option<&str>,
    ) -> Result<GraphPage<T>, GraphError> {
        self.pace(page_id).await;
        let url = self.url(node);
        let limit = limit.to_string();
        self.call(
            Some(page_id),
            Patience::Background,
            token,
            |http| match next {
                Some(next) => http.get(next),
                None => http
                    .get(&url)
                    .query(query)
                    .query(&[("limit", limit.as_str())]),
            },
        )
        .await
    }

    /// A customer's profile; `None` when the person has none (subcode 2018218).
    pub async fn profile(&self, psid: &str, token: &Secret) -> Result<Option<Profile>, GraphError> {
        let url = self.url(psid);
        match self
            .call(None, Patience::Background, token, |http| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: i64, subcode: Option<i64>) -> GraphError {
        GraphError::Api {
            status: 400,
            code,
            subcode,
            message: String::new(),
            fbtrace_id: None,
            is_transient: None,
            regain_access: None,
        }
    }

    #[test]
    fn graph_errors_are_classified() {
        assert!(api_error(80006, None).is_rate_limited());
        assert!(api_error(230, None).is_permission_missing());
        assert_eq!(
            api_error(551, Some(1545041)).failure().error_code(),
            "RECIPIENT_UNAVAILABLE"
        );
        assert!(GraphError::Throttled(Duration::from_secs(60)).is_rate_limited());
        let window = api_error(10, Some(2018278));
        assert!(window.is_outside_window());
        assert!(!window.failure().is_retryable());
        let limited = api_error(613, None);
        assert!(limited.is_rate_limited() && limited.failure().is_retryable());
        let token = api_error(190, None);
        assert!(token.is_invalid_token() && !token.failure().is_retryable());
    }
}
