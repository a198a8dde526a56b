//! Names of streams and subjects under a prefix, and positions in a stream.
//!
//! Prefix `tv` gives streams `TV_CATALOG`, … and subjects `tv.catalog.<id>`, … (an id may hold
//! dots: the waiting rooms' are `<event>.room` and `<event>.join.<customer key>`); a test passes its
//! own prefix so that many run side by side on one server.
//!
//! The inventory stream is sharded: its subjects carry a shard token, `tv.inventory.<shard>.<id>`,
//! with the shard a stable hash of the aggregate id ([`shard_of`]). A projector partition consumes
//! only its shards' subjects; append, load and snapshots see no difference, because every
//! inventory subject is built here.

use std::fmt;
use std::str::FromStr;

/// The streams of TicketView: one per bounded context, plus timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Catalog,
    Inventory,
    Orders,
    Payments,
    Timers,
    /// The waiting rooms: per event, the room's own facts on `queue.<event>.room` and each
    /// customer's place on `queue.<event>.join.<customer key>`.
    Queue,
    /// Notices the notifier could not deliver after its retries (`deadletter.notices`), kept for
    /// an operator to look at and replay: not a log of record.
    DeadLetter,
}

impl Stream {
    pub const ALL: [Stream; 7] = [
        Stream::Catalog,
        Stream::Inventory,
        Stream::Orders,
        Stream::Payments,
        Stream::Timers,
        Stream::Queue,
        Stream::DeadLetter,
    ];

    /// How many shards this stream's subjects are spread over (1: not sharded).
    pub fn shards(self) -> u16 {
        match self {
            Stream::Inventory => INVENTORY_SHARDS,
            _ => 1,
        }
    }

    /// The subject token of this stream (`inventory`).
    pub fn token(self) -> &'static str {
        match self {
            Stream::Catalog => "catalog",
            Stream::Inventory => "inventory",
            Stream::Orders => "orders",
            Stream::Payments => "payments",
            Stream::Timers => "timers",
            Stream::Queue => "queue",
            Stream::DeadLetter => "deadletter",
        }
    }
}

/// Shards of the inventory stream. Fixed: a subject's shard is part of its name, so changing this
/// renames every inventory aggregate. 16 leaves room for up to 16 projector partitions.
pub const INVENTORY_SHARDS: u16 = 16;

/// The shard of aggregate `id` among `shards`: FNV-1a (32 bits) of the id, modulo `shards`, the
/// hash NATS's own `partition()` subject mapping uses.
pub fn shard_of(id: &str, shards: u16) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in id.as_bytes() {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % u32::from(shards.max(1))) as u16
}

/// Stream and subject names under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    prefix: String,
}

