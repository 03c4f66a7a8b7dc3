//! The one place that reads the environment (and `.env`). Every other module gets a `Config`.
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

/// A value that must never reach a log, an error or `/health`: `Debug` and `Display`
/// print `[redacted]`; `expose` is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the few places that must use it (HMAC keys, comparisons).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v25.0";
const DEFAULT_INGEST_GROUP_MAX: usize = 256;
const DEFAULT_INGEST_WRITERS: usize = 2;
/// A week.
const DEFAULT_EVENT_RETENTION_SECS: u64 = 7 * 24 * 3600;
const DEFAULT_VIEWING_TTL_MS: u64 = 30_000;
/// Facebook's limit on a file sent in Messenger, 25 MB ("Saving assets").
pub const FACEBOOK_MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;
const DEFAULT_WS_SEND_QUEUE: usize = 1024;
const DEFAULT_REDIS_CHANNEL: &str = "messengerflow:events";
const DEFAULT_WS_IDLE_SECS: u64 = 50;
const DEFAULT_WS_INIT_TIMEOUT_SECS: u64 = 10;
const DEFAULT_WS_MAX_SUBSCRIPTIONS: usize = 100;
const DEFAULT_WS_MAX_CONNECTIONS_PER_CREDENTIAL: usize = 50;
const DEFAULT_WS_MAX_CONNECTIONS: usize = 10_000;
const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 20;
const DEFAULT_WEB_DIR: &str = "client/dist";
const DEFAULT_DATABASE_URL: &str = "sqlite://messengerflow.db?mode=rwc";

/// The proxies whose `X-Forwarded-For` is believed (`MF_TRUSTED_PROXIES`): addresses and
/// CIDR ranges, comma-separated. Empty: no proxy is trusted and the client's address is
/// the connection's peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Whether `ip` is one of the proxies (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    /// `10.0.0.1, 10.1.0.0/16, ::1`: a bare address is its own /32 (or /128).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut nets = Vec::new();
        for item in s.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let net = match item.parse::<ipnet::IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(|ip| ipnet::IpNet::from(ip.to_canonical()))
                    .map_err(|_| format!("`{item}` is neither an IP address nor a CIDR range"))?,
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }
}
const DEFAULT_GRAPHIQL_DIR: &str = "graphiql/dist";
const DEFAULT_QUERY_DEADLINE_MS: u64 = 10_000;
const DEFAULT_API_TOKEN_RATE_PER_SECOND: u32 = 50;
const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 400;

