//! Partitions of a sharded projection: `k/N` owns the shards `s` with `s mod N = k`.
//!
//! Each partition runs one durable consumer filtered to its shards' subjects, so N projector
//! instances share the inventory projection without sharing a consumer or a checkpoint row.

use std::fmt;
use std::str::FromStr;
use tv_nats::INVENTORY_SHARDS;

/// Partition `index` of `count`; `0/1` (the default) owns every shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub index: u16,
    pub count: u16,
}

impl Default for Partition {
    fn default() -> Self {
        Self::WHOLE
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a partition is k/N with 0 <= k < N <= {INVENTORY_SHARDS}, like 0/2 (got {0:?})")]
pub struct InvalidPartition(String);

impl Partition {
    /// Every shard: one consumer for the whole projection.
    pub const WHOLE: Partition = Partition { index: 0, count: 1 };

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// The shards of `total` this partition owns, ascending.
    pub fn shards(self, total: u16) -> Vec<u16> {
        (0..total)
            .filter(|s| s % self.count == self.index)
            .collect()
    }
}

impl FromStr for Partition {
    type Err = InvalidPartition;
    fn from_str(s: &str) -> Result<Self, InvalidPartition> {
        let invalid = || InvalidPartition(s.to_owned());
        let (index, count) = s.split_once('/').ok_or_else(invalid)?;
        let index: u16 = index.trim().parse().map_err(|_| invalid())?;
        let count: u16 = count.trim().parse().map_err(|_| invalid())?;
        if count == 0 || count > INVENTORY_SHARDS || index >= count {
            return Err(invalid());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_split_the_shards_between_them() {
        let first: Partition = "0/2".parse().unwrap();
        let second: Partition = "1/2".parse().unwrap();
        let (a, b) = (first.shards(16), second.shards(16));
        assert_eq!(a.len() + b.len(), 16);
        assert!(a.iter().all(|s| !b.contains(s)));
        assert_eq!(Partition::WHOLE.shards(16).len(), 16);
        assert_eq!(Partition::default().to_string(), "0/1");
        for bad in ["2/2", "0/0", "1", "a/b", "0/17"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
