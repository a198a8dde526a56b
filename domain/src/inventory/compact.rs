//! Folding finished holds into tombstones, so that a long sale's memory follows its live holds.
//!
//! `apply` leaves a finished hold whole where it was (an index entry of it may still be read in the
//! same decision). `compact` folds them all at once when they are worth it: the whole holds that
//! remain are indexed again through `add_hold`, the same code a snapshot load uses, in the same
//! (placement) order, so every index is what a fold of the remaining holds gives. The cost is
//! linear in the live holds and the seats, paid once for at least as many finished holds, so it
//! stays bounded per finished hold; whole holds never outnumber live ones by more than that bound.
//!
//! Nothing a decision reads changes: a folded hold is found by id and comes back exactly as it was
//! (`finished.rs`), the indexes only ever held live holds' seats and counts, and an order whose
//! returned holds were folded is still known (`returned_orders`). The property test
//! `a_compacted_inventory_decides_exactly_as_the_full_one` is the check.

use super::finished::Tombstone;
use super::section_seats::{HoldIndex, SectionSeats};
use super::state::{Index, SaleConfig};
use super::{EventInventory, Hold, HoldStatus};
use crate::ids::HoldId;

/// Finished holds are folded once there are at least this many, and at least as many as live
/// holds and as a sixteenth of the seats (the cost of indexing those again).
const FOLD_AT_LEAST: usize = 64;

impl Index {
    /// The indexes of a sale without holds.
    pub(super) fn empty(config: &SaleConfig) -> Index {
        let mut index = Index::default();
        for (i, section) in config.sections.iter().enumerate() {
            index.sections.push(SectionSeats::new(section));
            // The first section of an id wins; the catalog never lists an id twice.
            index
                .section_by_id
                .entry(section.section_id.clone())
                .or_insert(i);
        }
        index
    }
}

impl EventInventory {
    /// Folds the finished holds into tombstones when enough of them have piled up (see the module
    /// documentation); true when it did. Cheap to call after every commit.
    pub fn compact(&mut self) -> bool {
        let finished = self.index.finished as usize;
        let live = self.holds.len().saturating_sub(finished);
        let seats: usize = self
            .index
            .sections
            .iter()
            .map(|s| s.rows.iter().map(|r| r.slots.len()).sum::<usize>())
            .sum();
        if finished == 0 || finished < FOLD_AT_LEAST.max(live).max(seats / 16) {
            return false;
        }
        self.fold_finished();
        true
    }

    /// Folds every finished hold now, however few.
    pub fn fold_finished(&mut self) {
        if self.config.is_none() || self.index.finished == 0 {
            return;
        }
        // The seat grids are reused, emptied, rather than allocated again.
        let mut sections = std::mem::take(&mut self.index.sections);
        for section in &mut sections {
            section.clear();
        }
        self.index = Index {
            sections,
            section_by_id: std::mem::take(&mut self.index.section_by_id),
            ..Index::default()
        };
        for hold in std::mem::take(&mut self.holds) {
            match hold.status {
                HoldStatus::Released | HoldStatus::Expired | HoldStatus::Returned { .. } => {
                    self.bury(hold)
                }
                _ => self.add_hold(hold),
            }
        }
        self.enter_blocks();
    }

    /// Keeps a finished hold as a tombstone only.
    pub(super) fn bury(&mut self, hold: Hold) {
        let hold_id = hold.hold_id;
        let Some(config) = &self.config else {
            return;
        };
        let tombstone = Tombstone::bury(
            hold,
            &config.sections,
            &self.index.sections,
            &mut self.customers,
        );
        if let Some(order_id) = tombstone.returned_by() {
            self.returned_orders.insert(order_id);
        }
        self.finished.insert(hold_id, tombstone);
    }

    /// Brings a folded hold back whole (its order buys it after it lapsed): its index.
    pub(super) fn raise(&mut self, hold_id: &HoldId) -> Option<HoldIndex> {
        let hold = self
            .finished
            .get(hold_id)?
            .raise(*hold_id, &self.context())?;
        self.finished.remove(hold_id);
        self.add_hold(hold);
        self.index.hold_by_id.get(hold_id).copied()
    }
}
