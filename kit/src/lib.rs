//! TicketView's service kit: what every service does the same way, in one place.
//!
//! Today it serves HTTP: [`serve`] accepts connections under a limit, closes a connection whose
//! request head does not arrive in time (slowloris) and drains on shutdown; [`deadlines`] bounds
//! how long a request's body may take to arrive and how long a handler may take to answer, on
//! the routes that are not streams; [`rate`] keeps per-client rate limits in bounded memory.
//! [`HttpConfig`] is the flags and variables of all three, flattened into each service's own
//! configuration. Every refusal is the API's JSON error ([`error`]).
//!
//! It is meant to grow into the rest of what services share (shutdown, configuration, database
//! pools, logging); it knows nothing of ticketing.

pub mod config;
pub mod deadlines;
pub mod error;
pub mod rate;
pub mod serve;

pub use config::HttpConfig;
pub use deadlines::Deadlines;
pub use serve::{serve, ServeSettings};
