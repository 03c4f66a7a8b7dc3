//! Control of Page tokens and permissions (see `crate::tokens`): why a token stops working,
//! when it expires, and what the Page's admin granted.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::ControlResult;
use super::pages::body;
use crate::model::Page;
use crate::sim::Sim;
use crate::time;
use crate::tokens::{Grant, Invalidation};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Revocation {
    /// Default `password_changed`.
    reason: Option<Invalidation>,
}

/// `POST /_sim/pages/{id}/revoke {reason?}`: the Page's token stops working, answering 190
/// with the reason's subcode (460 password changed, 458 app removed, 466 replaced).
pub(super) async fn revoke(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
    bytes: Bytes,
) -> ControlResult<Page> {
    let request: Revocation = body(&bytes)?;
    let page = sim.store().revoke(&page_id)?;
    let why = request.reason.unwrap_or(Invalidation::PasswordChanged);
    sim.tokens().invalidate(&page.token, why);
    Ok(Json(page))
}

/// `POST /_sim/pages/{id}/token/expire`: the Page's token expires now (190/463 from now on).
pub(super) async fn expire(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
) -> ControlResult<Page> {
    let page = sim
        .store()
        .page(&page_id)
        .cloned()
        .ok_or_else(|| crate::store::StoreError::NoSuchPage(page_id.clone()))?;
    let now_s = time::now_ms() / 1000;
    let known = sim.tokens().view(&page.token, now_s, 0).is_some();
    if !known {
        sim.tokens().issued(&page.token, &page.id, now_s, None);
    }
    sim.tokens().expire(&page.token, now_s);
    Ok(Json(page))
}

/// `GET /_sim/pages/{id}/permissions`.
pub(super) async fn grant(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
) -> ControlResult<Grant> {
    sim.store()
        .page(&page_id)
        .ok_or_else(|| crate::store::StoreError::NoSuchPage(page_id.clone()))?;
    Ok(Json(sim.tokens().grant(&page_id)))
}

/// `PUT /_sim/pages/{id}/permissions {granted, declined?}`: replaces what the admin granted.
pub(super) async fn set_grant(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
    bytes: Bytes,
) -> ControlResult<Grant> {
    let grant: Grant = body(&bytes)?;
    sim.store()
        .page(&page_id)
        .ok_or_else(|| crate::store::StoreError::NoSuchPage(page_id.clone()))?;
    sim.tokens().set_grant(&page_id, grant.clone());
    Ok(Json(grant))
}
