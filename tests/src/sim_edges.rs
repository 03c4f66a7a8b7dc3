//! Control API helpers for Facebook's rough edges (issue 14): receipt variants, raw events
//! filtered by the Page's subscriptions, and the Page's subscribed fields.
use reqwest::Method;
use serde_json::{Value, json};

use crate::sim::Simulator;

impl Simulator {
    /// `PUT /_sim/receipts`: `{"mids": "always"|"never"|"random", "stale_reads": bool}`.
    pub async fn set_receipts(&self, mode: Value) -> Value {
        self.control(Method::PUT, "/receipts", Some(mode)).await
    }

    /// `POST /_sim/pages/{page}/events`: raw messaging objects (and `standby` ones); the
    /// answer says how many were queued and how many dropped for want of a subscription.
    pub async fn raw_events(
        &self,
        page: &str,
        messaging: Vec<Value>,
        standby: Vec<Value>,
    ) -> Value {
        self.control(
            Method::POST,
            &format!("/pages/{page}/events"),
            Some(json!({ "messaging": messaging, "standby": standby })),
        )
        .await
    }

    /// The webhook fields the Page is subscribed to, in the order subscribed.
    pub async fn subscribed_fields(&self, page: &str) -> Vec<String> {
        let pages = self.control(Method::GET, "/pages", None).await;
        let page = pages["data"]
            .as_array()
            .and_then(|list| list.iter().find(|p| p["id"] == page))
            .unwrap_or_else(|| panic!("no page {page} in {pages}"))
            .clone();
        serde_json::from_value(page["subscribed_fields"].clone())
            .unwrap_or_else(|error| panic!("subscribed_fields of {page}: {error}"))
    }

    /// A person answered in the Page Inbox at `timestamp` (ms), and its echo comes only now.
    pub async fn inbox_reply_at(
        &self,
        page: &str,
        psid: &str,
        text: &str,
        timestamp: i64,
    ) -> String {
        let stored = self
            .control(
                Method::POST,
                &format!("/pages/{page}/customers/{psid}/inbox_reply"),
                Some(json!({ "text": text, "timestamp": timestamp })),
            )
            .await;
        stored["mid"]
            .as_str()
            .unwrap_or_else(|| panic!("no mid in {stored}"))
            .to_owned()
    }

    /// The bodies of the webhook POSTs the api answered 200, oldest first.
    pub async fn delivered_bodies(&self) -> Vec<String> {
        self.deliveries()
            .await
            .into_iter()
            .filter(|d| d["delivered"] == true)
            .filter_map(|d| d["body"].as_str().map(str::to_owned))
            .collect()
    }

    /// `POST /_sim/pages/{page}/revoke {reason}`: `password_changed`, `app_removed` or
    /// `replaced`; Graph answers 190 with that reason's subcode from now on.
    pub async fn revoke_for(&self, page: &str, reason: &str) {
        self.control(
            Method::POST,
            &format!("/pages/{page}/revoke"),
            Some(json!({ "reason": reason })),
        )
        .await;
    }

    /// `POST /_sim/pages/{page}/token/expire`: the Page's token expires now.
    pub async fn expire_token(&self, page: &str) {
        self.control(Method::POST, &format!("/pages/{page}/token/expire"), None)
            .await;
    }

    /// `POST /_sim/pages/{page}/token`: a new token for the Page (the old ones stop working).
    pub async fn new_token(&self, page: &str) -> String {
        let page = self
            .control(Method::POST, &format!("/pages/{page}/token"), None)
            .await;
        page["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {page}"))
            .to_owned()
    }

    /// `PUT /_sim/pages/{page}/permissions`: what the Page's admin granted and declined.
    pub async fn set_permissions(&self, page: &str, granted: &[&str], declined: &[&str]) {
        self.control(
            Method::PUT,
            &format!("/pages/{page}/permissions"),
            Some(json!({ "granted": granted, "declined": declined })),
        )
        .await;
    }
}
