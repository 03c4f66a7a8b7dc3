//! The control API under `/_sim/`: how tests and the demo drive the simulated world.
//! JSON in, JSON out; errors are `{"error": "..."}` with a 4xx status.

mod attachments;
mod faults;
mod messages;
mod pages;
mod pictures;
mod receipts;
mod referrals;
mod seed;
mod tokens;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::json;

use crate::sim::Sim;
use crate::store::StoreError;

pub use messages::{AttachmentInput, CustomerMessage, Stored, customer_says};
pub use pages::{NewCustomer, NewPage, create_customer, create_page, reset_world};
pub use seed::{SeedReport, SeedRequest, seed_page};

/// The control routes, to be nested under `/_sim`.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "ok": true })) }))
        .route("/pictures/{file}", get(pictures::picture))
        .route("/reset", post(pages::reset))
        .route(
            "/pages",
            post(pages::create_page_route).get(pages::list_pages),
        )
        .route("/pages/{page_id}/revoke", post(tokens::revoke))
        .route("/pages/{page_id}/token", post(pages::reissue_token))
        .route("/pages/{page_id}/token/expire", post(tokens::expire))
        .route(
            "/pages/{page_id}/permissions",
            put(tokens::set_grant).get(tokens::grant),
        )
        .route(
            "/pages/{page_id}/customers",
            post(pages::create_customer_route).get(pages::list_customers),
        )
        .route(
            "/pages/{page_id}/customers/{psid}/messages",
            post(messages::customer_says_route),
        )
        .route(
            "/pages/{page_id}/customers/{psid}/inbox_reply",
            post(messages::inbox_reply),
        )
        .route(
            "/pages/{page_id}/customers/{psid}/referral",
            post(referrals::customer_arrives),
        )
        .route("/pages/{page_id}/sent", get(messages::sent))
        .route("/pages/{page_id}/attachments", get(attachments::of_page))
        .route("/attachments/{id}", get(attachments::bytes))
        .route("/pages/{page_id}/events", post(messages::raw_events))
        .route("/pages/{page_id}/seed", post(seed::seed))
        .route(
            "/rate_limits",
            put(pages::set_rate_limits).get(pages::rate_limits),
        )
        .route("/rate_limits/throttled", get(pages::throttled))
        .route("/receipts", put(receipts::set_mode).get(receipts::mode))
        .route("/webhook", put(pages::set_webhook).get(pages::webhook))
        .route(
            "/faults",
            post(faults::arm).get(faults::list).delete(faults::clear),
        )
        .route("/paging", put(faults::set_paging).get(faults::paging))
        .route(
            "/webhook/deliveries",
            get(messages::deliveries).delete(messages::clear_deliveries),
        )
}

/// A control request that could not be carried out.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ControlError {
    status: StatusCode,
    message: String,
}

impl ControlError {
    /// A 400 with this message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ControlError {
    fn from(error: StoreError) -> Self {
        let status = match error {
            StoreError::NoSuchPage(_) | StoreError::NoSuchCustomer(..) => StatusCode::NOT_FOUND,
            StoreError::PageExists(_) | StoreError::CustomerExists(_) | StoreError::TokenTaken => {
                StatusCode::CONFLICT
            }
        };
        Self {
            status,
            message: error.to_string(),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// What control handlers return.
pub type ControlResult<T> = Result<Json<T>, ControlError>;
