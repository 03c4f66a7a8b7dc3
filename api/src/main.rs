//! `api`: reads the configuration and serves. `api print-schema` prints the SDL.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use anyhow::Context;
use api::{Config, Server};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("print-schema") {
        print!("{}", api::graphql::schema_sdl());
        return Ok(());
    }
    let config = Config::from_env();
    api::logging::init(&config.rust_log, &config.log_format);
    let addr = SocketAddr::new(config.host, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let server = Server::build(config, listener).await?;
    server.run_until(shutdown_signal()).await
}

/// Ctrl-C or SIGTERM: stop taking connections, finish what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
