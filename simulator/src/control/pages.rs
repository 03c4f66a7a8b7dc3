//! Control of Pages, customers, throttles and the webhook target.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{ControlError, ControlResult};
use crate::config::{RateLimits, Secret};
use crate::model::{Customer, Page};
use crate::ratelimit::Throttled;
use crate::sim::Sim;
use crate::{ids, names, time};

/// Reads an optional JSON body; an empty body is `T::default()`.
pub fn body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ControlError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ControlError::bad_request(format!("invalid JSON body: {e}")))
}

/// `POST /_sim/pages`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPage {
    /// Page id; random when absent.
    pub id: Option<String>,
    /// Name; "Test Page" when absent.
    pub name: Option<String>,
    /// Page access token; random when absent.
    pub access_token: Option<String>,
    /// Webhook fields to subscribe the app to right away (else `POST /{page}/subscribed_apps`).
    #[serde(default)]
    pub subscribed_fields: Vec<String>,
}

/// `POST /_sim/pages/{page_id}/customers`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// PSID; random when absent.
    pub psid: Option<String>,
    /// Random when absent.
    pub first_name: Option<String>,
    /// Random when absent.
    pub last_name: Option<String>,
    /// Default true; false makes the User Profile API answer subcode 2018218.
    pub has_profile: Option<bool>,
    /// Picture URL; a Graph-shaped one when absent.
    pub profile_pic: Option<String>,
}

/// Adds a Page.
pub fn create_page(sim: &Sim, new: NewPage) -> Result<Page, ControlError> {
    if let Some(bad) = new
        .subscribed_fields
        .iter()
        .find(|f| !crate::graph::WEBHOOK_FIELDS.contains(&f.as_str()))
    {
        return Err(ControlError::bad_request(format!(
            "unknown webhook field {bad}"
        )));
    }
    let page = Page {
        id: new.id.unwrap_or_else(|| ids::numeric(15)),
        name: new.name.unwrap_or_else(|| "Test Page".to_owned()),
        token: new.access_token.unwrap_or_else(ids::page_token),
        revoked: false,
        subscribed_fields: new.subscribed_fields,
    };
    let page = sim.store().insert_page(page)?;
    sim.tokens()
        .issued(&page.token, &page.id, time::now_ms() / 1000, None);
    Ok(page)
}

/// Adds a customer to a Page.
pub fn create_customer(
    sim: &Sim,
    page_id: &str,
    new: NewCustomer,
) -> Result<Customer, ControlError> {
    let (first, last) = names::person();
    let psid = new.psid.unwrap_or_else(|| ids::numeric(16));
    let customer = Customer {
        profile_pic: new
            .profile_pic
            .unwrap_or_else(|| names::profile_pic(sim.public_addr(), &psid)),
        psid,
        page_id: page_id.to_owned(),
        first_name: new.first_name.unwrap_or(first),
        last_name: new.last_name.unwrap_or(last),
        has_profile: new.has_profile.unwrap_or(true),
    };
    Ok(sim.store().insert_customer(customer)?)
}

/// Forgets the world, the delivery log and the receipts' state, and restores the configured
/// rate limits and the default receipt mode;
/// the webhook URL and App Secret stay.
pub fn reset_world(sim: &Sim) {
    sim.store().reset();
    sim.uploads().reset();
    sim.limiter().set_limits(sim.config().rate_limits);
    sim.faults().clear();
    *sim.paging() = crate::graph::paging::PagingMode::default();
    sim.webhooks().clear_log();
    sim.receipts().reset();
    sim.tokens().reset();
}

pub(super) async fn reset(State(sim): State<Arc<Sim>>) -> Json<Value> {
    reset_world(&sim);
    Json(json!({ "ok": true }))
}

pub(super) async fn create_page_route(
    State(sim): State<Arc<Sim>>,
    bytes: Bytes,
) -> ControlResult<Page> {
    Ok(Json(create_page(&sim, body(&bytes)?)?))
}

