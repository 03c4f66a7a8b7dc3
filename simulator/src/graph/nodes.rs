//! Page and person nodes: `/me`, `/{page}`, `/{psid}` (User Profile API) and
//! `/{page}/subscribed_apps`.

use axum::Json;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::{GraphError, GraphResult};
use super::fields;
use super::request::Params;
use crate::model::Page;
use crate::sim::Sim;

/// Webhook fields a Page subscription may name.
pub const WEBHOOK_FIELDS: &[&str] = &[
    "messages",
    "messaging_postbacks",
    "messaging_optins",
    "messaging_referrals",
    "messaging_handovers",
    "messaging_policy_enforcement",
    "messaging_account_linking",
    "messaging_game_plays",
    "message_deliveries",
    "message_reads",
    "message_echoes",
    "message_reactions",
    "message_edits",
    "standby",
    "inbox_labels",
    "feed",
];

/// `GET /me` or `GET /{page}`: the Page behind the token.
pub fn page(page: &Page, params: &Params) -> GraphResult<Response> {
    let wanted = fields::parse_or(params.str("fields"), &["id", "name"])?;
    fields::check_known(&wanted, &["id", "name"], "Page")?;
    let mut out = Map::new();
    out.insert("id".into(), page.id.clone().into());
    if wanted.iter().any(|f| f.name == "name") {
        out.insert("name".into(), page.name.clone().into());
    }
    Ok(Json(Value::Object(out)).into_response())
}

/// `GET /{psid}`: the User Profile API.
pub fn profile(sim: &Sim, psid: &str, params: &Params) -> GraphResult<Response> {
    let wanted = fields::parse_or(
        params.str("fields"),
        &["first_name", "last_name", "profile_pic"],
    )?;
    fields::check_known(
        &wanted,
        &["id", "name", "first_name", "last_name", "profile_pic"],
        "User",
    )?;
    let store = sim.store();
    let customer = store
        .customer(psid)
        .ok_or_else(|| GraphError::unsupported("get", psid))?;
    if !customer.has_profile {
        return Err(GraphError::no_profile());
    }
    let mut out = Map::new();
    for field in &wanted {
        let value = match field.name.as_str() {
            "name" => customer.name(),
            "first_name" => customer.first_name.clone(),
            "last_name" => customer.last_name.clone(),
            "profile_pic" => customer.profile_pic.clone(),
            _ => continue,
        };
        out.insert(field.name.clone(), value.into());
    }
    out.insert("id".into(), customer.psid.clone().into());
    Ok(Json(Value::Object(out)).into_response())
}

/// `GET|POST|DELETE /{page}/subscribed_apps`.
pub fn subscribed_apps(
    sim: &Sim,
    page: &Page,
    method: &Method,
    params: &Params,
) -> GraphResult<Response> {
    if *method == Method::GET {
        let fields = sim
            .store()
            .page(&page.id)
            .map(|p| p.subscribed_fields.clone())
            .unwrap_or_default();
        let data = if fields.is_empty() {
            Vec::new()
        } else {
            vec![json!({
                "category": "Business",
                "link": "https://messengerflow.example/",
                "name": "MessengerFlow",
                "id": sim.config().app_id.to_string(),
                "subscribed_fields": fields,
            })]
        };
        return Ok(Json(json!({ "data": data })).into_response());
    }
    let fields = if *method == Method::DELETE {
        Vec::new()
    } else {
        requested_fields(params)?
    };
    if let Ok(stored) = sim.store().page_mut(&page.id) {
        stored.subscribed_fields = fields;
    }
    Ok(Json(json!({ "success": true })).into_response())
}

fn requested_fields(params: &Params) -> GraphResult<Vec<String>> {
    let list: Vec<String> = match params.get("subscribed_fields") {
        Some(Value::String(text)) => text
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|f| f.as_str().unwrap_or_default().trim().to_owned())
            .collect(),
        _ => Vec::new(),
    };
    if list.is_empty() {
        return Err(GraphError::invalid_param(
            "param subscribed_fields must be non-empty.",
        ));
    }
    if let Some((index, field)) = list
        .iter()
        .enumerate()
        .find(|(_, f)| !WEBHOOK_FIELDS.contains(&f.as_str()))
    {
        return Err(GraphError::invalid_param(format!(
            "Param subscribed_fields[{index}] must be one of {{{}}} - got \"{field}\"",
            WEBHOOK_FIELDS.join(", ")
        )));
    }
    let mut unique = Vec::new();
    for field in list {
        if !unique.contains(&field) {
            unique.push(field);
        }
    }
    Ok(unique)
}
