//! Prometheus metrics, one registry per app (tests run many apps in one process).
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// What `/metrics` shows.
pub struct Metrics {
    registry: Registry,
    /// Webhook deliveries by answer: accepted, unauthorized, bad_request, unavailable.
    pub deliveries: IntCounterVec,
    /// Webhook events by outcome: stored, duplicate, watermark, skipped, ignored.
    pub events: IntCounterVec,
    /// Seconds per group commit of the ingest writer.
    pub commit_seconds: Histogram,
    /// Deliveries per group commit.
    pub group_size: Histogram,
    /// Ingest groups whose transaction failed (database errors, deadlocks, timeouts);
    /// their deliveries are then retried one by one.
    pub group_failures: IntCounter,
    /// Open subscription connections.
    pub ws_connections: IntGauge,
    /// Subscription connections closed (4100) because the client stopped reading.
    pub ws_slow_disconnects: IntCounter,
    /// WebSockets the server closed, by close code (1009, 4403, 4408, ...), and upgrades
    /// refused because every connection was taken (`503`).
    pub ws_closed: IntCounterVec,
    /// Replies by final status: sent, failed, refused.
    pub sends: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("messengerflow".to_owned()), None)?;
        let deliveries = IntCounterVec::new(
            Opts::new("webhook_deliveries_total", "Webhook deliveries by answer"),
            &["result"],
        )?;
        let events = IntCounterVec::new(
            Opts::new("webhook_events_total", "Webhook events by outcome"),
            &["outcome"],
        )?;
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new("ingest_commit_seconds", "Seconds per ingest group commit").buckets(
                vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0],
            ),
        )?;
        let group_size = Histogram::with_opts(
            HistogramOpts::new(
                "ingest_group_deliveries",
                "Deliveries per ingest group commit",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )?;
        let group_failures = IntCounter::new(
            "ingest_group_failures_total",
            "Ingest group transactions that failed (their deliveries are retried one by one)",
        )?;
        let ws_connections =
            IntGauge::new("ws_connections", "Open GraphQL subscription connections")?;
        let ws_slow_disconnects = IntCounter::new(
            "ws_slow_disconnects_total",
            "Subscription connections closed because the client stopped reading",
        )?;
        let ws_closed = IntCounterVec::new(
            Opts::new(
                "ws_closed_total",
                "WebSockets closed by the server, by close code (503: upgrades refused, all taken)",
            ),
            &["code"],
        )?;
        let sends = IntCounterVec::new(
            Opts::new("sends_total", "Replies sent from the inbox, by outcome"),
            &["outcome"],
        )?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(group_size.clone()))?;
        registry.register(Box::new(group_failures.clone()))?;
        registry.register(Box::new(ws_connections.clone()))?;
        registry.register(Box::new(ws_slow_disconnects.clone()))?;
        registry.register(Box::new(ws_closed.clone()))?;
        registry.register(Box::new(sends.clone()))?;
        Ok(Self {
            registry,
            deliveries,
            events,
            commit_seconds,
            group_size,
            group_failures,
            ws_connections,
            ws_slow_disconnects,
            ws_closed,
            sends,
        })
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %err, "encoding metrics failed");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
