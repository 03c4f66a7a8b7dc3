//! Token checks on every call, `GET /debug_token` and `GET /me/permissions` (see
//! `crate::tokens` for what the documentation says and what the simulator chose).
//!
//! - [`/debug_token`](https://developers.facebook.com/docs/graph-api/reference/debug_token):
//!   `input_token` is inspected; the caller's `access_token` must be "an app access token
//!   or an app developer's user access token for the app associated with the input_token".
//!   The simulator takes the app token `{app-id}|{app-secret}`, and also a valid Page token
//!   of the app (the documentation does not allow it; Graph's own Access Token Debugger
//!   does inspect a token with itself, and an api without `FB_APP_ID` has nothing else).
//!   An input token that no longer works is answered 200 with `is_valid: false` and the
//!   `error` Graph would answer for it; one never issued, with `is_valid: false`,
//!   `scopes: []` and the "Cannot parse access token" error.
//! - [`/{user-id}/permissions`](https://developers.facebook.com/docs/graph-api/reference/user/permissions/):
//!   `{data: [{permission, status: "granted" | "declined"}]}`. The documentation describes
//!   it for User nodes; asked with a Page token (`/me` is then the Page), the simulator
//!   answers the permissions of the grant the token carries (its choice: the
//!   documentation is silent).

use std::sync::Arc;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{GraphError, GraphResult};
use super::request::GraphRequest;
use crate::model::Page;
use crate::sim::Sim;
use crate::store::TokenProblem;
use crate::time;

/// How long an app may read the data of a user who stopped using it: 90 days.
const DATA_ACCESS_SECS: i64 = 90 * 24 * 60 * 60;

fn now_s() -> i64 {
    time::now_ms() / 1000
}

/// The Page a token opens, or the error Graph answers for it.
pub fn authenticate(sim: &Sim, token: &str) -> GraphResult<Page> {
    let app_id = sim.config().app_id;
    if let Some(error) = sim
        .tokens()
        .view(token, now_s(), app_id)
        .and_then(|view| view.error)
    {
        return Err(error);
    }
    sim.store()
        .page_for_token(token)
        .cloned()
        .map_err(|problem| match problem {
            TokenProblem::Unknown => GraphError::invalid_token(),
            TokenProblem::Revoked => GraphError::revoked_token(),
        })
}

/// `GET /debug_token?input_token=...`.
pub fn debug_token(sim: &Arc<Sim>, req: &GraphRequest) -> GraphResult<Response> {
    let caller = req
        .token
        .as_deref()
        .ok_or_else(GraphError::token_required)?;
    let config = sim.config();
    let app_token = format!("{}|{}", config.app_id, config.app_secret.expose());
    if caller != app_token {
        authenticate(sim, caller)?;
    }
    let input = req
        .params
        .str("input_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::invalid_param("The parameter input_token is required"))?;
    let now = now_s();
    let view = sim.tokens().view(input, now, config.app_id);
    let page = sim.store().page_for_token(input).map(|p| p.id.clone());
    let problem = match (&view, &page) {
        (Some(view), _) if view.error.is_some() => view.error.clone(),
        (_, Ok(_)) => None,
        (_, Err(TokenProblem::Revoked)) => Some(GraphError::revoked_token()),
        (None, Err(TokenProblem::Unknown)) => {
            return Ok(Json(json!({ "data": {
                "error": { "code": 190, "message": GraphError::invalid_token().message },
                "is_valid": false,
                "scopes": [],
            } }))
            .into_response());
        }
        (Some(_), Err(TokenProblem::Unknown)) => Some(GraphError::invalid_token()),
    };
    let page_id = view
        .as_ref()
        .map(|v| v.page_id.clone())
        .or_else(|| page.clone().ok())
        .unwrap_or_default();
    let issued_at = view.as_ref().map_or(0, |v| v.issued_at);
    let grant = sim.tokens().grant(&page_id);
    let granular: Vec<Value> = grant
        .granted
        .iter()
        .filter(|scope| scope.starts_with("pages_"))
        .map(|scope| json!({ "scope": scope, "target_ids": [page_id] }))
        .collect();
    let mut data = json!({
        "app_id": config.app_id.to_string(),
        "type": "PAGE",
        "application": "MessengerFlow",
        "data_access_expires_at": issued_at.max(now) + DATA_ACCESS_SECS,
        "expires_at": view.as_ref().and_then(|v| v.expires_at).unwrap_or(0),
        "is_valid": problem.is_none(),
        "issued_at": issued_at,
        "profile_id": page_id,
        "scopes": grant.granted,
        "granular_scopes": granular,
        "user_id": format!("9{page_id}"),
    });
    if let (Some(error), Some(map)) = (problem, data.as_object_mut()) {
        map.insert(
            "error".into(),
            json!({ "code": error.code, "subcode": error.subcode, "message": error.message }),
        );
    }
    Ok(Json(json!({ "data": data })).into_response())
}

/// Refuses a call whose Page's grant lacks `permission`: the Send API without
/// `pages_messaging` answers 230 ("Requires pages_messaging permission to manage the
/// object", Send API error codes), a change of `subscribed_apps` without
/// `pages_manage_metadata` answers 200 (Handling Errors: 200-299 are permission errors;
/// the wording is ours).
pub fn require(sim: &Sim, page: &Page, permission: &str) -> GraphResult<()> {
    if sim
        .tokens()
        .grant(&page.id)
        .granted
        .iter()
        .any(|p| p == permission)
    {
        return Ok(());
    }
    let code = if permission == "pages_messaging" {
        230
    } else {
        200
    };
    let mut error = GraphError::invalid_param("");
    error.code = code;
    error.subcode = None;
    error.message = format!("(#{code}) Requires {permission} permission to manage the object");
    Err(error)
}

/// `GET /me/permissions` with a Page token.
pub fn permissions(sim: &Sim, page: &Page) -> GraphResult<Response> {
    let grant = sim.tokens().grant(&page.id);
    let data: Vec<Value> = grant
        .granted
        .iter()
        .map(|p| json!({ "permission": p, "status": "granted" }))
        .chain(
            grant
                .declined
                .iter()
                .map(|p| json!({ "permission": p, "status": "declined" })),
        )
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}
