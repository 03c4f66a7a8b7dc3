//! `GET /_sim/pictures/{psid}.svg`: a customer's profile picture, their initials on a
//! colour of their own, standing in for Facebook's CDN (unreachable without internet).
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::sim::Sim;

const COLOURS: [&str; 8] = [
    "#2f6f8f", "#8f4f2f", "#4f8f3f", "#6f3f8f", "#8f2f5f", "#3f5f8f", "#7f6f2f", "#2f7f6f",
];

pub(super) async fn picture(State(sim): State<Arc<Sim>>, Path(file): Path<String>) -> Response {
    let Some(psid) = file.strip_suffix(".svg") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let initials = {
        let store = sim.store();
        let Some(customer) = store.customer(psid) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        [&customer.first_name, &customer.last_name]
            .iter()
            .filter_map(|name| name.chars().next())
            .flat_map(char::to_uppercase)
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    let colour = COLOURS[psid.bytes().map(usize::from).sum::<usize>() % COLOURS.len()];
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"100\" viewBox=\"0 0 100 100\">\
         <rect width=\"100\" height=\"100\" fill=\"{colour}\"/>\
         <text x=\"50\" y=\"50\" dy=\"0.35em\" text-anchor=\"middle\" fill=\"#fff\" \
         font-family=\"sans-serif\" font-size=\"40\">{initials}</text></svg>"
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response()
}
