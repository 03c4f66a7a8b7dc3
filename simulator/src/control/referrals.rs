//! A customer comes to the Page from an ad, an m.me link or the chat plugin on a website:
//! Facebook's `referral`, as a `messaging_referrals` event (a person who already has a
//! thread), or inside the Get Started postback of a new thread. Delivered, like every
//! event, only when the Page is subscribed to its field.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::ControlResult;
use super::messages::post_subscribed;
use super::pages::body;
use crate::sim::Sim;
use crate::{ids, time};

/// `POST /_sim/pages/{page_id}/customers/{psid}/referral`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Arrival {
    /// ADS, SHORTLINK (default) or CUSTOMER_CHAT_PLUGIN.
    source: Option<String>,
    /// The `ref` parameter.
    #[serde(rename = "ref")]
    ref_param: Option<String>,
    ad_id: Option<String>,
    /// `ads_context_data.ad_title`.
    ad_title: Option<String>,
    /// The chat plugin's web page.
    referer_uri: Option<String>,
    /// Default false: a `messaging_referrals` event. True: the Get Started postback of a
    /// new thread, carrying the referral (`messaging_postbacks`).
    #[serde(default)]
    get_started: bool,
    /// Facebook's time, ms (default now).
    timestamp: Option<i64>,
}

/// Posts the referral of `psid`; answers what was queued, dropped, and the event's time.
pub(super) async fn customer_arrives(
    State(sim): State<Arc<Sim>>,
    Path((page_id, psid)): Path<(String, String)>,
    bytes: Bytes,
) -> ControlResult<Value> {
    let input: Arrival = body(&bytes)?;
    sim.store().customer_of(&page_id, &psid)?;
    let mut referral = Map::new();
    if let Some(r) = input.ref_param {
        referral.insert("ref".into(), r.into());
    }
    if let Some(ad_id) = input.ad_id {
        referral.insert("ad_id".into(), ad_id.into());
    }
    referral.insert(
        "source".into(),
        input.source.unwrap_or_else(|| "SHORTLINK".into()).into(),
    );
    referral.insert("type".into(), "OPEN_THREAD".into());
    if let Some(title) = input.ad_title {
        referral.insert("ads_context_data".into(), json!({ "ad_title": title }));
    }
    if let Some(uri) = input.referer_uri {
        referral.insert("referer_uri".into(), uri.into());
    }
    let timestamp = input.timestamp.unwrap_or_else(time::now_ms);
    let mut event = json!({
        "sender": { "id": psid },
        "recipient": { "id": page_id },
        "timestamp": timestamp,
    });
    let (key, value) = if input.get_started {
        let postback = json!({
            "mid": format!("m_{}", ids::numeric(20)),
            "title": "Get Started",
            "payload": "GET_STARTED",
            "referral": referral,
        });
        ("postback", postback)
    } else {
        ("referral", Value::Object(referral))
    };
    if let Some(object) = event.as_object_mut() {
        object.insert(key.into(), value);
    }
    let (queued, dropped) = post_subscribed(&sim, &page_id, [(event, false)])?;
    Ok(Json(
        json!({ "queued": queued, "dropped": dropped, "timestamp": timestamp }),
    ))
}
