//! The projector's change notices, as query-svc reads them (core NATS, `<prefix>.notices.<projection>`).
//!
//! A copy of the projector's wire types (`projector::notice`): query-svc depends on nothing of the
//! projector's, and the JSON is the contract (`projector/README.md`). Unknown fields are ignored so
//! that the projector can add some first.

use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize)]
pub struct Notice {
    pub projection: String,
    #[serde(default)]
    pub stream: String,
    pub from: u64,
    pub to: u64,
    #[serde(default)]
    pub reset: bool,
    #[serde(default)]
    pub availability: Vec<AvailabilityRow>,
    #[serde(default)]
    pub holds: Vec<String>,
    #[serde(default)]
    pub events: Vec<Uuid>,
    /// The shards covered, each with its own range (a sharded projection; empty: every shard,
    /// from `from` to `to`).
    #[serde(default)]
    pub shards: Vec<ShardRange>,
}

/// One shard's checkpoint before and after the batch of a notice.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ShardRange {
    pub shard: u16,
    pub from: u64,
    pub to: u64,
}

/// One section's stored availability (see [`crate::read::SectionRow`]).
#[derive(Debug, Clone, Deserialize)]
pub struct AvailabilityRow {
    pub event_id: Uuid,
    pub section_id: String,
    pub ordinal: i32,
    pub seated: bool,
    pub capacity: i64,
    pub held: i64,
    pub sold: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_expiry: Option<OffsetDateTime>,
    pub version: u64,
}
