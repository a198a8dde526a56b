//! Configuration from flags and environment variables, with local defaults that match
//! `scripts/lib/infra.sh` (NATS on 14222, PostgreSQL on 15432).

use crate::partition::Partition;
use crate::projection::ProjectionName;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
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
    /// PostgreSQL holding the read models.
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
    /// Most commits fetched and applied in one PostgreSQL transaction.
    #[arg(long, env = "TV_PROJECTOR_BATCH", default_value_t = 500)]
    pub batch_size: usize,
    /// How long a fetch waits for the first commit of a batch, in milliseconds.
    #[arg(long, env = "TV_PROJECTOR_FETCH_WAIT_MS", default_value_t = 100)]
    pub fetch_wait_ms: u64,
    /// Address of the operations endpoints (`/healthz`, `/readyz`, `/metrics`) while running.
    #[arg(long, env = "TV_PROJECTOR_ADDR", default_value = "127.0.0.1:8082")]
    pub ops_addr: Option<std::net::SocketAddr>,
    /// Projections this instance runs (by default all of them on partition 0, only the sharded
    /// inventory on the other partitions).
    #[arg(long = "projection", value_enum)]
    pub projections: Vec<ProjectionName>,
    /// The partition of the sharded inventory projection this instance runs, `k/N`: it consumes
    /// the shards `s` with `s mod N = k` (0/1: every shard).
    #[arg(long, env = "TV_PROJECTOR_PARTITION", default_value = "0/1")]
    pub partition: Partition,
    /// `/readyz` answers 503 while a projection's oldest unapplied commit is older than this, in
    /// milliseconds.
    #[arg(long, env = "TV_READY_MAX_LAG_MS", default_value_t = 5_000)]
    pub ready_max_lag_ms: u64,
    /// Timeouts and the connection limit of the operations endpoints (`TV_HTTP_…`).
    #[command(flatten)]
    pub http: tv_kit::HttpConfig,
    /// Test hook: the live loop of every projection stops right after committing this many
    /// batches, before publishing notices and acking, as a crash would.
    #[arg(skip)]
    pub crash_after_batches: Option<u64>,
}

impl Config {
    /// A configuration for these servers with every other setting at its default.
    pub fn new(nats_url: &str, database_url: &str, prefix: &str) -> Self {
        Self {
            nats_url: nats_url.to_owned(),
            database_url: database_url.to_owned(),
            prefix: prefix.to_owned(),
            batch_size: 500,
            fetch_wait_ms: 100,
            ops_addr: None,
            projections: Vec::new(),
            partition: Partition::WHOLE,
            ready_max_lag_ms: 5_000,
            http: tv_kit::HttpConfig::default(),
            crash_after_batches: None,
        }
    }

    pub(crate) fn fetch_wait(&self) -> Duration {
        Duration::from_millis(self.fetch_wait_ms.max(1))
    }

    pub(crate) fn ready_max_lag(&self) -> Duration {
        Duration::from_millis(self.ready_max_lag_ms)
    }

    /// The projections selected; by default all of them on partition 0 and the sharded ones only
    /// on the others (an unsharded projection has one consumer, run by one instance).
    pub fn selected_projections(&self) -> Vec<ProjectionName> {
        if self.projections.is_empty() {
            ProjectionName::ALL
                .into_iter()
                .filter(|p| self.partition.index == 0 || p.shards() > 1)
                .collect()
        } else {
            let mut selected = self.projections.clone();
            selected.dedup();
            selected
        }
    }
}

/// `projector [run]`, `projector rebuild [--projection NAME]`, `projector status`.
#[derive(Debug, clap::Parser)]
#[command(
    name = "projector",
    version,
    about = "TicketView projector: folds JetStream events into PostgreSQL read models"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    /// Log format (`TV_LOG_FORMAT`).
    #[command(flatten)]
    pub log: tv_kit::LogConfig,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Run the live projections until stopped (the default).
    Run,
    /// Replay a stream from its start into fresh tables and swap them in, while the live service
    /// keeps answering from the old ones.
    Rebuild {
        /// The projection to rebuild (all when omitted).
        #[arg(long = "projection", value_enum)]
        projection: Option<ProjectionName>,
        /// No progress bar (for logs and scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// Print each projection's checkpoint (each shard's for a sharded one), its stream's last
    /// sequence and the lag.
    Status,
}
