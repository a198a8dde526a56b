//! A row's [`Version`]: the stream sequence of the commit that last changed it, so a newer answer
//! never shows a lower one. (A projection shard's checkpoint, the sequence up to which every
//! commit of the shard is applied, is the `from`/`to` of a notice and the `as_of` of a cached
//! value: plain sequences, compared with the notices' own.)

use serde::{Deserialize, Serialize};

/// The stream sequence of a row's last change.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Version(pub u64);

impl Version {
    /// From a stored `bigint` (never negative: a stream sequence).
    pub fn from_sql(value: i64) -> Self {
        Self(value.max(0) as u64)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
