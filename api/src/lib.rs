//! MessengerFlow's server as a library: `main` and every test start the very same app.
//!
//! `Server::build` connects the database, runs the migrations and starts the background
//! tasks (the ingest writers, the outbox relay...) into groups the server owns;
//! `Server::run_until` serves HTTP and WebSocket until the shutdown future completes, then
//! stops those tasks and waits for them.
#![forbid(unsafe_code)]
// No function over 80 lines (clippy.toml's threshold; `-D warnings` makes it an error).
#![warn(clippy::too_many_lines)]

pub mod bus;
pub mod config;
pub mod db;
pub mod error;
pub mod facebook;
pub mod graphql;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod service;
pub mod state;
pub mod tasks;
pub mod time;

#[cfg(test)]
mod source_limits;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

pub use config::{Config, Secret};
pub use state::AppState;

/// The routes, with the state they share. Tests and `main` use this one router.
pub fn build_app(state: AppState) -> Router {
    http::router(state)
}

/// A server whose database is ready, whose listener is bound and whose background tasks
/// run. Dropped without `run_until`, it stops them (without waiting).
pub struct Server {
    listener: TcpListener,
    state: AppState,
    addr: SocketAddr,
    background: tasks::Background,
}

impl Server {
    /// Connects and migrates the database, starts the bus and the background tasks.
    pub async fn build(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let config = config.without_blank_values();
        let addr = listener
            .local_addr()
            .context("reading the listener's address")?;
        let db = db::connect(&config.database_url).await?;
        db::migrate(&db).await?;
        let background = tasks::Background::default();
        let bus: Arc<dyn bus::EventBus> = match &config.redis_url {
            Some(url) => Arc::new(
                bus::redis::RedisBus::connect(url, &config.redis_channel, &background.bus)
                    .await
                    .with_context(|| format!("connecting to Redis ({})", db::redact_url(url)))?,
            ),
            None => Arc::new(bus::memory::MemoryBus::new()),
        };
        warn_about_missing_settings(&config);
        if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
            service::auth::ensure_first_admin(&db, email, password)
                .await
                .map_err(|err| {
                    anyhow::anyhow!("creating the first administrator: {}", err.message())
                })?;
        }
        let writers =
            service::ingest::writer_count(db.get_database_backend(), config.ingest_writers);
        let writer = db::connect_writer(&config.database_url, writers).await?;
        let graph = facebook::graph::GraphClient::new(&config.fb_graph_url)?;
        let metrics = metrics::Metrics::new().context("registering metrics")?;
        let parts = state::Parts {
            config,
            db,
            writer,
            bus,
            graph,
            metrics,
        };
        let (state, customers) = AppState::new(parts, &background);
        state.start_tasks(customers, &background.work);
        Ok(Self {
            listener,
            state,
            addr,
            background,
        })
    }

    /// Where the server listens (the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state, for tools that drive the app in-process.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes. Then it stops accepting connections, cancels
    /// `AppState::shutdown`, lets in-flight requests finish (for at most
    /// `MF_SHUTDOWN_GRACE_SECS`: one that never ends does not hold the process), closes the
    /// WebSockets (1001, "going away": clients reconnect and resume), stops the background
    /// tasks and waits for them (for at most [`TASKS_GRACE`] per group), and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "MessengerFlow listening");
        let app = build_app(self.state.clone());
        let token = self.state.shutdown.clone();
        let grace = Duration::from_secs(self.state.config.shutdown_grace_secs);
        let signal = {
            let token = token.clone();
            async move {
                shutdown.await;
                token.cancel();
            }
        };
        let listener = self.listener;
        let serve = async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(signal)
            .await
        };
        let grace_over = async {
            token.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = serve => served.context("serving HTTP")?,
            () = grace_over => {
                tracing::warn!(?grace, "requests still running after the grace period; stopping anyway");
            }
        }
        let connections = &self.state.connections;
        connections.close();
        if tokio::time::timeout(WEBSOCKET_GRACE, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = connections.len(),
                "WebSockets still open after the grace period; leaving them"
            );
        }
        self.background.stop(TASKS_GRACE).await;
        Ok(())
    }
}

/// Start-up warnings for settings left unset (empty and blank values count as unset).
fn warn_about_missing_settings(config: &Config) {
    if config.fb_app_secret.is_none() {
        tracing::warn!(
            "FB_APP_SECRET is not set: every webhook delivery will be refused (401) \
             because its signature cannot be checked"
        );
    }
    if config.fb_verify_token.is_none() {
        tracing::warn!(
            "FB_VERIFY_TOKEN is not set: Facebook's webhook verification will be refused (403)"
        );
    }
    if config.admin_email.is_some() != config.admin_password.is_some() {
        tracing::warn!(
            "only one of MF_ADMIN_EMAIL and MF_ADMIN_PASSWORD is set: no first administrator is created"
        );
    }
}

/// How long shutdown waits for WebSockets to take their close frame.
const WEBSOCKET_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long shutdown waits for each group of background tasks (see `tasks::Background`)
/// once asked to stop: they stop at their next step, so this is only reached when one
/// is stuck (the database hanging under a writer's last commit).
pub const TASKS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