pub(super) async fn list_pages(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let pages: Vec<Page> = sim.store().pages().cloned().collect();
    Json(json!({ "data": pages }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    access_token: Option<String>,
    /// When the new token expires, seconds since the epoch; default never.
    expires_at: Option<i64>,
}

pub(super) async fn reissue_token(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
    bytes: Bytes,
) -> ControlResult<Page> {
    let request: NewToken = body(&bytes)?;
    let page = sim.store().reissue_token(&page_id, request.access_token)?;
    sim.tokens().issued(
        &page.token,
        &page.id,
        time::now_ms() / 1000,
        request.expires_at,
    );
    Ok(Json(page))
}

pub(super) async fn create_customer_route(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
    bytes: Bytes,
) -> ControlResult<Customer> {
    Ok(Json(create_customer(&sim, &page_id, body(&bytes)?)?))
}

pub(super) async fn list_customers(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
) -> ControlResult<Value> {
    let store = sim.store();
    store
        .page(&page_id)
        .ok_or_else(|| crate::store::StoreError::NoSuchPage(page_id.clone()))?;
    let customers: Vec<&Customer> = store.customers_of(&page_id).collect();
    Ok(Json(json!({ "data": customers })))
}

pub(super) async fn rate_limits(State(sim): State<Arc<Sim>>) -> Json<RateLimits> {
    Json(sim.limiter().limits())
}

/// `GET /_sim/rate_limits/throttled`: how many calls each budget refused since the limits
/// were last set (`send`, `media_send`, `conversations`).
pub(super) async fn throttled(State(sim): State<Arc<Sim>>) -> Json<Throttled> {
    Json(sim.limiter().throttled())
}

/// `PUT /_sim/rate_limits`: each key present replaces one limit (`null` or 0 switches it off);
/// `"enabled": false` switches all off, `"enabled": true` restores the documented ones.
pub(super) async fn set_rate_limits(
    State(sim): State<Arc<Sim>>,
    bytes: Bytes,
) -> ControlResult<RateLimits> {
    let changes: serde_json::Map<String, Value> = body(&bytes)?;
    let mut limits = sim.limiter().limits();
    for (key, value) in &changes {
        let per_sec = match value {
            Value::Null => None,
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0),
            Value::Bool(_) if key == "enabled" => None,
            _ => {
                return Err(ControlError::bad_request(format!(
                    "{key} must be a number or null"
                )));
            }
        };
        match key.as_str() {
            "enabled" if value == &Value::Bool(false) => limits = RateLimits::off(),
            "enabled" => limits = RateLimits::default(),
            "send_per_sec" => limits.send_per_sec = per_sec,
            "media_send_per_sec" => limits.media_send_per_sec = per_sec,
            "conversations_per_sec" => limits.conversations_per_sec = per_sec,
            other => return Err(ControlError::bad_request(format!("unknown limit {other}"))),
        }
    }
    sim.limiter().set_limits(limits);
    Ok(Json(limits))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookTarget {
    url: Option<String>,
    app_secret: Option<String>,
    verify_token: Option<String>,
}

/// `PUT /_sim/webhook`: sets the callback URL (and App Secret). With `verify_token`, first
/// runs Facebook's `hub.challenge` check and refuses a callback that fails it, as Facebook does.
pub(super) async fn set_webhook(State(sim): State<Arc<Sim>>, bytes: Bytes) -> ControlResult<Value> {
    let target: WebhookTarget = body(&bytes)?;
    if let (Some(url), Some(token)) = (&target.url, &target.verify_token) {
        sim.webhooks()
            .verify(url, token)
            .await
            .map_err(ControlError::bad_request)?;
    }
    sim.webhooks()
        .set_target(target.url, target.app_secret.map(Secret::new));
    Ok(Json(
        json!({ "url": sim.webhooks().url(), "verified": target.verify_token.is_some() }),
    ))
}

pub(super) async fn webhook(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({ "url": sim.webhooks().url() }))
}
