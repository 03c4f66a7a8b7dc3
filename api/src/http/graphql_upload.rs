//! `POST /graphql` as `multipart/form-data`, the GraphQL multipart request spec
//! (`operations`, `map`, then the files), which async-graphql's `Upload` scalar reads: how an
//! agent sends a file (`sendMessage(input: {conversationId, file})`).
//!
//! The credential is checked from the headers before a byte of the body is read, so nobody
//! without one can make the server spool a file. One operation per request; each file part
//! is cut off at `MF_MAX_UPLOAD_BYTES` while it streams (async-graphql spools it to a
//! temporary file, deleted when the request ends), and the whole body at twice that.
//! Authentication is a bearer header only, never a cookie, so a cross-site form (which may
//! post `multipart/form-data` without a preflight) cannot act for anyone.
use std::net::SocketAddr;

use async_graphql::ErrorExtensions;
use async_graphql::http::MultipartOptions;
use async_graphql::{BatchRequest, ParseRequestError};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;

use super::graphql::{MAX_BODY, bad_request, caller, respond, with_caller};
use crate::error::ApiError;
use crate::graphql::AppSchema;
use crate::state::AppState;

/// Whether the request is a multipart one.
pub(super) fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

pub(super) async fn post(
    state: &AppState,
    schema: &AppSchema,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let principal = match caller(state, headers, 1).await {
        Ok(Some(principal)) => principal,
        Ok(None) => {
            let body = serde_json::json!({ "errors": [ApiError::Unauthenticated(
                "sending a file needs a session or an API token",
            )
            .extend()] });
            return (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response();
        }
        Err(response) => return response,
    };
    let limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let reader = body
        .into_data_stream()
        .map_err(std::io::Error::other)
        .into_async_read();
    // Each field (`operations` too) at most the file limit; the whole body at most two
    // fields' worth, which leaves room for `operations` and `map` beside a full-size file.
    let options = MultipartOptions::default()
        .max_file_size(limit.max(MAX_BODY))
        .max_num_files(2);
    let request = match async_graphql::http::receive_batch_body(Some(content_type), reader, options)
        .await
    {
        Ok(BatchRequest::Single(one)) => one,
        Ok(BatchRequest::Batch(_)) => {
            return bad_request(
                headers,
                "a request with a file holds one operation, not a batch",
            );
        }
        Err(ParseRequestError::InvalidMultipart(
            multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. },
        ))
        | Err(ParseRequestError::PayloadTooLarge) => {
            return bad_request(
                headers,
                &format!(
                    "`file` is larger than {limit} bytes, the most a file sent to a customer may be"
                ),
            );
        }
        Err(err) => {
            return bad_request(
                headers,
                &format!("invalid multipart GraphQL request: {err}"),
            );
        }
    };
    let ip = super::client_ip(peer, headers, &state.config);
    let request = with_caller(request, &Some(principal), ip, headers);
    respond(headers, schema.execute(request).await.into())
}
