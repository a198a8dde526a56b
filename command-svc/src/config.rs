//! Configuration from flags and environment variables, with local defaults.

use crate::fulfilment::HaltPoint;
use crate::payments::{GatewayConfig, TestGatewaySettings};
use std::net::SocketAddr;
use std::time::Duration;

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
    /// The most commands one writer decides into one commit.
    #[arg(long, env = "TV_MAX_BATCH", default_value_t = 512)]
    pub max_batch: usize,
    /// Commands queued per event before new ones are refused with 429.
    #[arg(long, env = "TV_QUEUE_DEPTH", default_value_t = 8192)]
    pub queue_depth: usize,
    /// A writer saves a snapshot of its aggregate after this many commits.
    #[arg(long, env = "TV_SNAPSHOT_EVERY", default_value_t = 1000)]
    pub snapshot_every: u64,
    /// Seconds a writer waits for a command before it saves a snapshot and stops (the next
    /// command restores it from that snapshot).
    #[arg(long, env = "TV_WRITER_IDLE_SECS", default_value_t = 300.0)]
    pub writer_idle_secs: f64,
    /// The most bytes of facts in one commit; 0 for the NATS server's `max_payload` less headroom,
    /// which also caps any value given here.
    #[arg(long, env = "TV_MAX_COMMIT_BYTES", default_value_t = 0)]
    pub max_commit_bytes: usize,
    /// Run the expiry reactor (turns fired hold timers into expiry commands).
    #[arg(long, env = "TV_EXPIRY_REACTOR", default_value_t = true, action = clap::ArgAction::Set)]
    pub expiry_reactor: bool,
    /// Run the fulfilment reactor (orders → payment → seats → tickets, or refunds).
    #[arg(long, env = "TV_FULFILMENT_REACTOR", default_value_t = true, action = clap::ArgAction::Set)]
    pub fulfilment_reactor: bool,
    /// Seconds a delivered order commit may stay unacknowledged (and not marked in progress,
    /// which a live instance does while it works) before it is delivered again: how long the
    /// orders of a crashed instance wait for another.
    #[arg(long, env = "TV_FULFILMENT_ACK_WAIT_SECS", default_value_t = 1)]
    pub fulfilment_ack_wait_secs: u64,
    /// The payment gateway (`TV_PAYMENT_GATEWAY=http|test`, required) and its secrets.
    #[command(flatten)]
    pub gateway: GatewayConfig,
    /// Test payment gateway: latency added to every call, in milliseconds.
    #[arg(long, env = "TV_PAYMENT_LATENCY_MS", default_value_t = 0)]
    pub payment_latency_ms: u64,
    /// Test payment gateway: how long a `tok_slow` charge takes, in milliseconds.
    #[arg(long, env = "TV_PAYMENT_SLOW_MS", default_value_t = 2000)]
    pub payment_slow_ms: u64,
    /// Test payment gateway: the share of calls (0 to 1) that end without an answer (half lose
    /// the request, half lose the answer).
    #[arg(long, env = "TV_PAYMENT_FAILURE_RATE", default_value_t = 0.0)]
    pub payment_failure_rate: f64,
    /// Bearer tokens: the issuers' public keys (`TV_JWT_PUBLIC_KEYS_FILE`) or the shared secret
    /// (`TV_JWT_SECRET_FILE`), one of them required, and the issuer they must name.
    #[command(flatten)]
    pub auth: auth::AuthConfig,
    /// Admission tokens of waiting rooms: the key they are signed with
    /// (`TV_ADMISSION_SECRET_FILE` or `TV_ADMISSION_SECRET`; without one, events sold through a
    /// waiting room admit nobody).
    #[command(flatten)]
    pub admission: auth::AdmissionConfig,
    /// The key ticket codes are signed with (`TV_TICKET_SECRET_FILE` or `TV_TICKET_SECRET`,
    /// required; see `domain::ordering::TicketKey`).
    #[command(flatten)]
    pub tickets: auth::TicketSecretConfig,
    /// Commands (`POST` requests) one client address may send per second, bursts of twice that;
    /// more are `429 rate_limited`. A load test comes from one address; behind a proxy that hides
    /// client addresses, every client shares the proxy's: raise it there.
    #[arg(long, env = "TV_COMMANDS_PER_ADDRESS", default_value_t = 2_000)]
    pub commands_per_address: u32,
    /// Commands one token subject (a customer, an operator, a scanner) may send per second,
    /// bursts of twice that, from any number of addresses; more are `429 rate_limited`.
    #[arg(long, env = "TV_COMMANDS_PER_CUSTOMER", default_value_t = 50)]
    pub commands_per_customer: u32,
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
    /// Test hook: the fulfilment process manager stops for good at this point, as a crash would.
    #[arg(skip)]
    pub fulfilment_halt: Option<HaltPoint>,
    /// One owner per event across instances, through leases (always, but in tests of what keeps
    /// two writers of one event apart without them: the append's expected-sequence check).
    #[arg(skip = true)]
    pub event_ownership: bool,
}

