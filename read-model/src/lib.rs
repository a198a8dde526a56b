//! The read-model contract: what the projector writes into PostgreSQL and query-svc reads back,
//! written once for both.
//!
//! - [`Projection`]: the projections, their streams, shards and the tables each owns ([`tables`]).
//! - [`status`]: the words stored in `status` columns, with the domain's meaning, and the words
//!   the API shows for them at a given `now` (lazy expiry).
//! - [`rows`]: the rows as both sides see them.
//! - [`seat_map`]: a seated section's seats, packed in one row.
//! - [`Version`]: the stream position of a row's last change.
//! - [`notice`]: the change notices the projector publishes after each batch.
//!
//! A new projection adds a variant to [`Projection`], its tables to [`tables`], its rows to
//! [`rows`] and, if query-svc caches it, its notice field; docs/DECISIONS.md tells the rest.

pub mod notice;
mod position;
mod projection;
pub mod rows;
pub mod seat_map;
pub mod status;
pub mod tables;

pub use notice::{AvailabilityRow, Notice, ShardRange};
pub use position::Version;
pub use projection::{event_shard, hold_shard, Projection};
