//! The one state every handler and resolver shares.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::bus::EventBus;
use crate::config::Config;
use crate::facebook::graph::GraphClient;
use crate::metrics::Metrics;
use crate::service::ingest::Ingest;
use crate::service::limits::Limits;
use crate::service::presence::Presence;
use crate::shutdown::Shutdown;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub bus: Arc<dyn EventBus>,
    /// The group-commit writer that stores webhook deliveries.
    pub ingest: Ingest,
    pub limits: Arc<Limits>,
    pub presence: Arc<Presence>,
    /// Facebook's Graph API (or the simulator).
    pub graph: GraphClient,
    pub metrics: Arc<Metrics>,
    /// Set when the server starts shutting down; long-lived connections watch it.
    pub shutdown: Shutdown,
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
        let ingest = Ingest::start(
            writer,
            bus.clone(),
            config.ingest_group_max,
            Some(new_customers),
            metrics.clone(),
        );
        let state = Self {
            config: Arc::new(config),
            db,
            bus,
            ingest,
            limits: Arc::new(Limits::new()),
            presence: Arc::new(Presence::default()),
            graph,
            metrics,
            shutdown: Shutdown::default(),
        };
        tokio::spawn(crate::service::profiles::run(state.clone(), customers));
        state
    }
}
