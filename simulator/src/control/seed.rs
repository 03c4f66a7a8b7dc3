//! History for sync tests: many threads with messages spread into the past, no webhooks.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::pages::{NewCustomer, body, create_customer};
use super::{ControlError, ControlResult};
use crate::model::{Content, Origin};
use crate::sim::Sim;
use crate::{names, time};

const MAX_CONVERSATIONS: usize = 20_000;
const MAX_MESSAGES: usize = 1_000;
const MINUTE_MS: i64 = 60_000;

/// `POST /_sim/pages/{page_id}/seed`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRequest {
    /// Threads to create, each with a new customer.
    pub conversations: usize,
    /// Messages per thread, alternating customer and Page, the first from the customer.
    pub messages_per_conversation: usize,
    /// How far into the past the threads reach; default 30 days.
    pub spread_days: Option<f64>,
    /// Every n-th customer has no profile (User Profile API subcode 2018218); default never.
    pub without_profile_every: Option<usize>,
}

/// What a seed created.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    /// Threads created.
    pub conversations: usize,
    /// Messages created.
    pub messages: usize,
    /// The new customers' PSIDs, newest thread first.
    pub psids: Vec<String>,
}

/// Creates the history. Thread `i` (0 = newest) ends about `i * spread / n` ago.
pub fn seed_page(
    sim: &Sim,
    page_id: &str,
    request: &SeedRequest,
) -> Result<SeedReport, ControlError> {
    if request.conversations > MAX_CONVERSATIONS || request.messages_per_conversation > MAX_MESSAGES
    {
        return Err(ControlError::bad_request(format!(
            "at most {MAX_CONVERSATIONS} conversations of {MAX_MESSAGES} messages"
        )));
    }
    let spread_days = request.spread_days.unwrap_or(30.0).clamp(0.0, 3650.0);
    // Whole milliseconds are all that matter here.
    #[allow(clippy::cast_possible_truncation)]
    let spread_ms = (spread_days * 86_400_000.0) as i64;
    let count = i64::try_from(request.conversations.max(1)).unwrap_or(i64::MAX);
    let slot = (spread_ms / count).max(2);
    let now = time::now_ms();
    let mut report = SeedReport {
        conversations: 0,
        messages: 0,
        psids: Vec::with_capacity(request.conversations),
    };
    for index in 0..request.conversations {
        let has_profile = request
            .without_profile_every
            .is_none_or(|n| n == 0 || (index + 1) % n != 0);
        let customer = create_customer(
            sim,
            page_id,
            NewCustomer {
                has_profile: Some(has_profile),
                ..NewCustomer::default()
            },
        )?;
        let position = i64::try_from(index).unwrap_or(i64::MAX);
        let newest =
            now - MINUTE_MS - position.saturating_mul(slot) - rand::rng().random_range(0..slot / 2);
        let mut times: Vec<i64> = Vec::with_capacity(request.messages_per_conversation);
        let mut at = newest;
        for _ in 0..request.messages_per_conversation {
            times.push(at);
            at -= rand::rng().random_range(MINUTE_MS..20 * MINUTE_MS);
        }
        times.reverse();
        let mut store = sim.store();
        for (n, timestamp) in times.into_iter().enumerate() {
            let from_page = n % 2 == 1;
            let text = match (from_page, n) {
                (true, _) => names::reply(),
                (false, 0) => names::question(),
                (false, _) => names::follow_up(),
            };
            let content = Content {
                text: Some(text),
                ..Content::default()
            };
            store.record(
                page_id,
                &customer.psid,
                from_page,
                timestamp,
                content,
                Origin::Seed,
            )?;
            report.messages += 1;
        }
        report.conversations += 1;
        report.psids.push(customer.psid);
    }
    Ok(report)
}

pub(super) async fn seed(
    State(sim): State<Arc<Sim>>,
    Path(page_id): Path<String>,
    bytes: Bytes,
) -> ControlResult<SeedReport> {
    let request: SeedRequest = body(&bytes)?;
    Ok(Json(seed_page(&sim, &page_id, &request)?))
}