/// Server settings. Names are fixed by the API contract; `.env.example` documents each.
#[derive(Clone, Parser)]
#[command(name = "api", version, about = "MessengerFlow server")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// `sqlite://PATH?mode=rwc` (embedded default) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL
    )]
    pub database_url: String,
    /// Redis for pub/sub between instances; unset means the in-process bus.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// The Redis pub/sub channel; instances sharing a database must share it.
    #[arg(long, env = "MF_REDIS_CHANNEL", default_value = DEFAULT_REDIS_CHANNEL)]
    pub redis_channel: String,
    /// Signs webhook bodies (X-Hub-Signature-256). Without it every delivery is refused.
    #[arg(long, env = "FB_APP_SECRET", hide_env_values = true)]
    pub fb_app_secret: Option<Secret>,
    /// Answers the webhook verification GET.
    #[arg(long, env = "FB_VERIFY_TOKEN", hide_env_values = true)]
    pub fb_verify_token: Option<Secret>,
    /// The Facebook app id.
    #[arg(long, env = "FB_APP_ID")]
    pub fb_app_id: Option<String>,
    /// Graph API base URL, version included.
    #[arg(long, env = "FB_GRAPH_URL", default_value = DEFAULT_GRAPH_URL)]
    pub fb_graph_url: String,
    /// First administrator, created at start when no agent exists.
    #[arg(long, env = "MF_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// The first administrator's password (10 to 200 characters).
    #[arg(long, env = "MF_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,
    /// Comma-separated origins allowed by CORS; unset means same origin only.
    #[arg(long, env = "CORS_ORIGINS")]
    pub cors_origins: Option<String>,
    /// Seconds a subscription connection may stay silent (no message, no `ping`) before
    /// it is closed and its agent counted OFFLINE.
    #[arg(long, env = "MF_WS_IDLE_TIMEOUT_SECS", default_value_t = DEFAULT_WS_IDLE_SECS)]
    pub ws_idle_timeout_secs: u64,
    /// Seconds a new WebSocket gets to send `connection_init`; then it is closed (4408).
    #[arg(long, env = "MF_WS_INIT_TIMEOUT_SECS", default_value_t = DEFAULT_WS_INIT_TIMEOUT_SECS)]
    pub ws_init_timeout_secs: u64,
    /// Operations (subscriptions, queries, mutations) running at once on one WebSocket;
    /// the next `subscribe` is answered with an error (TOO_MANY_SUBSCRIPTIONS).
    #[arg(long, env = "MF_WS_MAX_SUBSCRIPTIONS", default_value_t = DEFAULT_WS_MAX_SUBSCRIPTIONS)]
    pub ws_max_subscriptions: usize,
    /// WebSockets one credential (a session or an API token) may hold open on this
    /// instance; the next is closed with 4429 after its `connection_init`.
    #[arg(long, env = "MF_WS_MAX_CONNECTIONS_PER_CREDENTIAL", default_value_t = DEFAULT_WS_MAX_CONNECTIONS_PER_CREDENTIAL)]
    pub ws_max_connections_per_credential: usize,
    /// WebSockets open on this instance, initialised or not; past it the upgrade is
    /// answered 503.
    #[arg(long, env = "MF_WS_MAX_CONNECTIONS", default_value_t = DEFAULT_WS_MAX_CONNECTIONS)]
    pub ws_max_connections: usize,
    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// The log filter (`info`, `api=debug,info`, `trace`...). Dependencies that print raw
    /// payloads stay capped whatever it says (see `logging::CAPPED`).
    #[arg(long = "log-filter", env = "RUST_LOG", default_value = "info")]
    pub rust_log: String,
    /// Largest number of webhook deliveries committed in one transaction (group commit).
    #[arg(long, env = "MF_INGEST_GROUP_MAX", default_value_t = DEFAULT_INGEST_GROUP_MAX)]
    pub ingest_group_max: usize,
    /// Ingest transactions in flight at once on PostgreSQL, each on its own connection:
    /// while one group commits, the next is already being written. SQLite has a single
    /// writer, so it always uses one.
    #[arg(long, env = "MF_INGEST_WRITERS", default_value_t = DEFAULT_INGEST_WRITERS)]
    pub ingest_writers: usize,
    /// Seconds the per-Page event log keeps an entry: a subscriber away longer than this
    /// cannot resume (POSITION_EXPIRED) and reloads instead.
    #[arg(long, env = "MF_EVENT_RETENTION_SECS", default_value_t = DEFAULT_EVENT_RETENTION_SECS)]
    pub event_retention_secs: u64,
    /// Messages queued for one subscription connection; when the queue stays full for
    /// 5 s (the client stopped reading) the connection is closed with code 4100, telling
    /// the client to resume.
    #[arg(long, env = "MF_WS_SEND_QUEUE", default_value_t = DEFAULT_WS_SEND_QUEUE)]
    pub ws_send_queue: usize,
    /// Seconds in-flight requests get to finish after SIGTERM before the process exits anyway.
    #[arg(long, env = "MF_SHUTDOWN_GRACE_SECS", default_value_t = DEFAULT_SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: u64,
    /// The built web client (`scripts/build-client` writes it), served at `/`; relative
    /// paths are from the working directory. Missing: `/` says how to build it.
    #[arg(long, env = "MF_WEB_DIR", default_value = DEFAULT_WEB_DIR)]
    pub web_dir: PathBuf,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For`
    /// names the client; unset: the connection's peer is the client.
    #[arg(long, env = "MF_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// GraphiQL's vendored files (`scripts/build-graphiql` writes them), served at
    /// `GET /graphql` for a browser; relative paths are from the working directory.
    /// Missing: the page says how to build them.
    #[arg(long, env = "MF_GRAPHIQL_DIR", default_value = DEFAULT_GRAPHIQL_DIR)]
    pub graphiql_dir: PathBuf,
    /// Milliseconds a GraphQL query may run; past it its work is dropped and it answers
    /// `TIMEOUT`. Mutations always run to the end.
    #[arg(long, env = "MF_QUERY_DEADLINE_MS", default_value_t = DEFAULT_QUERY_DEADLINE_MS)]
    pub query_deadline_ms: u64,
    /// Calls a second one API token may make (a batch pays one per item), with bursts of
    /// twice that; past it, `RATE_LIMITED`.
    #[arg(
        long,
        env = "MF_API_TOKEN_RATE_PER_SECOND",
        default_value_t = DEFAULT_API_TOKEN_RATE_PER_SECOND
    )]
    pub api_token_rate_per_second: u32,
    /// Milliseconds an agent stays "viewing" a conversation after its last
    /// `setConversationPresence`; "replying" lasts a quarter of it. A closed tab stops
    /// refreshing, so it disappears by itself.
    #[arg(long, env = "MF_VIEWING_TTL_MS", default_value_t = DEFAULT_VIEWING_TTL_MS)]
    pub viewing_ttl_ms: u64,
    /// Largest file (bytes) an agent may send, refused before Facebook if larger; 1 to 25 MB.
    #[arg(long, env = "MF_MAX_UPLOAD_BYTES", default_value_t = FACEBOOK_MAX_UPLOAD_BYTES,
          value_parser = clap::value_parser!(u64).range(1..=FACEBOOK_MAX_UPLOAD_BYTES))]
    pub max_upload_bytes: u64,
    /// Days the audit log keeps an entry (1 to 36500); older ones are pruned hourly.
    #[arg(long, env = "MF_AUDIT_RETENTION_DAYS", default_value_t = DEFAULT_AUDIT_RETENTION_DAYS,
          value_parser = clap::value_parser!(u64).range(1..=36500))]
    pub audit_retention_days: u64,
}

impl Config {
    /// Reads `.env` (if present) and the environment.
    pub fn from_env() -> Self {
        // A missing .env is normal; a malformed one is reported by clap's own parsing later.
        let _ = dotenvy::dotenv();
        Self::parse().without_blank_values()
    }

    /// An empty or blank value counts as unset: `FB_APP_SECRET=` in `.env` must not make
    /// "" the signing key (anyone could sign a delivery with it), nor `FB_VERIFY_TOKEN=`
    /// let `hub.verify_token=` pass. The same for the administrator's email and password,
    /// the Redis URL (the in-process bus), the app id and the CORS origins; a blank
    /// `DATABASE_URL` is the embedded default. `Server::build` applies it to every config,
    /// also those built in code.
    pub fn without_blank_values(mut self) -> Self {
        fn secret(value: Option<Secret>) -> Option<Secret> {
            value.filter(|s| !s.expose().trim().is_empty())
        }
        fn text(value: Option<String>) -> Option<String> {
            value.filter(|s| !s.trim().is_empty())
        }
        self.fb_app_secret = secret(self.fb_app_secret);
        self.fb_verify_token = secret(self.fb_verify_token);
        self.admin_password = secret(self.admin_password);
        self.admin_email = text(self.admin_email);
        self.redis_url = text(self.redis_url);
        self.fb_app_id = text(self.fb_app_id);
        self.cors_origins = text(self.cors_origins);
        if self.rust_log.trim().is_empty() {
            "info".clone_into(&mut self.rust_log);
        }
        if self.database_url.trim().is_empty() {
            DEFAULT_DATABASE_URL.clone_into(&mut self.database_url);
        }
        self
    }

    /// Defaults with the given database, for tests and benchmarks: nothing is read from
    /// the environment, so a developer's `.env` cannot change a test.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            database_url: database_url.into(),
            redis_url: None,
            redis_channel: DEFAULT_REDIS_CHANNEL.to_owned(),
            fb_app_secret: None,
            fb_verify_token: None,
            fb_app_id: None,
            fb_graph_url: DEFAULT_GRAPH_URL.to_owned(),
            admin_email: None,
            admin_password: None,
            cors_origins: None,
            ws_idle_timeout_secs: DEFAULT_WS_IDLE_SECS,
            ws_init_timeout_secs: DEFAULT_WS_INIT_TIMEOUT_SECS,
            ws_max_subscriptions: DEFAULT_WS_MAX_SUBSCRIPTIONS,
            ws_max_connections_per_credential: DEFAULT_WS_MAX_CONNECTIONS_PER_CREDENTIAL,
            ws_max_connections: DEFAULT_WS_MAX_CONNECTIONS,
            log_format: "text".to_owned(),
            rust_log: "info".to_owned(),
            ingest_group_max: DEFAULT_INGEST_GROUP_MAX,
            ingest_writers: DEFAULT_INGEST_WRITERS,
            event_retention_secs: DEFAULT_EVENT_RETENTION_SECS,
            ws_send_queue: DEFAULT_WS_SEND_QUEUE,
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
            web_dir: PathBuf::from(DEFAULT_WEB_DIR),
            trusted_proxies: TrustedProxies::default(),
            graphiql_dir: PathBuf::from(DEFAULT_GRAPHIQL_DIR),
            query_deadline_ms: DEFAULT_QUERY_DEADLINE_MS,
            api_token_rate_per_second: DEFAULT_API_TOKEN_RATE_PER_SECOND,
            viewing_ttl_ms: DEFAULT_VIEWING_TTL_MS,
            max_upload_bytes: FACEBOOK_MAX_UPLOAD_BYTES,
            audit_retention_days: DEFAULT_AUDIT_RETENTION_DAYS,
        }
    }
}

/// Hand-written: URLs may hold passwords, and secrets print as `[redacted]`.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |url: &str| crate::db::redact_url(url);
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database_url", &redact(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact))
            .field("redis_channel", &self.redis_channel)
            .field("fb_app_secret", &self.fb_app_secret)
            .field("fb_verify_token", &self.fb_verify_token)
            .field("fb_app_id", &self.fb_app_id)
            .field("fb_graph_url", &self.fb_graph_url)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &self.admin_password)
            .field("cors_origins", &self.cors_origins)
            .field("ws_idle_timeout_secs", &self.ws_idle_timeout_secs)
            .field("ws_init_timeout_secs", &self.ws_init_timeout_secs)
            .field("ws_max_subscriptions", &self.ws_max_subscriptions)
            .field(
                "ws_max_connections_per_credential",
                &self.ws_max_connections_per_credential,
            )
            .field("ws_max_connections", &self.ws_max_connections)
            .field("log_format", &self.log_format)
            .field("rust_log", &self.rust_log)
            .field("ingest_group_max", &self.ingest_group_max)
            .field("ingest_writers", &self.ingest_writers)
            .field("event_retention_secs", &self.event_retention_secs)
            .field("ws_send_queue", &self.ws_send_queue)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("web_dir", &self.web_dir)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("graphiql_dir", &self.graphiql_dir)
            .field("query_deadline_ms", &self.query_deadline_ms)
            .field("api_token_rate_per_second", &self.api_token_rate_per_second)
            .field("viewing_ttl_ms", &self.viewing_ttl_ms)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("audit_retention_days", &self.audit_retention_days)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::parse_from(std::iter::once("api").chain(args.iter().copied()))
    }

    #[test]
    fn empty_or_blank_secrets_count_as_unset() {
        let config = parse(&[
            "--fb-app-secret=",
            "--fb-verify-token=   ",
            "--admin-email= ",
            "--admin-password=",
            "--redis-url=",
            "--database-url= ",
        ])
        .without_blank_values();
        assert!(config.fb_app_secret.is_none());
        assert!(config.fb_verify_token.is_none());
        assert!(config.admin_email.is_none());
        assert!(config.admin_password.is_none());
        assert!(config.redis_url.is_none());
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        let kept = parse(&["--fb-app-secret= s3cret "]).without_blank_values();
        assert_eq!(
            kept.fb_app_secret.as_ref().map(Secret::expose),
            Some(" s3cret ")
        );
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges() {
        let proxies: TrustedProxies = "10.0.0.1, 192.168.0.0/16,::1,, fd00::/8".parse().unwrap();
        assert!(proxies.contains("10.0.0.1".parse().unwrap()));
        assert!(proxies.contains(IpAddr::from([192, 168, 7, 9])));
        assert!(proxies.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(proxies.contains("fd12::1".parse().unwrap()));
        assert!(!proxies.contains(IpAddr::from([10, 0, 0, 2])));
        assert!("".parse::<TrustedProxies>().is_ok_and(|p| p.is_empty()));
        assert!("10.0.0.300".parse::<TrustedProxies>().is_err());
        assert!("proxy.internal".parse::<TrustedProxies>().is_err());
    }
}
