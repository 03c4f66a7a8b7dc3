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
use crate::service::profiles::NewCustomer;
use crate::service::snooze::Snoozes;
use crate::service::viewers::Viewers;
use crate::tasks::{Background, Tasks};

/// What the ingest writers announce the conversations they created on.
pub type NewCustomerFeed = tokio::sync::mpsc::UnboundedReceiver<Vec<NewCustomer>>;

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
    /// Where requests start work that outlives them (a history sync, `mark_seen`): the
    /// server's `work` group, stopped and joined on shutdown (see `tasks`).
    pub tasks: Tasks,
    /// Wakes this instance's snooze waker when a conversation is snoozed.
    pub snoozes: Arc<Snoozes>,
}

/// What the state is made of, connected by `Server::build`.
pub struct Parts {
    pub config: Config,
    pub db: DatabaseConnection,
    /// The ingest writers' own connection (see `db::connect_writer`).
    pub writer: DatabaseConnection,
    pub bus: Arc<dyn EventBus>,
    pub graph: GraphClient,
    pub metrics: Metrics,
}

impl AppState {
    /// Assembles the state. Its components that run tasks (the outbox, the ingest writers,
    /// the credentials' re-check) start them in `background`'s groups; the other tasks are
    /// started by `Server::build` (see `start_tasks`). Also returns what the ingest writers
    /// announce new customers on, for the profile fetcher.
    pub fn new(parts: Parts, background: &Background) -> (Self, NewCustomerFeed) {
        let Parts {
            config,
            db,
            writer,
            bus,
            graph,
            metrics,
        } = parts;
        let (new_customers, customers) = tokio::sync::mpsc::unbounded_channel();
        let metrics = Arc::new(metrics);
        let outbox = Outbox::start(db.clone(), bus.clone(), &background.outbox);
        let ingest = Ingest::start(
            writer,
            outbox.clone(),
            config.ingest_group_max,
            config.ingest_writers,
            Some(new_customers),
            metrics.clone(),
            &background.work,
        );
        let credentials = Arc::new(Credentials::start(
            db.clone(),
            bus.clone(),
            &background.work,
        ));
        let limits = Arc::new(Limits::new(config.api_token_rate_per_second));
        let state = Self {
            config: Arc::new(config),
            db,
            bus,
            ingest,
            outbox,
            limits,
            presence: Arc::new(Presence::default()),
            viewers: Arc::new(Viewers::default()),
            credentials,
            graph,
            metrics,
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            tasks: background.work.clone(),
            snoozes: Arc::new(Snoozes::default()),
        };
        (state, customers)
    }

    /// Starts the state's own background tasks in `tasks`: the profile fetcher (fed by
    /// `customers`), the viewers' table, the event log's and the audit log's pruners, and
    /// the snooze waker.
    pub fn start_tasks(&self, customers: NewCustomerFeed, tasks: &Tasks) {
        let profiles = crate::service::profiles::Profiles {
            db: self.db.clone(),
            graph: self.graph.clone(),
            outbox: self.outbox.clone(),
        };
        tasks.spawn(
            "profile-fetcher",
            crate::service::profiles::run(profiles, customers, tasks.stopping()),
        );
        tasks.spawn(
            "viewers",
            crate::service::viewers::run(self.viewers.clone(), self.bus.clone(), tasks.stopping()),
        );
        tasks.spawn(
            "event-log-pruner",
            crate::service::event_log::prune_forever(
                self.db.clone(),
                self.config.event_retention_secs,
                tasks.stopping(),
            ),
        );
        tasks.spawn(
            "audit-log-pruner",
            crate::service::audit::prune_forever(
                self.db.clone(),
                self.config.audit_retention_days,
                tasks.stopping(),
            ),
        );
        // It reads the snoozes due while no server ran, then keeps time.
        tasks.spawn(
            "snooze-waker",
            crate::service::snooze::wake_forever(
                self.clone(),
                self.snoozes.clone(),
                tasks.stopping(),
            ),
        );
    }
}
