//! `/_sim/faults` and `/_sim/paging`: Facebook's rough edges on demand (see `crate::faults`
//! and `crate::graph::paging::PagingMode`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ControlError, ControlResult};
use crate::faults::{Armed, FaultSpec};
use crate::graph::paging::PagingMode;
use crate::sim::Sim;

fn parse<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ControlError> {
    serde_json::from_slice(bytes).map_err(|e| ControlError::bad_request(e.to_string()))
}

/// `POST /_sim/faults`: arms one fault; answers it as armed.
pub(super) async fn arm(State(sim): State<Arc<Sim>>, bytes: Bytes) -> ControlResult<Armed> {
    let spec: FaultSpec = parse(&bytes)?;
    let armed = sim.faults().arm(spec).map_err(ControlError::bad_request)?;
    Ok(Json(armed))
}

/// `GET /_sim/faults`: what is still armed.
pub(super) async fn list(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({ "data": sim.faults().list() }))
}

/// `DELETE /_sim/faults`: disarms everything.
pub(super) async fn clear(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.faults().clear();
    Json(json!({ "ok": true }))
}

/// `GET /_sim/paging`.
pub(super) async fn paging(State(sim): State<Arc<Sim>>) -> Json<PagingMode> {
    Json(*sim.paging())
}

/// `PUT /_sim/paging`: replaces the mode (absent keys take their defaults).
pub(super) async fn set_paging(
    State(sim): State<Arc<Sim>>,
    bytes: Bytes,
) -> ControlResult<PagingMode> {
    let mode: PagingMode = parse(&bytes)?;
    if mode.max_page == Some(0) {
        return Err(ControlError::bad_request("max_page must be at least 1"));
    }
    *sim.paging() = mode;
    Ok(Json(mode))
}
