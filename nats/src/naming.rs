//! Names of streams and subjects under a prefix, and positions in a stream.
//!
//! Prefix `tv` gives streams `TV_CATALOG`, … and subjects `tv.catalog.<id>`, …; a test passes its
//! own prefix so that many run side by side on one server.

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
}

impl Stream {
    pub const ALL: [Stream; 5] = [
        Stream::Catalog,
        Stream::Inventory,
        Stream::Orders,
        Stream::Payments,
        Stream::Timers,
    ];

    /// The subject token of this stream (`inventory`).
    pub fn token(self) -> &'static str {
        match self {
            Stream::Catalog => "catalog",
            Stream::Inventory => "inventory",
            Stream::Orders => "orders",
            Stream::Payments => "payments",
            Stream::Timers => "timers",
        }
    }
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

    /// `tv.inventory.<id>`: the subject of one aggregate.
    pub fn subject(&self, stream: Stream, id: &str) -> String {
        format!("{}.{}.{}", self.prefix, stream.token(), id)
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
    fn positions_round_trip() {
        let position: Position = "TV_INVENTORY:42".parse().unwrap();
        assert_eq!(position.sequence, 42);
        assert_eq!(position.to_string(), "TV_INVENTORY:42");
        assert!("TV_INVENTORY".parse::<Position>().is_err());
        assert!(":1".parse::<Position>().is_err());
    }
}
