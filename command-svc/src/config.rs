//! Configuration from flags and environment variables, with local defaults.

use std::net::SocketAddr;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "command-svc",
    about = "TicketView command service (holds, events, orders)"
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TV_COMMAND_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// NATS server with JetStream (2.12 or newer).
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:14222")]
    pub nats_url: String,
    /// Prefix of every stream and subject (tests use their own).
    #[arg(long, env = "TV_PREFIX", default_value = "tv")]
    pub prefix: String,
    /// The most commands one writer decides into one commit.
    #[arg(long, env = "TV_MAX_BATCH", default_value_t = 512)]
    pub max_batch: usize,
    /// Commands queued per event before new ones are refused with 429.
    #[arg(long, env = "TV_QUEUE_DEPTH", default_value_t = 8192)]
    pub queue_depth: usize,
    /// A writer saves a snapshot of its aggregate after this many commits.
    #[arg(long, env = "TV_SNAPSHOT_EVERY", default_value_t = 1000)]
    pub snapshot_every: u64,
    /// Run the expiry reactor (turns fired hold timers into expiry commands).
    #[arg(long, env = "TV_EXPIRY_REACTOR", default_value_t = true, action = clap::ArgAction::Set)]
    pub expiry_reactor: bool,
    /// Log format: `text` for people, `json` for machines.
    #[arg(long, env = "TV_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

impl Config {
    /// Defaults for a test: any free port, the given NATS server and prefix.
    pub fn for_test(nats_url: &str, prefix: &str) -> Self {
        Self {
            addr: "127.0.0.1:0".parse().expect("a valid address"),
            nats_url: nats_url.to_owned(),
            prefix: prefix.to_owned(),
            max_batch: 512,
            queue_depth: 8192,
            snapshot_every: 1000,
            expiry_reactor: true,
            log_format: "text".into(),
        }
    }
}
