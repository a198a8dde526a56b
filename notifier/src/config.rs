//! Configuration from flags and environment variables, with local defaults that match
//! `scripts/lib/infra.sh` (NATS on 14222, PostgreSQL on 15432).

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "notifier",
    version,
    about = "TicketView notifier: one notice per order fact, into a PostgreSQL outbox"
)]
pub struct Config {
    /// NATS server with JetStream.
    /// Its user and password: TV_NATS_USER and TV_NATS_PASSWORD_FILE, or user:password in the URL.
    #[arg(
        long,
        env = "NATS_URL",
        hide_env_values = true,
        default_value = "nats://127.0.0.1:14222"
    )]
    pub nats_url: String,
    /// PostgreSQL holding the outbox (`notifications`).
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
    /// Most commits fetched at once.
    #[arg(long, env = "TV_NOTIFIER_BATCH", default_value_t = 200)]
    pub batch_size: usize,
    /// How long a fetch waits for the first commit, in milliseconds.
    #[arg(long, env = "TV_NOTIFIER_FETCH_WAIT_MS", default_value_t = 500)]
    pub fetch_wait_ms: u64,
    /// Seconds a delivered commit may stay unacked (and not marked in progress, which a live
    /// notifier does while it works) before it is delivered again: how long the notices of a
    /// crashed notifier wait.
    #[arg(long, env = "TV_NOTIFIER_ACK_WAIT_SECS", default_value_t = 1)]
    pub ack_wait_secs: u64,
    /// Address of the operations endpoints (`/healthz`, `/readyz`, `/metrics`); port 0 picks a
    /// free one.
    #[arg(long, env = "TV_NOTIFIER_ADDR", default_value = "127.0.0.1:8083")]
    pub ops_addr: Option<SocketAddr>,
    /// Timeouts and the connection limit of the operations endpoints (`TV_HTTP_…`).
    #[command(flatten)]
    pub http: tv_kit::HttpConfig,
    /// Log format (`TV_LOG_FORMAT`).
    #[command(flatten)]
    pub log: tv_kit::LogConfig,
}

impl Config {
    /// A configuration for these servers with every other setting at its default, and no
    /// operations endpoints (tests that want them set `ops_addr` to port 0).
    pub fn new(nats_url: &str, database_url: &str, prefix: &str) -> Self {
        Self {
            nats_url: nats_url.to_owned(),
            database_url: database_url.to_owned(),
            prefix: prefix.to_owned(),
            batch_size: 200,
            fetch_wait_ms: 500,
            ack_wait_secs: 1,
            ops_addr: None,
            http: tv_kit::HttpConfig::default(),
            log: tv_kit::LogConfig::default(),
        }
    }

    pub(crate) fn fetch_wait(&self) -> Duration {
        Duration::from_millis(self.fetch_wait_ms.max(1))
    }
}
