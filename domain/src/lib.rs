//! TicketView's business rules, and nothing else.
//!
//! Every aggregate is a decider: `decide(&state, &command, now)` returns the facts a command
//! produces (or the rule it breaks), and `evolve(state, &event)` folds one fact into the state.
//! No I/O, no async, no clock reads: time comes in as an argument, so every rule can be tested as a
//! story (given these facts, when this command, then these facts) and with property tests.
//!
//! Identifiers and values are newtypes parsed at the edge ([`ids`], [`money`]); past the edge the
//! code only sees valid values.

pub mod catalog;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod ordering;
pub mod payments;
pub mod schema;
pub mod waiting_room;

#[cfg(test)]
mod test_support;

pub use time::OffsetDateTime as Timestamp;
