//! The Graph API: every path outside `/_sim/` lands here, with or without a `/vN.M` prefix.
//! Order of checks, as Graph does: token, then the object, then the edge and its parameters.

mod attachments;
pub mod error;
pub mod fields;
pub mod multipart;
mod nodes;

pub use nodes::WEBHOOK_FIELDS;
pub mod paging;
pub mod request;
mod send;
mod threads;
mod tokens;
mod upload;
mod validate;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};

use error::{GraphError, GraphResult};
use request::GraphRequest;

use crate::faults::{self, Surface};
use crate::model::Page;
use crate::sim::Sim;

/// What a path's first component names, as seen by one Page's token.
enum Node {
    Page,
    Thread(String),
    Person(String),
    Message(String),
    Missing,
}

/// The axum fallback that answers every Graph call.
pub async fn handle(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let version = uri
        .path()
        .split('/')
        .find(|p| !p.is_empty())
        .filter(|p| p.starts_with('v') && p.contains('.'))
        .unwrap_or("v25.0")
        .to_owned();
    let form = match multipart::read(&headers, body.clone()).await {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let mut response = match route(&sim, method, &uri, &headers, &body, form) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&version) {
        response.headers_mut().insert("facebook-api-version", value);
    }
    response
}

fn route(
    sim: &Arc<Sim>,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    form: Option<multipart::Form>,
) -> GraphResult<Response> {
    let req = GraphRequest::parse(method, uri, headers, body, form)?;
    if req.node == "debug_token" && req.edge.is_none() && req.method == Method::GET {
        return tokens::debug_token(sim, &req);
    }
    let token = req.token.clone().ok_or_else(GraphError::token_required)?;
    let page = tokens::authenticate(sim, &token)?;
    let node = resolve(sim, &page, &req.node);
    // An armed fault answers in place of the call: nothing is stored, nothing is counted.
    let psid = psid_of(&node, &req);
    if let Some(surface) = surface_of(&node, req.edge.as_deref())
        && let Some(error) = sim.faults().take(faults::Call {
            page_id: &page.id,
            psid: psid.as_deref(),
            surface,
        })
    {
        return Err(error);
    }
    let ctx = threads::Ctx {
        page: &page,
        req: &req,
        token: &token,
        paging: *sim.paging(),
    };
    let method = &req.method;
    let unsupported = || GraphError::unsupported(method.as_str(), &req.node);
    match (node, req.edge.as_deref()) {
        (Node::Missing, _) => Err(unsupported()),
        (Node::Page, None) if method == Method::GET => nodes::page(&page, &req.params),
        (Node::Page, Some("messages")) if method == Method::POST => {
            tokens::require(sim, &page, "pages_messaging")?;
            send::send(sim, &page, &req.params, req.file.as_ref())
        }
        (Node::Page, Some("message_attachments")) if method == Method::POST => {
            tokens::require(sim, &page, "pages_messaging")?;
            upload::upload(sim, &page, &req.params, req.file.as_ref())
        }
        (Node::Page, Some("conversations")) if method == Method::GET => threads::list(sim, &ctx),
        (Node::Page, Some("permissions")) if method == Method::GET => {
            tokens::permissions(sim, &page)
        }
        (Node::Page, Some("subscribed_apps")) => {
            if *method != Method::GET {
                tokens::require(sim, &page, "pages_manage_metadata")?;
            }
            nodes::subscribed_apps(sim, &page, method, &req.params)
        }
        (Node::Thread(id), None) if method == Method::GET => threads::thread_node(sim, &ctx, &id),
        (Node::Thread(id), Some("messages")) if method == Method::GET => {
            threads::thread_messages(sim, &ctx, &id)
        }
        (Node::Person(psid), None) if method == Method::GET => {
            nodes::profile(sim, &psid, &req.params)
        }
        (Node::Message(mid), None) if method == Method::GET => {
            threads::message_node(sim, &ctx, &mid)
        }
        (_, Some(edge)) if !is_known_edge(edge) => {
            Err(GraphError::unknown_path(&format!("/{edge}")))
        }
        _ => Err(unsupported()),
    }
}

/// Which kind of call this is, for armed faults; `None` for the token checks (`/me`,
/// `/{page}`) and subscriptions, which faults never answer.
fn surface_of(node: &Node, edge: Option<&str>) -> Option<Surface> {
    match (node, edge) {
        (Node::Page, Some("messages" | "message_attachments")) => Some(Surface::Send),
        (Node::Page, Some("conversations")) | (Node::Thread(_) | Node::Message(_), _) => {
            Some(Surface::Conversations)
        }
        (Node::Person(_), None) => Some(Surface::Profile),
        _ => None,
    }
}

/// The person a call is about: the Send API's recipient, or the profile asked for.
fn psid_of(node: &Node, req: &GraphRequest) -> Option<String> {
    match node {
        Node::Person(psid) => Some(psid.clone()),
        Node::Page if req.edge.as_deref() == Some("messages") => {
            match req.params.get("recipient").and_then(|r| r.get("id")) {
                Some(serde_json::Value::String(id)) => Some(id.clone()),
                Some(serde_json::Value::Number(id)) => Some(id.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn is_known_edge(edge: &str) -> bool {
    matches!(
        edge,
        "messages" | "message_attachments" | "conversations" | "subscribed_apps" | "permissions"
    )
}

fn resolve(sim: &Sim, page: &Page, id: &str) -> Node {
    if id == "me" || id == page.id {
        return Node::Page;
    }
    let store = sim.store();
    if store.conversation(id).is_some_and(|t| t.page_id == page.id) {
        Node::Thread(id.to_owned())
    } else if store.customer(id).is_some_and(|c| c.page_id == page.id) {
        Node::Person(id.to_owned())
    } else if store.message(id).is_some_and(|m| m.page_id == page.id) {
        Node::Message(id.to_owned())
    } else {
        Node::Missing
    }
}
