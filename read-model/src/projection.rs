//! The projections: which stream each folds, how many shards its checkpoints are kept for, the
//! tables it owns (what a rebuild recreates and swaps) and the name it goes by in checkpoints,
//! notices and flags.

use crate::tables;
use tv_nats::Stream;
use uuid::Uuid;

/// A projection: one stream folded into the tables it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Projection {
    /// Event listing and detail, from the catalog stream.
    Catalog,
    /// Availability per section, seat maps, holds and waiting lists, from the inventory stream.
    Inventory,
    /// Orders per customer with their status and tickets, from the orders stream.
    Orders,
}

impl Projection {
    pub const ALL: [Projection; 3] = [
        Projection::Catalog,
        Projection::Inventory,
        Projection::Orders,
    ];

    /// Its name in `projection_checkpoints.projection`, in notices and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Catalog => "catalog",
            Self::Inventory => "inventory",
            Self::Orders => "orders",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The stream it folds.
    pub fn stream(self) -> Stream {
        match self {
            Self::Catalog => Stream::Catalog,
            Self::Inventory => Stream::Inventory,
            Self::Orders => Stream::Orders,
        }
    }

    /// The projection folding `stream`, if one does.
    pub fn of_stream(stream: Stream) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.stream() == stream)
    }

    /// The tables it owns: what a rebuild recreates and swaps.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Self::Catalog => &[tables::EVENTS],
            Self::Inventory => &[
                tables::AVAILABILITY,
                tables::SEAT_MAPS,
                tables::HOLDS,
                tables::WAITLIST,
            ],
            Self::Orders => &[tables::ORDERS, tables::TICKETS],
        }
    }

    /// How many shards its checkpoints are kept for (the shards of its stream).
    pub fn shards(self) -> u16 {
        self.stream().shards()
    }
}

impl std::fmt::Display for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inventory shard of an event (the shard token of its stream subject).
pub fn event_shard(event_id: Uuid) -> u16 {
    tv_nats::shard_of(&event_id.to_string(), tv_nats::INVENTORY_SHARDS)
}

/// The inventory shard of a hold, `<event uuid>.<hold uuid>`: its event's (0 for a malformed id,
/// which is never found anyway).
pub fn hold_shard(hold_id: &str) -> u16 {
    hold_id
        .split_once('.')
        .and_then(|(event, _)| Uuid::try_parse(event).ok())
        .map_or(0, event_shard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projection_is_named_back_and_folds_its_own_stream() {
        for p in Projection::ALL {
            assert_eq!(Projection::parse(p.as_str()), Some(p));
            assert_eq!(Projection::of_stream(p.stream()), Some(p));
        }
        assert_eq!(Projection::of_stream(Stream::Payments), None);
        assert_eq!(Projection::Inventory.shards(), tv_nats::INVENTORY_SHARDS);
    }

    #[test]
    fn a_hold_lives_in_its_event_s_shard() {
        let event = Uuid::new_v4();
        let hold = format!("{event}.{}", Uuid::new_v4());
        assert_eq!(hold_shard(&hold), event_shard(event));
        assert_eq!(hold_shard("not-a-hold"), 0);
    }
}
