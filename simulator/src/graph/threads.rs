//! The Conversations API: `/{page}/conversations`, `/{thread}`, `/{thread}/messages`, `/{mid}`.
//! All of it draws from one per-Page budget (documented: 2 calls/s).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::{GraphError, GraphResult};
use super::fields::{self, Field};
use super::paging::{self, Key, PagingLinks, PagingMode};
use super::request::{self, GraphRequest};
use crate::model::{Conversation, Message, Page};
use crate::ratelimit::Budget;
use crate::sim::Sim;
use crate::store::Store;
use crate::time;

const THREAD_FIELDS: &[&str] = &[
    "id",
    "updated_time",
    "participants",
    "senders",
    "message_count",
    "unread_count",
    "snippet",
    "messages",
];
const MESSAGE_FIELDS: &[&str] = &[
    "id",
    "created_time",
    "from",
    "to",
    "message",
    "attachments",
    "sticker",
];

/// Who is asking and how, for rendering and for `paging.next`.
pub struct Ctx<'a> {
    /// The Page the token opens.
    pub page: &'a Page,
    /// The request.
    pub req: &'a GraphRequest,
    /// The token it used.
    pub token: &'a str,
    /// How rough paging is for this call.
    pub paging: PagingMode,
}

/// Counts a call against the Page's Conversations API budget; the value is the
/// `X-Business-Use-Case-Usage` header to send back. A Page token's calls fall under the
/// Business Use Case rate limits, whose Messenger code is 80006 (Graph API "Rate Limits",
/// <https://developers.facebook.com/docs/graph-api/overview/rate-limiting>); the budget
/// itself (2 calls/s) is the Conversations API's documented one.
pub fn charge(sim: &Sim, page_id: &str) -> GraphResult<String> {
    let usage = sim.limiter().hit(page_id, Budget::Conversations);
    let header = json!({ page_id: [{
        "type": "messenger",
        "call_count": usage.percent,
        "total_cputime": 1,
        "total_time": 1,
        "estimated_time_to_regain_access": 0,
    }]})
    .to_string();
    if usage.allowed {
        Ok(header)
    } else {
        Err(GraphError::messenger_throttled().with_header("x-business-use-case-usage", header))
    }
}

fn respond(body: Value, usage: String) -> Response {
    ([("x-business-use-case-usage", usage)], Json(body)).into_response()
}

/// `GET /{page}/conversations`.
pub fn list(sim: &Sim, ctx: &Ctx<'_>) -> GraphResult<Response> {
    let usage = charge(sim, &ctx.page.id)?;
    let params = &ctx.req.params;
    let wanted = fields::parse_or(params.str("fields"), &["id", "updated_time"])?;
    check_thread_fields(&wanted)?;
    let limit = params.limit()?;
    let store = sim.store();
    let mut threads = match params
        .str("platform")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("messenger") => store.conversations_newest_first(&ctx.page.id),
        Some("instagram") => Vec::new(),
        Some(_) => {
            return Err(GraphError::invalid_param(
                "Param platform must be one of {MESSENGER, INSTAGRAM}",
            ));
        }
    };
    if let Some(user) = params.str("user_id") {
        threads.retain(|t| t.psid == user);
    }
    let keys: Vec<Key> = threads
        .iter()
        .map(|t| Key(t.updated_ms, t.id.clone()))
        .collect();
    let mode = sim.paging_for(has_cursor(params))?;
    let window = paging::window(
        &keys,
        "t",
        params.str("after"),
        params.str("before"),
        limit,
        &mode,
    )?;
    let data = threads[window.start..window.end]
        .iter()
        .map(|t| render_thread(&store, ctx, t, &wanted))
        .collect::<GraphResult<Vec<_>>>()?;
    let links = PagingLinks {
        base_path: format!("{}/{}/conversations", ctx.req.base_url(), ctx.page.id),
        token: ctx.token,
        carried: request::carried_params(params),
        limit,
    };
    Ok(respond(
        with_paging(data, links.paging(&keys, "t", &window)),
        usage,
    ))
}

