//! The command side of TicketView: HTTP commands in, facts appended to JetStream out.
//!
//! A handler parses its request at the edge and calls one application service. Catalog commands
//! (create, publish) load the event's catalog aggregate, decide and append. Inventory commands
//! (holds, releases, expiries, sales) go to the event's single **writer** task, which decides the
//! queued commands in order against its in-memory aggregate and appends them as one commit (group
//! commit); across instances the expected-sequence check keeps it safe. The expiry reactor turns
//! fired timers into expiry commands for the writers.
//!
//! Orders and payments are cold aggregates ([`cold`]): loaded whole, decided, appended. Placing an
//! order checks its hold out and appends `OrderPlaced` ([`orders`]); the fulfilment process
//! manager ([`fulfilment`]) then charges the payment gateway ([`payments`]), sells the seats and
//! confirms the order with its tickets, or refunds it, exactly once.
//!
//! No other service is called: command-svc meets the rest of the system only on the streams.

pub mod app;
pub mod cancellation;
pub mod catalog;
pub mod cold;
pub mod config;
pub mod expiry;
pub mod fulfilment;
pub mod http;
pub mod inventory;
pub mod orders;
pub mod payments;
pub mod tickets;

pub use app::{build, build_with_gateway, App};
pub use config::Config;