impl Naming {
    /// `prefix` must be a single subject token of letters, digits, `-` and `_`.
    pub fn new(prefix: &str) -> Self {
        assert!(
            !prefix.is_empty()
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "a stream prefix is one token of letters, digits, - and _ (got {prefix:?})"
        );
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `TV_INVENTORY` for prefix `tv`.
    pub fn stream(&self, stream: Stream) -> String {
        format!(
            "{}_{}",
            self.prefix.to_ascii_uppercase().replace('-', "_"),
            stream.token().to_ascii_uppercase()
        )
    }

    /// `tv.orders.<id>`, or `tv.inventory.<shard>.<id>` for a sharded stream: the subject of one
    /// aggregate.
    pub fn subject(&self, stream: Stream, id: &str) -> String {
        match stream.shards() {
            1 => format!("{}.{}.{}", self.prefix, stream.token(), id),
            shards => format!(
                "{}.{}.{}.{}",
                self.prefix,
                stream.token(),
                shard_of(id, shards),
                id
            ),
        }
    }

    /// `tv.inventory.<shard>.>`: every subject of one shard (of an unsharded stream: all of them).
    pub fn shard_wildcard(&self, stream: Stream, shard: u16) -> String {
        match stream.shards() {
            1 => self.wildcard(stream),
            _ => format!("{}.{}.{}.>", self.prefix, stream.token(), shard),
        }
    }

    /// The shard of a subject of `stream` (0 for an unsharded stream), read from its shard token.
    pub fn shard_of_subject(&self, stream: Stream, subject: &str) -> Option<u16> {
        if stream.shards() == 1 {
            return Some(0);
        }
        let rest = subject
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('.')?
            .strip_prefix(stream.token())?
            .strip_prefix('.')?;
        let (shard, _id) = rest.split_once('.')?;
        shard.parse().ok().filter(|s| *s < stream.shards())
    }

    /// `tv.inventory.>`: every subject of a stream.
    pub fn wildcard(&self, stream: Stream) -> String {
        format!("{}.{}.>", self.prefix, stream.token())
    }

    /// `tv.notices.<topic>`: core NATS change notices, kept in no stream.
    pub fn notice_subject(&self, topic: &str) -> String {
        format!("{}.notices.{}", self.prefix, topic)
    }

    /// The stream a stream name belongs to, if it is one of ours.
    pub fn stream_of(&self, name: &str) -> Option<Stream> {
        Stream::ALL.into_iter().find(|s| self.stream(*s) == name)
    }

    /// `TV_LEASES` for prefix `tv`: the key-value bucket of the leases (`Leases`).
    pub fn lease_bucket(&self) -> String {
        format!(
            "{}_LEASES",
            self.prefix.to_ascii_uppercase().replace('-', "_")
        )
    }

    /// `tv.forward.<instance>`: where a command-svc instance takes the commands other instances
    /// forward to it (core NATS request-reply, in no stream).
    pub fn forward_subject(&self, instance: &str) -> String {
        format!("{}.forward.{}", self.prefix, instance)
    }

    /// The object store bucket holding aggregate snapshots.
    pub fn snapshot_bucket(&self) -> String {
        format!(
            "{}_SNAPSHOTS",
            self.prefix.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// Where a commit was stored: `<STREAM>:<sequence>`, as returned by every command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    pub stream: String,
    pub sequence: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.stream, self.sequence)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a position is <STREAM>:<sequence>, like TV_INVENTORY:42")]
pub struct InvalidPosition;

impl FromStr for Position {
    type Err = InvalidPosition;
    fn from_str(s: &str) -> Result<Self, InvalidPosition> {
        let (stream, sequence) = s.rsplit_once(':').ok_or(InvalidPosition)?;
        if stream.is_empty() {
            return Err(InvalidPosition);
        }
        Ok(Self {
            stream: stream.to_owned(),
            sequence: sequence.parse().map_err(|_| InvalidPosition)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix() {
        let naming = Naming::new("t-42");
        assert_eq!(naming.stream(Stream::Inventory), "T_42_INVENTORY");
        assert_eq!(naming.subject(Stream::Orders, "abc"), "t-42.orders.abc");
        assert_eq!(naming.wildcard(Stream::Catalog), "t-42.catalog.>");
        assert_eq!(naming.stream_of("T_42_PAYMENTS"), Some(Stream::Payments));
    }

    #[test]
    fn inventory_subjects_carry_their_shard() {
        let naming = Naming::new("tv");
        let id = "0b6f4f5e-4a57-4c3e-9d36-2f1d0c7b9a10";
        let shard = shard_of(id, INVENTORY_SHARDS);
        let subject = naming.subject(Stream::Inventory, id);
        assert_eq!(subject, format!("tv.inventory.{shard}.{id}"));
        assert_eq!(
            naming.shard_of_subject(Stream::Inventory, &subject),
            Some(shard)
        );
        assert_eq!(
            naming.shard_wildcard(Stream::Inventory, shard),
            format!("tv.inventory.{shard}.>")
        );
        assert_eq!(
            naming.shard_of_subject(Stream::Orders, "tv.orders.x"),
            Some(0)
        );
        assert_eq!(
            naming.shard_of_subject(Stream::Inventory, "tv.inventory.x"),
            None
        );
    }

    #[test]
    fn shards_are_fnv1a_like_the_nats_partition_mapping() {
        // FNV-1a 32 of "a" is 0xe40c292c; of "" the offset basis 0x811c9dc5.
        assert_eq!(shard_of("a", 16), (0xe40c_292c_u32 % 16) as u16);
        assert_eq!(shard_of("", 16), (0x811c_9dc5_u32 % 16) as u16);
        // Spread: 1 600 ids fill every shard.
        let mut counts = [0u32; 16];
        for i in 0..1_600 {
            counts[shard_of(&format!("event-{i}"), 16) as usize] += 1;
        }
        assert!(counts.iter().all(|c| *c > 50), "{counts:?}");
    }

    #[test]
    fn positions_round_trip() {
        let position: Position = "TV_INVENTORY:42".parse().unwrap();
        assert_eq!(position.sequence, 42);
        assert_eq!(position.to_string(), "TV_INVENTORY:42");
        assert!("TV_INVENTORY".parse::<Position>().is_err());
        assert!(":1".parse::<Position>().is_err());
    }
}
