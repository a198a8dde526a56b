//! The waiting room: a service of its own in front of the sale of an event created with a
//! `waiting_room` (`../docs/DECISIONS.md`, "The waiting room").
//!
//! Customers join an event's queue; from `opens_at` to `sale_opens_at` they join the prequeue,
//! which is put in a uniformly random order when the sale opens, and later joiners go to the back.
//! An admitter lets them in at `admit_per_minute`, never more than `max_active` at once, and an
//! admitted customer gets a signed admission token that command-svc checks offline on every hold.
//!
//! Nothing is kept in one process's memory only. The queue stream holds, per event, the room's
//! own facts on one subject (written by the admitter, with the expected-sequence check) and each
//! customer's place on a subject of its own (written with "expected last subject sequence 0", so a
//! customer has one place whatever the retries and instances). Every instance folds the whole
//! stream into memory ([`rooms`]) and answers status polls from there: no round trip per poll.

pub mod admitter;
mod app;
mod catalog;
mod config;
mod confirmations;
mod feed;
mod http;
mod limits;
mod metrics;
mod places;
pub mod rooms;
mod sold_out;
pub mod subjects;
mod view;

pub use app::{build, App};
pub use config::Config;
pub use view::QueueView;
