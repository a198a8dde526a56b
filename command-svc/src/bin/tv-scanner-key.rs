//! `tv-scanner-key`: prints an event's scanner key, the key a scanner at that event's gates checks
//! ticket codes with offline (docs/TICKETS.md).
//!
//! ```text
//! TV_TICKET_SECRET_FILE=.data/ticket-secret tv-scanner-key --event 0b6f…   # 64 hex digits
//! ```
//!
//! It reads the same ticket key command-svc signs codes with. The scanner key verifies that one
//! event's codes and cannot sign any code, so it may be loaded onto the scanning devices.

use auth::{AdmissionConfig, AuthConfig, TicketSecretConfig};
use clap::Parser;
use domain::ids::EventId;
use domain::ordering::TicketKey;

#[derive(Debug, clap::Parser)]
#[command(
    name = "tv-scanner-key",
    about = "Print an event's scanner key (64 hex digits), for checking its ticket codes offline"
)]
struct Cli {
    /// The event whose gates the key is for.
    #[arg(long, value_name = "EVENT_ID")]
    event: uuid::Uuid,
    #[command(flatten)]
    ticket: TicketSecretConfig,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Only the ticket key is read here: no bearer or admission secret to tell it apart from.
    let secret = cli
        .ticket
        .secret(&AuthConfig::default(), &AdmissionConfig::default())?;
    let key = TicketKey::new(secret.expose()).scanner_key(EventId::from_uuid(cli.event));
    println!("{}", key.to_hex());
    Ok(())
}
