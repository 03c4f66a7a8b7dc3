//! What the app uploaded, for tests: a Page's uploads (`GET /pages/{id}/attachments`) and
//! each file's bytes (`GET /attachments/{id}`, the URL its messages and echoes carry).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ControlResult;
use crate::sim::Sim;
use crate::store::StoreError;

pub(super) async fn of_page(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
) -> ControlResult<Value> {
    sim.store()
        .page(&page_id)
        .ok_or_else(|| StoreError::NoSuchPage(page_id.clone()))?;
    Ok(Json(json!({ "data": sim.uploads().of_page(&page_id) })))
}

pub(super) async fn bytes(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let upload = sim.uploads().get(&id).cloned();
    match upload.and_then(|u| Some((u.mime_type, u.bytes?))) {
        Some((mime, bytes)) => {
            let mime = mime.unwrap_or_else(|| "application/octet-stream".into());
            ([(header::CONTENT_TYPE, mime)], bytes.as_ref().clone()).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such file" })),
        )
            .into_response(),
    }
}