impl Config {
    /// Defaults for a test: any free port, the given NATS server and prefix, the tests' public
    /// token secret (`auth::testing`).
    pub fn for_test(nats_url: &str, prefix: &str) -> Self {
        Self {
            addr: "127.0.0.1:0".parse().expect("a valid address"),
            nats_url: nats_url.to_owned(),
            prefix: prefix.to_owned(),
            max_batch: 512,
            queue_depth: 8192,
            snapshot_every: 1000,
            writer_idle_secs: 300.0,
            max_commit_bytes: 0,
            expiry_reactor: true,
            fulfilment_reactor: true,
            fulfilment_ack_wait_secs: 1,
            gateway: GatewayConfig::test(),
            payment_latency_ms: 0,
            payment_slow_ms: 2000,
            payment_failure_rate: 0.0,
            auth: auth::testing::config(),
            admission: auth::testing::admission_config(),
            tickets: auth::testing::ticket_secret_config(),
            commands_per_address: 2_000,
            commands_per_customer: 50,
            http: tv_kit::HttpConfig::default(),
            web: tv_kit::WebOrigins::default(),
            log: tv_kit::LogConfig::default(),
            fulfilment_halt: None,
            event_ownership: true,
        }
    }
}

impl Config {
    /// The test gateway's behaviour, from the flags.
    pub fn test_gateway(&self) -> TestGatewaySettings {
        TestGatewaySettings {
            latency: Duration::from_millis(self.payment_latency_ms),
            slow_delay: Duration::from_millis(self.payment_slow_ms),
            failure_rate: self.payment_failure_rate.clamp(0.0, 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_configuration_s_debug_output_holds_no_token_secret() {
        let config = super::Config::for_test("nats://127.0.0.1:14222", "t");
        let shown = format!("{config:?}");
        assert!(!shown.contains(auth::testing::SECRET), "{shown}");
        assert!(!shown.contains(auth::testing::ADMISSION_SECRET), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }

    /// Every flag, the flattened token and admission settings included, has a name of its own:
    /// clap checks that only when the binary parses its arguments.
    #[test]
    fn the_command_line_is_well_formed() {
        <super::Config as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn the_payment_gateway_must_be_named_and_its_secrets_never_show() {
        use clap::Parser;
        let unnamed = super::Config::try_parse_from(["command-svc", "--jwt-secret", "x"]);
        let error = unnamed.unwrap_err().to_string();
        assert!(error.contains("--payment-gateway"), "{error}");
        let config = super::Config::try_parse_from([
            "command-svc",
            "--payment-gateway",
            "http",
            "--payment-gateway-url",
            "https://gateway.example",
            "--payment-api-key",
            "sk_live_never_shown",
            "--payment-webhook-secret",
            "whsec_never_shown",
        ])
        .unwrap();
        assert_eq!(config.gateway.kind, crate::payments::GatewayKind::Http);
        let shown = format!("{config:?}");
        assert!(!shown.contains("never_shown"), "{shown}");
    }

    #[test]
    fn the_admission_key_is_read_from_its_own_variables() {
        use clap::Parser;
        let config = super::Config::try_parse_from([
            "command-svc",
            "--payment-gateway",
            "test",
            "--jwt-secret",
            auth::testing::SECRET,
            "--admission-secret",
            auth::testing::ADMISSION_SECRET,
        ])
        .unwrap();
        assert!(config.admission.key(&config.auth).unwrap().is_some());
    }
}