/// `GET /{thread}`.
pub fn thread_node(sim: &Sim, ctx: &Ctx<'_>, thread_id: &str) -> GraphResult<Response> {
    let usage = charge(sim, &ctx.page.id)?;
    let wanted = fields::parse_or(ctx.req.params.str("fields"), &["id", "updated_time"])?;
    check_thread_fields(&wanted)?;
    let store = sim.store();
    let thread = store
        .conversation(thread_id)
        .ok_or_else(|| GraphError::unsupported("get", thread_id))?;
    Ok(respond(render_thread(&store, ctx, thread, &wanted)?, usage))
}

/// `GET /{thread}/messages`.
pub fn thread_messages(sim: &Sim, ctx: &Ctx<'_>, thread_id: &str) -> GraphResult<Response> {
    let usage = charge(sim, &ctx.page.id)?;
    let params = &ctx.req.params;
    let wanted = fields::parse_or(params.str("fields"), &["id", "created_time"])?;
    fields::check_known(&wanted, MESSAGE_FIELDS, "Message")?;
    let limit = params.limit()?;
    let ctx = &Ctx {
        paging: sim.paging_for(has_cursor(params))?,
        ..*ctx
    };
    let store = sim.store();
    let links = PagingLinks {
        base_path: format!("{}/{thread_id}/messages", ctx.req.base_url()),
        token: ctx.token,
        carried: request::carried_params(params),
        limit,
    };
    let body = message_list(
        &store,
        ctx,
        thread_id,
        &wanted,
        links,
        params.str("after"),
        params.str("before"),
    )?;
    Ok(respond(body, usage))
}

/// `GET /{mid}`.
pub fn message_node(sim: &Sim, ctx: &Ctx<'_>, mid: &str) -> GraphResult<Response> {
    let usage = charge(sim, &ctx.page.id)?;
    let wanted = fields::parse_or(ctx.req.params.str("fields"), &["id", "created_time"])?;
    fields::check_known(&wanted, MESSAGE_FIELDS, "Message")?;
    let store = sim.store();
    let message = store
        .message(mid)
        .ok_or_else(|| GraphError::unsupported("get", mid))?;
    Ok(respond(
        render_message(&store, ctx.page, message, &wanted),
        usage,
    ))
}

fn has_cursor(params: &request::Params) -> bool {
    params.str("after").is_some() || params.str("before").is_some()
}

fn check_thread_fields(wanted: &[Field]) -> GraphResult<()> {
    fields::check_known(wanted, THREAD_FIELDS, "UnifiedThread")?;
    for field in wanted.iter().filter(|f| f.name == "messages") {
        if let Some(children) = &field.children {
            fields::check_known(children, MESSAGE_FIELDS, "Message")?;
        }
        if let Some(limit) = &field.limit {
            request::limit_value(Some(&Value::String(limit.clone())))?;
        }
    }
    Ok(())
}

fn with_paging(data: Vec<Value>, paging: Option<Value>) -> Value {
    let mut body = Map::new();
    body.insert("data".into(), data.into());
    if let Some(paging) = paging {
        body.insert("paging".into(), paging);
    }
    Value::Object(body)
}

fn message_list(
    store: &Store,
    ctx: &Ctx<'_>,
    thread_id: &str,
    wanted: &[Field],
    links: PagingLinks<'_>,
    after: Option<&str>,
    before: Option<&str>,
) -> GraphResult<Value> {
    let messages = store.messages_newest_first(thread_id);
    let keys: Vec<Key> = messages
        .iter()
        .map(|m| Key(m.timestamp, format!("{:020}", m.seq)))
        .collect();
    let window = paging::window(&keys, "m", after, before, links.limit, &ctx.paging)?;
    let data = messages[window.start..window.end]
        .iter()
        .map(|m| render_message(store, ctx.page, m, wanted))
        .collect();
    Ok(with_paging(data, links.paging(&keys, "m", &window)))
}

