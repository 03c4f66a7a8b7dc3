//! A simulator of the parts of Facebook's Graph API and Messenger Platform that
//! MessengerFlow uses: the Send API, the Conversations API, the User Profile API,
//! Page subscriptions, and signed webhooks out. It knows Facebook's shapes only.
//!
//! `start(SimConfig::default())` runs one on a free port of 127.0.0.1; point the
//! api's `FB_GRAPH_URL` at [`SimHandle::base_url`] and drive the world through the
//! control API at [`SimHandle::control_url`] or the typed helpers on [`SimHandle`].

#![forbid(unsafe_code)]

pub mod config;
pub mod control;
pub mod demo;
pub mod faults;
pub mod fbjson;
pub mod graph;
mod ids;
pub mod model;
mod names;
pub mod ratelimit;
pub mod receipts;
pub mod sim;
pub mod store;
pub mod time;
pub mod tokens;
pub mod uploads;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{RateLimits, Secret, SimConfig, Timing};
pub use control::{CustomerMessage, NewCustomer, NewPage, SeedReport, SeedRequest};
pub use model::{Customer, Message, Page};
pub use sim::Sim;
pub use webhook::Delivery;

/// The Graph API version in [`SimHandle::base_url`]; any `/vN.M` prefix is accepted.
pub const GRAPH_VERSION: &str = "v25.0";

/// The HTTP app: control API under `/_sim`, Graph API everywhere else.
pub fn app(sim: Arc<Sim>) -> Router {
    // Graph takes files of up to 25 MB (`uploads::MAX_UPLOAD_BYTES`) in a multipart body;
    // a body larger than that and its form fields is answered 413.
    Router::new()
        .nest("/_sim", control::router())
        .fallback(graph::handle)
        .layer(axum::extract::DefaultBodyLimit::max(
            uploads::MAX_UPLOAD_BYTES + 1024 * 1024,
        ))
        .with_state(sim)
}

/// Binds, starts the server and the webhook sender, and returns at once.
pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
    let listener = TcpListener::bind((config.host, config.port)).await?;
    let addr = listener.local_addr()?;
    let (sim, queue) = Sim::new(config)?;
    sim.set_public_addr(addr);
    let dispatcher = tokio::spawn(Arc::clone(sim.webhooks()).run(queue));
    let router = app(Arc::clone(&sim));
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "simulator server stopped");
        }
    });
    tracing::info!(%addr, "graph simulator listening");
    Ok(SimHandle {
        addr,
        sim,
        tasks: vec![dispatcher, server],
    })
}

/// A running simulator. Dropping it stops the server, the webhook sender and the demo.
pub struct SimHandle {
    addr: SocketAddr,
    sim: Arc<Sim>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Graph base URL, `http://127.0.0.1:PORT/v25.0`: the api's `FB_GRAPH_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/{GRAPH_VERSION}", self.addr)
    }

    /// The control API's base, `http://127.0.0.1:PORT/_sim`.
    pub fn control_url(&self) -> String {
        format!("http://{}/_sim", self.addr)
    }

    /// The simulator itself, for anything the helpers below do not cover.
    pub fn sim(&self) -> &Arc<Sim> {
        &self.sim
    }

    /// Adds a Page (see `POST /_sim/pages`).
    pub fn create_page(&self, page: NewPage) -> anyhow::Result<Page> {
        Ok(control::create_page(&self.sim, page)?)
    }

    /// Adds a customer to a Page (see `POST /_sim/pages/{id}/customers`).
    pub fn create_customer(
        &self,
        page_id: &str,
        customer: NewCustomer,
    ) -> anyhow::Result<Customer> {
        Ok(control::create_customer(&self.sim, page_id, customer)?)
    }

    /// A customer writes; the webhook goes out unless `message.webhook` is `Some(false)`.
    pub fn customer_says(
        &self,
        page_id: &str,
        psid: &str,
        message: CustomerMessage,
    ) -> anyhow::Result<Message> {
        Ok(control::customer_says(&self.sim, page_id, psid, message)?)
    }

    /// Creates history (see `POST /_sim/pages/{id}/seed`).
    pub fn seed(&self, page_id: &str, request: &SeedRequest) -> anyhow::Result<SeedReport> {
        Ok(control::seed_page(&self.sim, page_id, request)?)
    }

    /// Forgets every Page, customer, thread and delivery; restores the configured rate limits.
    pub fn reset(&self) {
        control::reset_world(&self.sim);
    }

    /// Revokes a Page's token: Graph answers code 190 from now on.
    pub fn revoke_token(&self, page_id: &str) -> anyhow::Result<()> {
        self.sim.store().revoke(page_id)?;
        Ok(())
    }

    /// Points webhooks at `url` (e.g. the api's `/webhook` once it has a port).
    pub fn set_webhook_url(&self, url: Option<String>) {
        self.sim.webhooks().set_target(url, None);
    }

    /// Arms a fault (see `POST /_sim/faults`).
    pub fn arm_fault(&self, spec: faults::FaultSpec) -> anyhow::Result<faults::Armed> {
        self.sim.faults().arm(spec).map_err(anyhow::Error::msg)
    }

    /// Sets how rough paging is (see `PUT /_sim/paging`).
    pub fn set_paging(&self, mode: graph::paging::PagingMode) {
        *self.sim.paging() = mode;
    }

    /// Replaces the throttles.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.sim.limiter().set_limits(limits);
    }

    /// Messages the Page sent (Send API and Page Inbox), oldest first.
    pub fn sent(&self, page_id: &str) -> Vec<Message> {
        self.sim.store().sent_by(page_id)
    }

    /// Webhook deliveries so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.sim.webhooks().deliveries()
    }

    /// Starts the demo's customers on this simulator; they stop when the handle drops.
    pub fn start_demo(&mut self, options: demo::DemoOptions) -> anyhow::Result<demo::DemoPage> {
        let (page, task) = demo::start(Arc::clone(&self.sim), options)?;
        self.tasks.push(task);
        Ok(page)
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.sim.webhooks().close();
        for task in &self.tasks {
            task.abort();
        }
    }
}
