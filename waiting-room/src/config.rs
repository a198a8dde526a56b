//! Configuration from flags and environment variables, with local defaults.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "waiting-room",
    about = "TicketView waiting room (queues, fair admission, admission tokens)"
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TV_WAITING_ROOM_ADDR", default_value = "127.0.0.1:8084")]
    pub addr: SocketAddr,
    /// NATS server with JetStream (2.12 or newer).
    /// Its user and password: TV_NATS_USER and TV_NATS_PASSWORD_FILE, or user:password in the URL.
    #[arg(
        long,
        env = "NATS_URL",
        hide_env_values = true,
        default_value = "nats://127.0.0.1:14222"
    )]
    pub nats_url: String,
    /// Prefix of every stream and subject (tests use their own).
    #[arg(long, env = "TV_PREFIX", default_value = "tv")]
    pub prefix: String,
    /// Joins a customer may make per second (each after the first answers with the same place).
    #[arg(long, env = "TV_QUEUE_JOINS_PER_CUSTOMER", default_value_t = 2)]
    pub joins_per_customer: u32,
    /// Joins one client address may make per second (a proxy in front: raise it).
    #[arg(long, env = "TV_QUEUE_JOINS_PER_ADDRESS", default_value_t = 100)]
    pub joins_per_address: u32,
    /// Milliseconds after `sale_opens_at` before the prequeue is shuffled: prequeue joins decided
    /// just before the opening land in the stream first.
    #[arg(long, env = "TV_QUEUE_SHUFFLE_GRACE_MS", default_value_t = 250)]
    pub shuffle_grace_ms: u64,
    /// Bearer tokens: the issuers' public keys (`TV_JWT_PUBLIC_KEYS_FILE`) or the shared secret
    /// (`TV_JWT_SECRET_FILE`), one of them required, and the issuer they must name.
    #[command(flatten)]
    pub auth: auth::AuthConfig,
    /// Admission tokens: the key they are signed with (`TV_ADMISSION_SECRET_FILE` or
    /// `TV_ADMISSION_SECRET`, required).
    #[command(flatten)]
    pub admission: auth::AdmissionConfig,
    /// Timeouts and the connection limit of the HTTP server (`TV_HTTP_…`).
    #[command(flatten)]
    pub http: tv_kit::HttpConfig,
    /// Origins whose web pages may call this service from a browser (`TV_WEB_ORIGINS`; unset:
    /// query-svc's default origin, `http://127.0.0.1:8081` and `http://localhost:8081`).
    #[command(flatten)]
    pub web: tv_kit::WebOrigins,
    /// Log format (`TV_LOG_FORMAT`).
    #[command(flatten)]
    pub log: tv_kit::LogConfig,
}

impl Config {
    /// Defaults for a test: any free port, the given NATS server and prefix, the tests' public
    /// secrets (`auth::testing`), no rate limit a test would hit by accident.
    pub fn for_test(nats_url: &str, prefix: &str) -> Self {
        Self {
            addr: "127.0.0.1:0".parse().expect("a valid address"),
            nats_url: nats_url.to_owned(),
            prefix: prefix.to_owned(),
            joins_per_customer: 1_000,
            joins_per_address: 1_000_000,
            shuffle_grace_ms: 250,
            auth: auth::testing::config(),
            admission: auth::testing::admission_config(),
            http: tv_kit::HttpConfig::default(),
            web: tv_kit::WebOrigins::default(),
            log: tv_kit::LogConfig::default(),
        }
    }

    pub fn shuffle_grace(&self) -> Duration {
        Duration::from_millis(self.shuffle_grace_ms)
    }
}