fn participant(store: &Store, page: &Page, id: &str) -> Value {
    let name = if id == page.id {
        page.name.clone()
    } else {
        store
            .customer(id)
            .map_or_else(|| "Facebook User".to_owned(), |c| c.name())
    };
    json!({ "name": name, "email": format!("{id}@facebook.com"), "id": id })
}

fn render_thread(
    store: &Store,
    ctx: &Ctx<'_>,
    thread: &Conversation,
    wanted: &[Field],
) -> GraphResult<Value> {
    let mut out = Map::new();
    out.insert("id".into(), thread.id.clone().into());
    for field in wanted {
        let value = match field.name.as_str() {
            "id" => continue,
            "updated_time" => time::graph_time(thread.updated_ms).into(),
            "participants" | "senders" => {
                let people = [&thread.psid, &ctx.page.id]
                    .iter()
                    .map(|id| {
                        fields::select(participant(store, ctx.page, id), field.children.as_deref())
                    })
                    .collect::<Vec<_>>();
                json!({ "data": people })
            }
            "message_count" => thread.mids.len().into(),
            "unread_count" => store.unread_count(thread).into(),
            "snippet" => snippet(store, thread).into(),
            "messages" => {
                let children = field
                    .children
                    .clone()
                    .unwrap_or_else(|| vec![Field::plain("id"), Field::plain("created_time")]);
                let limit = match &field.limit {
                    Some(limit) => request::limit_value(Some(&Value::String(limit.clone())))?,
                    None => request::limit_value(None)?,
                };
                let links = PagingLinks {
                    base_path: format!("{}/{}/messages", ctx.req.base_url(), thread.id),
                    token: ctx.token,
                    carried: vec![("fields".into(), fields::to_text(&children))],
                    limit,
                };
                message_list(store, ctx, &thread.id, &children, links, None, None)?
            }
            other => return Err(GraphError::nonexisting_field(other, "UnifiedThread")),
        };
        out.insert(field.name.clone(), value);
    }
    Ok(Value::Object(out))
}

fn snippet(store: &Store, thread: &Conversation) -> String {
    let Some(latest) = store.messages_newest_first(&thread.id).into_iter().next() else {
        return String::new();
    };
    match &latest.text {
        Some(text) => text.chars().take(100).collect(),
        None => "Sent an attachment.".to_owned(),
    }
}

fn render_message(store: &Store, page: &Page, message: &Message, wanted: &[Field]) -> Value {
    let (from, to) = if message.from_page {
        (page.id.as_str(), message.psid.as_str())
    } else {
        (message.psid.as_str(), page.id.as_str())
    };
    let mut out = Map::new();
    out.insert("id".into(), message.mid.clone().into());
    for field in wanted {
        let children = field.children.as_deref();
        let value = match field.name.as_str() {
            "created_time" => time::graph_time(message.timestamp).into(),
            "from" => fields::select(participant(store, page, from), children),
            "to" => json!({ "data": [fields::select(participant(store, page, to), children)] }),
            "message" => message.text.clone().unwrap_or_default().into(),
            "attachments" if !message.attachments.is_empty() => {
                let data: Vec<Value> = message
                    .attachments
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.kind != "sticker")
                    .map(|(i, a)| {
                        fields::select(super::attachments::render(message, i, a), children)
                    })
                    .collect();
                if data.is_empty() {
                    continue;
                }
                json!({ "data": data })
            }
            "sticker" => match message.attachments.iter().find(|a| a.kind == "sticker") {
                Some(sticker) => sticker.url().unwrap_or_default().into(),
                None => continue,
            },
            _ => continue,
        };
        out.insert(field.name.clone(), value);
    }
    Value::Object(out)
}
