//! The one state every handler and resolver shares.
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::bus::EventBus;
use crate::config::Config;
use crate::facebook::graph::GraphClient;
use crate::metrics::Metrics;
use crate::service::credentials::Credentials;
use crate::service::ingest::Ingest;
use crate::service::limits::Limits;
use crate::service::outbox::Outbox;
use crate::service::presence::Presence;
use crate::service::snooze::Snoozes;
use crate::service::viewers::Viewers;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub bus: Arc<dyn EventBus>,
    /// The group-commit writer that stores webhook deliveries.
    pub ingest: Ingest,
    /// Publishes committed Page events, from the event log when the bus was down.
    pub outbox: Outbox,
    pub limits: Arc<Limits>,
    pub presence: Arc<Presence>,
    /// Who has which conversation open or is replying in it, on every instance.
    pub viewers: Arc<Viewers>,
    /// The credentials of live subscriptions and connections, kept current (revocation).
    pub credentials: Arc<Credentials>,
    /// Facebook's Graph API (or the simulator).
    pub graph: GraphClient,
    pub metrics: Arc<Metrics>,
    /// Cancelled when the server starts shutting down: open WebSockets close (1001).
    pub shutdown: CancellationToken,
    /// The WebSocket connections, which the shutdown waits for (briefly).
    pub connections: TaskTracker,
    /// Wakes this instance's snooze waker when a conversation is snoozed.
    pub snoozes: Arc<Snoozes>,
}

impl AppState {
    /// `writer` is the ingest writer's own connection (see `db::connect_writer`).
    pub fn new(
        config: Config,
        db: DatabaseConnection,
        writer: DatabaseConnection,
        bus: Arc<dyn EventBus>,
        graph: GraphClient,
        metrics: Metrics,
    ) -> Self {
        let (new_customers, customers) = tokio::sync::mpsc::unbounded_channel();
        let metrics = Arc::new(metrics);
        let outbox = Outbox::start(db.clone(), bus.clone());
        let ingest = Ingest::start(
            writer,
            outbox.clone(),
            config.ingest_group_max,
            config.ingest_writers,
            Some(new_customers),
            metrics.clone(),
        );
        let shutdown = CancellationToken::new();
        let credentials = Arc::new(Credentials::start(
            db.clone(),
            bus.clone(),
            shutdown.clone(),
        ));
        let state = Self {
            config: Arc::new(config),
            db,
            bus,
            ingest,
            outbox,
            limits: Arc::new(Limits::new()),
            presence: Arc::new(Presence::default()),
            viewers: Arc::new(Viewers::default()),
            credentials,
            graph,
            metrics,
            shutdown,
            connections: TaskTracker::new(),
            snoozes: Arc::new(Snoozes::default()),
        };
        tokio::spawn(crate::service::profiles::run(state.clone(), customers));
        tokio::spawn(crate::service::viewers::run(
            state.viewers.clone(),
            state.bus.clone(),
            state.shutdown.clone(),
        ));
        tokio::spawn(crate::service::event_log::prune_forever(
            state.db.clone(),
            state.config.event_retention_secs,
            Arc::downgrade(&state.config),
        ));
        // Until shutdown: it reads the snoozes due while no server ran, then keeps time.
        tokio::spawn(crate::service::snooze::wake_forever(
            state.clone(),
            state.snoozes.clone(),
        ));
        state
    }
}
