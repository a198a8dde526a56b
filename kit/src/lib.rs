//! TicketView's service kit: what every service does the same way, in one place.
//!
//! It serves HTTP: [`serve`] accepts connections under a limit, closes a connection whose
//! request head does not arrive in time (slowloris) and drains on shutdown; [`deadlines`] bounds
//! how long a request's body may take to arrive and how long a handler may take to answer, on
//! the routes that are not streams; [`rate`] keeps per-client rate limits in bounded memory.
//! [`HttpConfig`] is the flags and variables of all three, flattened into each service's own
//! configuration. Every refusal is the API's JSON error ([`error`]).
//!
//! [`cors`] answers the web pages' cross-origin calls for the origins in `TV_WEB_ORIGINS`.
//!
//! And the rest of what services share: the signal they stop on ([`shutdown_signal`]), the
//! PostgreSQL pool ([`pg::pool`]) and the one log setting ([`LogConfig`], `TV_LOG_FORMAT`). It
//! knows nothing of ticketing.

pub mod config;
pub mod cors;
pub mod deadlines;
pub mod error;
pub mod logging;
pub mod pg;
pub mod rate;
pub mod serve;
mod shutdown;

pub use config::HttpConfig;
pub use cors::WebOrigins;
pub use deadlines::Deadlines;
pub use logging::{LogConfig, LogFormat};
pub use serve::{serve, ServeSettings};
pub use shutdown::shutdown_signal;
