//! Configuration from flags and environment variables, with local defaults that match
//! `scripts/lib/infra.sh` (NATS on 14222, PostgreSQL on 15432).

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "query-svc",
    version,
    about = "TicketView query service: HTTP reads from cached read models"
)]
pub struct Config {
    /// NATS server (change notices arrive on core NATS).
    /// Its user and password: TV_NATS_USER and TV_NATS_PASSWORD_FILE, or user:password in the URL.
    #[arg(
        long,
        env = "NATS_URL",
        hide_env_values = true,
        default_value = "nats://127.0.0.1:14222"
    )]
    pub nats_url: String,
    /// PostgreSQL holding the read models (written by the projector).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:15432/postgres"
    )]
    pub database_url: String,
    /// Prefix of stream and subject names (tests use their own).
    #[arg(long, env = "TV_PREFIX", default_value = "tv")]
    pub prefix: String,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "TV_QUERY_BIND", default_value = "127.0.0.1:8081")]
    pub bind: SocketAddr,
    /// Longest wait of a query with `?after=` for the read model to catch up, in milliseconds.
    #[arg(long, env = "TV_QUERY_AFTER_WAIT_MS", default_value_t = 2_000)]
    pub after_wait_ms: u64,
    /// Most queries waiting at once for `?after=` to be reached; one more is answered `503
    /// not_caught_up` with `Retry-After` at once (guards memory and the notice fan-out).
    #[arg(long, env = "TV_QUERY_MAX_WAITERS", default_value_t = 4_096)]
    pub max_waiters: usize,
    /// Live streams (`…/availability/stream`) open at once; one more is `503 too_many_streams`.
    #[arg(long, env = "TV_QUERY_MAX_STREAMS", default_value_t = 20_000)]
    pub max_streams: usize,
    /// Most bytes each cache holds (six caches: events, event details, availability, seat maps,
    /// holds, due holds), by the estimated weight of its entries; guards memory against requests
    /// for many or large keys.
    #[arg(long, env = "TV_QUERY_CACHE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub cache_bytes: u64,
    /// PostgreSQL connections.
    #[arg(long, env = "TV_QUERY_PG_POOL", default_value_t = 16)]
    pub pg_pool_size: usize,
    /// Bearer tokens (holds and orders are read by their customer or an operator): the issuers'
    /// public keys (`TV_JWT_PUBLIC_KEYS_FILE`) or the shared secret (`TV_JWT_SECRET_FILE`), one
    /// of them required, and the issuer they must name.
    #[command(flatten)]
    pub auth: auth::AuthConfig,
    /// `/readyz` answers 503 while a projection's oldest unapplied commit is older than this, in
    /// milliseconds.
    #[arg(long, env = "TV_READY_MAX_LAG_MS", default_value_t = 5_000)]
    pub ready_max_lag_ms: u64,
    /// Timeouts and the connection limit of the HTTP server (`TV_HTTP_…`).
    #[command(flatten)]
    pub http: tv_kit::HttpConfig,
    /// The web pages under `/app/`, their view of the services, the origins that may call
    /// query-svc from a browser and the demo sign-in (`TV_WEB_…`, `TV_DEMO_SIGNIN`).
    #[command(flatten)]
    pub web: crate::WebConfig,
    /// Log format (`TV_LOG_FORMAT`).
    #[command(flatten)]
    pub log: tv_kit::LogConfig,
}

impl Config {
    /// A configuration for these servers with every other setting at its default, and no token
    /// secret: set `auth` before `build`.
    pub fn new(nats_url: &str, database_url: &str, prefix: &str) -> Self {
        Self {
            nats_url: nats_url.to_owned(),
            database_url: database_url.to_owned(),
            prefix: prefix.to_owned(),
            bind: "127.0.0.1:8081".parse().expect("valid address"),
            after_wait_ms: 2_000,
            max_waiters: 4_096,
            max_streams: 20_000,
            cache_bytes: 64 * 1024 * 1024,
            pg_pool_size: 16,
            ready_max_lag_ms: 5_000,
            auth: auth::AuthConfig::default(),
            http: tv_kit::HttpConfig::default(),
            web: crate::WebConfig::default(),
            log: tv_kit::LogConfig::default(),
        }
    }

    /// [`Config::new`] with the tests' public token secret (`auth::testing`).
    pub fn for_test(nats_url: &str, database_url: &str, prefix: &str) -> Self {
        Self {
            auth: auth::testing::config(),
            ..Self::new(nats_url, database_url, prefix)
        }
    }

    pub(crate) fn ready_max_lag(&self) -> Duration {
        Duration::from_millis(self.ready_max_lag_ms)
    }

    pub(crate) fn after_wait(&self) -> Duration {
        Duration::from_millis(self.after_wait_ms)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_configuration_s_debug_output_holds_no_token_secret() {
        let config = super::Config::for_test("nats://127.0.0.1:14222", "postgres://x@y/z", "t");
        let shown = format!("{config:?}");
        assert!(!shown.contains(auth::testing::SECRET), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}
