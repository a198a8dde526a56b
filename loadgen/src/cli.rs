//! Flags of the load generator.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Everyone holds 1-2 tickets in one general-admission section.
    HotGa,
    /// Everyone holds 2 adjacent named seats at random in a large seated venue.
    SpreadSeats,
}

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "loadgen",
    about = "TicketView flash-sale load generator and auditor"
)]
pub struct Cli {
    /// command-svc base URL.
    #[arg(long, env = "TV_COMMAND_URL", default_value = "http://127.0.0.1:8080")]
    pub command_url: String,
    /// query-svc base URL (for the projection-lag probe; `--no-lag` skips it).
    #[arg(long, env = "TV_QUERY_URL", default_value = "http://127.0.0.1:8081")]
    pub query_url: String,
    /// Skip the projection-lag probe (no query-svc running).
    #[arg(long)]
    pub no_lag: bool,
    /// NATS (for the audit from the streams).
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:14222")]
    pub nats_url: String,
    /// Stream prefix the services use.
    #[arg(long, env = "TV_PREFIX", default_value = "tv")]
    pub prefix: String,
    #[arg(long, value_enum, default_value = "hot-ga")]
    pub scenario: Scenario,
    /// Concurrent clients.
    #[arg(long, default_value_t = 256)]
    pub clients: usize,
    /// How long the sale runs, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Capacity of the general-admission section (hot-ga).
    #[arg(long, default_value_t = 1_000_000)]
    pub ga_capacity: u32,
    /// Seated sections, rows per section and seats per row (spread-seats).
    #[arg(long, default_value_t = 20)]
    pub sections: u32,
    #[arg(long, default_value_t = 100)]
    pub rows: u32,
    #[arg(long, default_value_t = 100)]
    pub seats_per_row: u32,
    /// Percentage of successful holds that go on to an order paid through the test gateway (the
    /// others are abandoned and expire).
    #[arg(long, default_value_t = 0)]
    pub order_percent: u8,
    /// Percentage of orders paid with a card the test gateway declines.
    #[arg(long, default_value_t = 10)]
    pub decline_percent: u8,
    /// One request in this many is sent twice with the same Idempotency-Key.
    #[arg(long, default_value_t = 20)]
    pub retry_every: u64,
    /// Skip the audit (it reads the whole inventory stream of the event).
    #[arg(long)]
    pub no_audit: bool,
    /// A short sale for the platform demo: 64 clients sell out a 12,000-seat venue (at most 5 s).
    #[arg(long)]
    pub demo: bool,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl Cli {
    /// The demo overrides the load to something short and readable.
    pub fn effective(&self) -> Cli {
        let mut cli = self.clone();
        if cli.demo {
            cli.scenario = Scenario::SpreadSeats;
            cli.clients = 64;
            cli.seconds = 5.0;
            cli.order_percent = 50;
            cli.sections = 10;
            cli.rows = 30;
            cli.seats_per_row = 40;
        }
        cli
    }
}
