//! Change notices: what the projector tells query-svc after each committed batch, on core NATS
//! subject `<prefix>.notices.<projection>` (in no stream: a lost notice is detected by its range
//! and repaired by reloading from PostgreSQL).
//!
//! One notice per batch. `from`/`to` are the checkpoint before and after the batch, so a reader
//! sees a gap when `from` is past what it has seen. A sharded projection (inventory) checkpoints
//! per shard and its partitions publish side by side, so its notices also list `shards`, each
//! with its own `from`/`to`: a reader keeps coverage per shard, and a notice from one partition
//! never moves another partition's shards. A notice without `shards` covers every shard. The hot rows (availability per section) travel
//! whole, with their version (the stream sequence of their last change), so a reader updates its
//! cache in place and never replaces a newer row with an older one; colder things (holds, seat
//! maps, events) are named so that a reader drops its cached copy. `reset` tells a reader to drop
//! everything of this projection (after a rebuild swap, or when a batch changed too much to list).
//!
//! The projector publishes and query-svc reads these very types; the JSON is also a contract for
//! any other reader, documented in `projector/README.md`. Unknown fields are ignored, so that the
//! projector can add some first.

use crate::position::Version;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A notice larger than this is replaced by a `reset` notice (core NATS payloads are bounded).
pub const MAX_NOTICE_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub projection: String,
    /// The prefixed stream name (`TV_INVENTORY`): the `<STREAM>` of a position.
    pub stream: String,
    pub from: u64,
    pub to: u64,
    #[serde(default)]
    pub reset: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability: Vec<AvailabilityRow>,
    /// Holds whose row changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<String>,
    /// Events whose listing or detail changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Uuid>,
    /// The shards this notice covers, each with its checkpoint before and after the batch (a
    /// sharded projection only; empty: every shard, from `from` to `to`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardRange>,
}

/// One shard's checkpoint before and after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRange {
    pub shard: u16,
    pub from: u64,
    pub to: u64,
}

/// One section's availability as stored (`availability`, one row per section of an opened
/// inventory): `held` counts every pending hold as projected; a reader subtracts the holds past
/// their `expires_at` itself, which it needs to look for only from `next_expiry` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityRow {
    pub event_id: Uuid,
    pub section_id: String,
    pub ordinal: i32,
    pub seated: bool,
    pub capacity: i64,
    pub held: i64,
    pub sold: i64,
    /// Seats taken off sale by operators' blocks (absent from notices of older projectors: 0).
    #[serde(default)]
    pub blocked: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_expiry: Option<OffsetDateTime>,
    /// The stream sequence of the row's last change.
    pub version: Version,
}

impl Notice {
    pub fn with_range(mut self, from: u64, to: u64) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    pub fn with_shards(mut self, shards: Vec<ShardRange>) -> Self {
        self.shards = shards;
        self
    }

    /// The JSON to publish: this notice, or a `reset` for the same range if it is too large.
    pub fn encode(&self) -> Vec<u8> {
        let bytes = serde_json::to_vec(self).expect("notices serialize");
        if bytes.len() <= MAX_NOTICE_BYTES {
            return bytes;
        }
        let reset = Notice {
            projection: self.projection.clone(),
            stream: self.stream.clone(),
            from: self.from,
            to: self.to,
            reset: true,
            shards: self.shards.clone(),
            ..Notice::default()
        };
        serde_json::to_vec(&reset).expect("notices serialize")
    }
}
