//! The derived, in-memory picture of one section: who occupies each seat and how many tickets are
//! held and sold. Rebuilt from the holds after a snapshot is loaded, never serialized.
//!
//! A seat is one `u32` slot (0 = nobody, otherwise the index of the hold + 1): a 20k-seat section is
//! 80 kB, scanned without a pointer chase. Whether the occupying hold is live at some `now` is read
//! from the hold itself (see `live_view.rs`), so the slots need no update when time passes.

use crate::catalog::SectionLayout;
use crate::ids::{RowLabel, SeatLabel};
use crate::inventory::InventorySection;
use std::collections::HashMap;

/// The position of a hold in `EventInventory::holds`.
pub(super) type HoldIndex = u32;

/// One seat: 0 when nobody occupies it, `BLOCKED` when an operator's block took it off sale, else
/// the occupying hold's index + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Slot(u32);

impl Slot {
    pub(super) const EMPTY: Slot = Slot(0);
    /// Taken off sale by a block (`blocks.rs`); no hold index reaches it.
    pub(super) const BLOCKED: Slot = Slot(u32::MAX);

    fn of(hold: HoldIndex) -> Self {
        Slot(hold + 1)
    }

    /// The occupying hold, if any.
    pub(super) fn hold(self) -> Option<HoldIndex> {
        match self {
            Self::BLOCKED => None,
            _ => self.0.checked_sub(1),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct RowSeats {
    pub label: RowLabel,
    pub slots: Vec<Slot>,
    /// How many slots are empty: lets the best-available search skip full rows.
    pub empty: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SectionSeats {
    pub capacity: u32,
    /// Tickets in Active holds, due ones included (a decision subtracts those itself).
    pub held: u32,
    pub sold: u32,
    /// Tickets in live blocks (`Slot::BLOCKED` seats in a seated section).
    pub blocked: u32,
    /// Empty for a general-admission section.
    pub rows: Vec<RowSeats>,
    row_by_label: HashMap<RowLabel, usize>,
}

impl SectionSeats {
    pub(super) fn new(section: &InventorySection) -> Self {
        match &section.layout {
            SectionLayout::GeneralAdmission { capacity } => Self {
                capacity: *capacity,
                held: 0,
                sold: 0,
                blocked: 0,
                rows: Vec::new(),
                row_by_label: HashMap::new(),
            },
            SectionLayout::Seated { rows } => {
                let mut row_by_label = HashMap::with_capacity(rows.len());
                let rows: Vec<RowSeats> = rows
                    .iter()
                    .map(|row| RowSeats {
                        label: row.row.clone(),
                        slots: vec![Slot::EMPTY; row.seats as usize],
                        empty: row.seats,
                    })
                    .collect();
                for (i, row) in rows.iter().enumerate() {
                    // The first row of a label wins; the catalog never lists a label twice.
                    row_by_label.entry(row.label.clone()).or_insert(i);
                }
                Self {
                    capacity: rows.iter().map(|r| r.empty).sum(),
                    held: 0,
                    sold: 0,
                    blocked: 0,
                    rows,
                    row_by_label,
                }
            }
        }
    }

    /// Nobody in any seat, nothing held or sold.
    pub(super) fn clear(&mut self) {
        for row in &mut self.rows {
            row.slots.fill(Slot::EMPTY);
            row.empty = row.slots.len() as u32;
        }
        self.held = 0;
        self.sold = 0;
        self.blocked = 0;
    }

    pub(super) fn is_seated(&self) -> bool {
        !self.rows.is_empty()
    }

    /// Row and 0-based seat index of a label, if the section has that seat.
    pub(super) fn locate(&self, seat: &SeatLabel) -> Option<(usize, usize)> {
        let row = *self.row_by_label.get(seat.row())?;
        let index = seat.number() as usize - 1;
        (index < self.rows[row].slots.len()).then_some((row, index))
    }

    pub(super) fn slot(&self, row: usize, seat: usize) -> Slot {
        self.rows[row].slots[seat]
    }

    /// The label of a seat position (the inverse of `locate`).
    pub(super) fn label(&self, row: usize, seat: usize) -> Option<SeatLabel> {
        let row = &self.rows.get(row)?;
        SeatLabel::new(row.label.clone(), seat as u32 + 1).ok()
    }

    /// Put `hold` in these seats. Unknown seats are skipped: only decided facts reach here.
    pub(super) fn occupy(&mut self, seats: &[SeatLabel], hold: HoldIndex) {
        for seat in seats {
            if let Some((row, index)) = self.locate(seat) {
                let row = &mut self.rows[row];
                if row.slots[index] == Slot::EMPTY {
                    row.empty -= 1;
                }
                row.slots[index] = Slot::of(hold);
            }
        }
    }

    /// Take these seats off sale (a block). Only free seats reach here: decided facts.
    pub(super) fn block(&mut self, seats: &[SeatLabel]) {
        for seat in seats {
            if let Some((row, index)) = self.locate(seat) {
                let row = &mut self.rows[row];
                if row.slots[index] == Slot::EMPTY {
                    row.empty -= 1;
                }
                row.slots[index] = Slot::BLOCKED;
            }
        }
    }

    /// Put blocked seats back on sale.
    pub(super) fn unblock(&mut self, seats: &[SeatLabel]) {
        for seat in seats {
            if let Some((row, index)) = self.locate(seat) {
                let row = &mut self.rows[row];
                if row.slots[index] == Slot::BLOCKED {
                    row.slots[index] = Slot::EMPTY;
                    row.empty += 1;
                }
            }
        }
    }

    /// Take `hold` out of these seats (a seat since given to another hold is left alone).
    pub(super) fn vacate(&mut self, seats: &[SeatLabel], hold: HoldIndex) {
        for seat in seats {
            if let Some((row, index)) = self.locate(seat) {
                let row = &mut self.rows[row];
                if row.slots[index] == Slot::of(hold) {
                    row.slots[index] = Slot::EMPTY;
                    row.empty += 1;
                }
            }
        }
    }
}
