//! Demo mode: one Page with some history, and a few customers who ask support
//! questions now and then and sometimes answer the Page's replies.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::control::{self, CustomerMessage, NewCustomer, NewPage, SeedRequest};
use crate::sim::{Sim, random_between};
use crate::{Message, names};

/// The demo's knobs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Page id; random when `None`.
    pub page_id: Option<String>,
    /// Page name.
    pub page_name: String,
    /// Page token; random when `None`.
    pub access_token: Option<String>,
    /// Customers who write live.
    pub customers: usize,
    /// Range of the pause between two spontaneous messages.
    pub interval: (Duration, Duration),
    /// Chance that a customer answers a reply of the Page.
    pub reply_chance: f64,
    /// Older threads to seed, for history sync.
    pub history: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            page_id: None,
            page_name: "Nordlicht Outdoor".to_owned(),
            access_token: None,
            customers: 5,
            interval: (Duration::from_secs(4), Duration::from_secs(12)),
            reply_chance: 0.6,
            history: 30,
        }
    }
}

/// What a launcher needs to connect the demo Page.
#[derive(Debug, Clone, Serialize)]
pub struct DemoPage {
    /// Page id.
    pub id: String,
    /// Page name.
    pub name: String,
    /// Page access token.
    pub access_token: String,
    /// PSIDs of the live customers.
    pub customers: Vec<String>,
}

const DEMO_FIELDS: &[&str] = &[
    "messages",
    "messaging_postbacks",
    "message_deliveries",
    "message_reads",
    "message_echoes",
    "message_reactions",
];

/// Creates the demo Page (already subscribed to the messaging fields), its history and
/// customers, and the task that makes them talk.
pub fn start(sim: Arc<Sim>, options: DemoOptions) -> anyhow::Result<(DemoPage, JoinHandle<()>)> {
    let page = control::create_page(
        &sim,
        NewPage {
            id: options.page_id.clone(),
            name: Some(options.page_name.clone()),
            access_token: options.access_token.clone(),
            subscribed_fields: DEMO_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        },
    )?;
    control::seed_page(
        &sim,
        &page.id,
        &SeedRequest {
            conversations: options.history,
            messages_per_conversation: 4,
            spread_days: Some(20.0),
            without_profile_every: Some(7),
        },
    )?;
    let mut customers = Vec::with_capacity(options.customers);
    for index in 0..options.customers {
        let customer = NewCustomer {
            has_profile: Some(index != 3),
            ..NewCustomer::default()
        };
        customers.push(control::create_customer(&sim, &page.id, customer)?.psid);
    }
    let demo = DemoPage {
        id: page.id.clone(),
        name: page.name.clone(),
        access_token: page.token.clone(),
        customers: customers.clone(),
    };
    let task = tokio::spawn(run(sim, page.id, customers, options));
    Ok((demo, task))
}

async fn run(sim: Arc<Sim>, page_id: String, customers: Vec<String>, options: DemoOptions) {
    let mut page_sent = sim.page_sent_events();
    let mut spoken: Vec<String> = Vec::new();
    loop {
        let pause = random_between(options.interval);
        tokio::select! {
            () = tokio::time::sleep(pause) => {
                let Some(psid) = customers.choose(&mut rand::rng()).cloned() else { return };
                let fresh = !spoken.contains(&psid);
                let text = if fresh || rand::rng().random_bool(0.3) { names::question() } else { names::follow_up() };
                say(&sim, &page_id, &psid, text);
                if fresh {
                    spoken.push(psid);
                }
            }
            received = page_sent.recv() => match received {
                Ok(message) => answer_later(&sim, &page_id, &customers, &message, options.reply_chance),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

fn answer_later(
    sim: &Arc<Sim>,
    page_id: &str,
    customers: &[String],
    message: &Message,
    chance: f64,
) {
    if message.page_id != page_id
        || !customers.contains(&message.psid)
        || !rand::rng().random_bool(chance.clamp(0.0, 1.0))
    {
        return;
    }
    let (sim, page_id, psid) = (Arc::clone(sim), page_id.to_owned(), message.psid.clone());
    let delay = random_between((Duration::from_secs(2), Duration::from_secs(7)));
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        say(&sim, &page_id, &psid, names::follow_up());
    });
}

fn say(sim: &Sim, page_id: &str, psid: &str, text: String) {
    if let Err(error) = control::customer_says(sim, page_id, psid, CustomerMessage::text(text)) {
        tracing::warn!(%error, "demo customer could not write");
    }
}
