//! Reading an event's inventory back from JetStream, to check a test's invariants at the source.
//!
//! Two readings of one log: [`InventoryLog::fold`] applies the domain's `evolve` (what any new
//! writer would restore), and [`InventoryLog::seat_owners`] replays the seat-taking and
//! seat-freeing facts by hand, without the domain's indexes, and panics the moment a fact takes a
//! seat that is not free. Where the two agree, the stream itself is consistent.

use domain::ids::{BlockId, EventId, HoldId, SectionId};
use domain::inventory::{evolve, EventInventory, InventoryEvent};
use std::collections::HashMap;
use tv_nats::{EventStore, Stream};

/// Every commit of one event's inventory, in stream order.
#[derive(Debug)]
pub struct InventoryLog {
    /// `(stream sequence, the commit's facts)`.
    pub commits: Vec<(u64, Vec<InventoryEvent>)>,
    /// The subject's last sequence (0 when the event has no inventory commit).
    pub last_sequence: u64,
}

/// Who occupies a seat according to the raw facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupant {
    Held(HoldId),
    Sold(HoldId),
    /// An operator's block.
    Blocked(BlockId),
}

impl InventoryLog {
    /// Reads every commit of `event`'s inventory.
    pub async fn read(store: &EventStore, event: &str) -> Self {
        let loaded = store
            .load::<InventoryEvent>(Stream::Inventory, event, 0)
            .await
            .unwrap_or_else(|e| panic!("reading inventory.{event}: {e}"));
        Self {
            commits: loaded
                .commits
                .into_iter()
                .map(|c| (c.sequence, c.events))
                .collect(),
            last_sequence: loaded.last_sequence,
        }
    }

    /// Every fact, in order.
    pub fn facts(&self) -> impl Iterator<Item = &InventoryEvent> {
        self.commits.iter().flat_map(|(_, facts)| facts.iter())
    }

    /// The aggregate as the domain restores it from these facts.
    pub fn fold(&self) -> EventInventory {
        self.facts().fold(EventInventory::default(), evolve)
    }

    /// How many facts of a kind (`"SeatsHeld"`, `"HoldExpired"`, …) the log holds.
    pub fn count(&self, kind: &str) -> usize {
        self.facts().filter(|f| f.kind() == kind).count()
    }

    /// The facts that name `hold`, in order, by kind.
    pub fn kinds_of_hold(&self, hold: &HoldId) -> Vec<&'static str> {
        self.facts()
            .filter(|fact| match fact {
                InventoryEvent::SeatsHeld { hold_id, .. }
                | InventoryEvent::HoldReleased { hold_id, .. }
                | InventoryEvent::HoldExpired { hold_id, .. }
                | InventoryEvent::HoldCheckedOut { hold_id, .. }
                | InventoryEvent::SeatsSold { hold_id, .. } => hold_id == hold,
                _ => false,
            })
            .map(InventoryEvent::kind)
            .collect()
    }

    /// Seat occupancy replayed from the raw facts (expiry is only what the log says: a hold whose
    /// `HoldExpired` is not recorded still occupies its seats here). Panics when a `SeatsHeld`
    /// takes a seat that another hold occupies, or a fact frees a seat its hold did not occupy.
    pub fn seat_owners(&self) -> HashMap<(SectionId, String), Occupant> {
        let mut owners: HashMap<(SectionId, String), Occupant> = HashMap::new();
        for (sequence, facts) in &self.commits {
            for fact in facts {
                match fact {
                    InventoryEvent::SeatsHeld {
                        hold_id,
                        section_id,
                        seats,
                        ..
                    } => {
                        for seat in seats {
                            let key = (section_id.clone(), seat.to_string());
                            if let Some(before) = owners.insert(key, Occupant::Held(*hold_id)) {
                                panic!(
                                    "commit {sequence}: hold {hold_id} takes seat {seat} of \
                                     {section_id}, which {before:?} occupies"
                                );
                            }
                        }
                    }
                    InventoryEvent::HoldReleased {
                        hold_id,
                        section_id,
                        seats,
                        ..
                    }
                    | InventoryEvent::HoldExpired {
                        hold_id,
                        section_id,
                        seats,
                        ..
                    } => {
                        for seat in seats {
                            let key = (section_id.clone(), seat.to_string());
                            let removed = owners.remove(&key);
                            assert_eq!(
                                removed,
                                Some(Occupant::Held(*hold_id)),
                                "commit {sequence}: {} of hold {hold_id} frees seat {seat}",
                                fact.kind()
                            );
                        }
                    }
                    InventoryEvent::SeatsSold {
                        hold_id,
                        section_id,
                        seats,
                        ..
                    } => {
                        for seat in seats {
                            let key = (section_id.clone(), seat.to_string());
                            let before = owners.insert(key, Occupant::Sold(*hold_id));
                            // A lapsed hold may be sold again when its seats are free.
                            assert!(
                                before.is_none() || before == Some(Occupant::Held(*hold_id)),
                                "commit {sequence}: hold {hold_id} sells seat {seat}, which \
                                 {before:?} occupies"
                            );
                        }
                    }
                    InventoryEvent::SeatsReturned {
                        section_id, seats, ..
                    } => {
                        for seat in seats {
                            owners.remove(&(section_id.clone(), seat.to_string()));
                        }
                    }
                    InventoryEvent::SeatsBlocked {
                        block_id,
                        section_id,
                        seats,
                        ..
                    } => {
                        for seat in seats {
                            let key = (section_id.clone(), seat.to_string());
                            if let Some(before) = owners.insert(key, Occupant::Blocked(*block_id)) {
                                panic!(
                                    "commit {sequence}: block {block_id} takes seat {seat} of \
                                     {section_id}, which {before:?} occupies"
                                );
                            }
                        }
                    }
                    InventoryEvent::BlockReleased {
                        block_id,
                        section_id,
                        seats,
                        ..
                    } => {
                        for seat in seats {
                            let removed = owners.remove(&(section_id.clone(), seat.to_string()));
                            assert_eq!(
                                removed,
                                Some(Occupant::Blocked(*block_id)),
                                "commit {sequence}: block {block_id} gives back seat {seat}"
                            );
                        }
                    }
                    // Facts that move no seat: opening, and checkout (the hold keeps its seats).
                    _ => {}
                }
            }
        }
        owners
    }
}

/// The inventory of `event` as folded from its stream with the domain's `evolve`.
pub async fn fold_inventory(store: &EventStore, event: &str) -> EventInventory {
    InventoryLog::read(store, event).await.fold()
}

/// Parses an event id from an answer.
pub fn event_id(text: &str) -> EventId {
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not an event id"))
}

/// Parses a hold id from an answer.
pub fn hold_id(text: &str) -> HoldId {
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a hold id"))
}

/// Parses a section id.
pub fn section(text: &str) -> SectionId {
    SectionId::parse(text).unwrap_or_else(|_| panic!("{text:?} is not a section id"))
}
