//! Log setup: `RUST_LOG` as the operator gives it, except for dependencies whose verbose
//! levels print raw payloads, which are capped whatever `RUST_LOG` says (secrets never
//! reach the log, at any level).
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Dependencies capped below their most verbose levels, with why. Our own targets are
/// never capped: they log no secret at any level (`Secret` prints `[redacted]`).
pub const CAPPED: &[(&str, LevelFilter, &str)] = &[(
    "tungstenite",
    LevelFilter::DEBUG,
    "at TRACE it prints every WebSocket message and frame with its payload: the \
     `connection_init` bearer token, and every event sent to subscribers",
)];

/// The caps of `CAPPED`, everything else let through (to the `RUST_LOG` filter).
pub fn caps() -> Targets {
    CAPPED.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |targets, (target, level, _why)| targets.with_target(*target, *level),
    )
}

/// Installs the global subscriber: `directives` (`RUST_LOG`; `info` when it does not
/// parse) and the caps, as `text` or `json` lines on stdout.
pub fn init(directives: &str, format: &str) {
    let (filter, invalid) = match EnvFilter::try_new(directives) {
        Ok(filter) => (filter, None),
        Err(err) => (EnvFilter::new("info"), Some(err)),
    };
    let layer = if format == "json" {
        tracing_subscriber::fmt::layer().json().boxed()
    } else {
        tracing_subscriber::fmt::layer().boxed()
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter.and(caps())))
        .try_init();
    if let Some(err) = invalid {
        tracing::warn!(error = %err, "RUST_LOG is not a valid filter; logging at info");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn tungstenite_is_capped_at_debug_and_our_targets_are_not() {
        let caps = caps();
        assert!(!caps.would_enable("tungstenite::protocol", &Level::TRACE));
        assert!(caps.would_enable("tungstenite::protocol", &Level::DEBUG));
        assert!(caps.would_enable("api::service::ingest", &Level::TRACE));
        assert!(caps.would_enable("hyper::proto", &Level::TRACE));
    }
}
