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
    /// command-svc base URL, or several separated by commas: sale clients are spread over them
    /// round-robin (client n uses instance n mod count); setup and the audits use the first.
    #[arg(long, env = "TV_COMMAND_URL", default_value = "http://127.0.0.1:8080")]
    pub command_url: String,
    /// query-svc base URL (for the projection-lag probe and the read-model audit; `--no-lag`
    /// skips both).
    #[arg(long, env = "TV_QUERY_URL", default_value = "http://127.0.0.1:8081")]
    pub query_url: String,
    /// Skip the projection-lag probe and the read-model audit (no query-svc running).
    #[arg(long)]
    pub no_lag: bool,
    /// NATS (for the audit from the streams).
    /// Its user and password: TV_NATS_USER and TV_NATS_PASSWORD_FILE, or user:password in the URL.
    #[arg(
        long,
        env = "NATS_URL",
        hide_env_values = true,
        default_value = "nats://127.0.0.1:14222"
    )]
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
    /// Percentage of successful holds that go on to an order paid through the test gateway.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub order_percent: u8,
    /// Percentage of successful holds whose customer walks away: loadgen waits for them to expire
    /// and checks that their tickets returned to sale. The rest (neither ordered nor abandoned)
    /// are kept until the end of the run.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub abandon_percent: u8,
    /// The event's hold TTL (`hold_ttl_seconds`, 5 to 86,400): how long a hold lasts unpaid.
    /// Abandoned holds are waited for, so keep it short when abandoning.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(5..=86_400))]
    pub hold_ttl_seconds: u32,
    /// Percentage of orders paid with a card the test gateway declines.
    #[arg(long, default_value_t = 10)]
    pub decline_percent: u8,
    /// One request in this many is sent twice with the same Idempotency-Key.
    #[arg(long, default_value_t = 20)]
    pub retry_every: u64,
    /// Skip the audits (they read the whole inventory stream of the event, then query-svc).
    #[arg(long)]
    pub no_audit: bool,
    /// Skip only the read-model audit (one query-svc read per acknowledged hold and order).
    #[arg(long)]
    pub no_read_audit: bool,
    /// A short sale for the platform demo: 64 clients sell out a 12,000-seat venue (at most 5 s);
    /// 10% of the holds are abandoned and expire after 5 s, the others are ordered.
    #[arg(long)]
    pub demo: bool,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Buyers' pages watching the event's live availability (query-svc's event stream) during
    /// the sale: messages per second, delay from a hold's acknowledgement to the page, frames out
    /// of order (0: none).
    #[arg(long, default_value_t = 0)]
    pub watchers: usize,
    /// The waiting-room sale instead: an event behind a waiting room, buyers who join its queue,
    /// wait to be admitted and only then hold and buy (flags below, see `crate::queue`).
    #[command(flatten)]
    pub room: RoomArgs,
}

/// Flags of the waiting-room sale (`--waiting-room`).
#[derive(Debug, Clone, clap::Args)]
pub struct RoomArgs {
    /// Run the waiting-room sale.
    #[arg(long)]
    pub waiting_room: bool,
    /// waiting-room base URL.
    #[arg(
        long,
        env = "TV_WAITING_ROOM_URL",
        default_value = "http://127.0.0.1:8084"
    )]
    pub waiting_room_url: String,
    /// Customers who join the queue.
    #[arg(long, default_value_t = 2_000)]
    pub buyers: usize,
    /// Percentage of the buyers who join after the sale opened (the others join the prequeue).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub late_percent: u8,
    /// Percentage of the buyers who follow their place on the SSE stream instead of polling.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub stream_percent: u8,
    /// Joins (and, in the poll flood, polls) in flight at once.
    #[arg(long, default_value_t = 256)]
    pub join_concurrency: usize,
    /// How long the prequeue lasts before the sale opens, in seconds (it opens as loadgen starts).
    #[arg(long, default_value_t = 5.0)]
    pub prequeue_seconds: f64,
    /// The waiting room's `admit_per_minute`.
    #[arg(long, default_value_t = 6_000)]
    pub admit_per_minute: u32,
    /// The waiting room's `max_active`.
    #[arg(long, default_value_t = 500)]
    pub max_active: u32,
    /// The waiting room's `admission_ttl_seconds` (30 or more).
    #[arg(long, default_value_t = 60)]
    pub admission_ttl_seconds: u32,
    /// Buyers only join: nobody follows their place or buys (a join flood and the fairness of a
    /// large prequeue; the room still admits at its rate).
    #[arg(long)]
    pub join_only: bool,
    /// After the sale, flood `GET …/queue/me` for this many seconds, then `GET /healthz` of the
    /// waiting room as long as a baseline (0: no flood).
    #[arg(long, default_value_t = 0.0)]
    pub poll_flood_seconds: f64,
    /// Before the waiting-room sale, a plain hot-GA flood of the same size against the same
    /// number of seats, for a side-by-side comparison; seats are `buyers / 100` in both.
    #[arg(long)]
    pub storm: bool,
}

impl Cli {
    /// The demo overrides the load to something short and readable.
    pub fn effective(&self) -> Cli {
        let mut cli = self.clone();
        if cli.demo {
            cli.scenario = Scenario::SpreadSeats;
            cli.clients = 64;
            cli.seconds = 5.0;
            cli.order_percent = 90;
            cli.abandon_percent = 10;
            cli.hold_ttl_seconds = 5;
            cli.sections = 10;
            cli.rows = 30;
            cli.seats_per_row = 40;
            if cli.room.waiting_room {
                // A queue of 600 admitted at 100 a second, a third of them joining late.
                cli.room.buyers = 600;
                cli.room.late_percent = 30;
                cli.room.prequeue_seconds = 3.0;
                cli.room.admit_per_minute = 6_000;
                cli.room.max_active = 200;
                cli.seconds = 12.0;
            }
        }
        cli
    }

    /// Flags that make sense only together.
    pub fn validate(&self) -> anyhow::Result<()> {
        if u16::from(self.order_percent) + u16::from(self.abandon_percent) > 100 {
            anyhow::bail!(
                "--order-percent ({}) and --abandon-percent ({}) add up to more than 100",
                self.order_percent,
                self.abandon_percent
            );
        }
        Ok(())
    }

    /// Whether the read-model audit runs (it needs query-svc).
    pub fn read_audit(&self) -> bool {
        !(self.no_audit || self.no_lag || self.no_read_audit)
    }
}
