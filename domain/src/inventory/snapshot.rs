//! Snapshots of the inventory: the sale's configuration and every hold, nothing derived.
//!
//! Deserializing rebuilds the indexes by entering the holds one by one, through the same code that
//! `apply` uses, and refuses a snapshot that breaks the aggregate's promises (a seat in two live
//! holds, a hold in an unknown section): a bad snapshot fails loudly instead of selling a seat twice.

use super::section_seats::Slot;
use super::state::SaleConfig;
use super::{EventInventory, Hold, HoldStatus};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;

/// Bumped when the snapshot's shape changes; an unknown version is refused (replay the log).
const SNAPSHOT_VERSION: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    config: Option<&'a SaleConfig>,
    holds: &'a [Hold],
}

#[derive(Deserialize)]
struct Snapshot {
    version: u32,
    config: Option<SaleConfig>,
    holds: Vec<Hold>,
}

impl Serialize for EventInventory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SnapshotRef {
            version: SNAPSHOT_VERSION,
            config: self.config.as_ref(),
            holds: &self.holds,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EventInventory {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snapshot = Snapshot::deserialize(deserializer)?;
        EventInventory::restore(snapshot).map_err(de::Error::custom)
    }
}

impl EventInventory {
    fn restore(snapshot: Snapshot) -> Result<Self, String> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(format!(
                "inventory snapshot version {} is not {SNAPSHOT_VERSION}",
                snapshot.version
            ));
        }
        let mut state = EventInventory::default();
        let Some(config) = snapshot.config else {
            return match snapshot.holds.is_empty() {
                true => Ok(state),
                false => Err("inventory snapshot has holds but no sale".into()),
            };
        };
        state.open(config);
        let mut hold_ids = HashSet::with_capacity(snapshot.holds.len());
        for hold in snapshot.holds {
            if !hold_ids.insert(hold.hold_id) {
                return Err(format!("hold {} appears twice", hold.hold_id));
            }
            state.check_restorable(&hold)?;
            state.add_hold(hold);
        }
        for (section, seats) in state.sections().iter().zip(&state.index.sections) {
            if u64::from(seats.held) + u64::from(seats.sold) > u64::from(seats.capacity) {
                return Err(format!("section {} is oversold", section.section_id));
            }
        }
        Ok(state)
    }

    /// A hold fits the sections, and if it occupies seats they are empty.
    fn check_restorable(&self, hold: &Hold) -> Result<(), String> {
        let section = self
            .index
            .section_by_id
            .get(&hold.section_id)
            .and_then(|&i| self.index.sections.get(i))
            .ok_or_else(|| format!("hold {} is in unknown section", hold.hold_id))?;
        let occupies = matches!(hold.status, HoldStatus::Active | HoldStatus::Sold { .. });
        let fits = match section.is_seated() {
            true => !hold.seats.is_empty() && hold.seats.len() == hold.quantity as usize,
            false => hold.seats.is_empty(),
        };
        if !fits {
            return Err(format!("hold {} does not fit its section", hold.hold_id));
        }
        let mut distinct = HashSet::with_capacity(hold.seats.len());
        for seat in &hold.seats {
            if !distinct.insert(seat) {
                return Err(format!("hold {} names seat {seat} twice", hold.hold_id));
            }
            let (row, index) = section
                .locate(seat)
                .ok_or_else(|| format!("hold {} names unknown seat {seat}", hold.hold_id))?;
            if occupies && section.slot(row, index) != Slot::EMPTY {
                return Err(format!("seat {seat} is in two live holds"));
            }
        }
        Ok(())
    }
}
