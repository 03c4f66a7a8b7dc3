//! `GET/PUT /_sim/receipts`: how delivery and read receipts are sent (see `crate::receipts`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;

use super::ControlResult;
use super::pages::body;
use crate::receipts::ReceiptMode;
use crate::sim::Sim;

pub(super) async fn mode(State(sim): State<Arc<Sim>>) -> Json<ReceiptMode> {
    Json(sim.receipts().mode())
}

/// Replaces the mode; absent keys take their defaults (`mids: "random"`, `reads: true`,
/// `stale_reads: false`).
pub(super) async fn set_mode(
    State(sim): State<Arc<Sim>>,
    bytes: Bytes,
) -> ControlResult<ReceiptMode> {
    let mode: ReceiptMode = body(&bytes)?;
    sim.receipts().set_mode(mode);
    Ok(Json(mode))
}
