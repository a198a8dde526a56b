//! The inventory as a decision at `now` sees it: every Active or Ordered hold with
//! `expires_at <= now` is treated as gone, without touching (or cloning) the state.
//!
//! The due holds are a prefix of the expiry queue, collected once per decision; the writer expires
//! them at the start of every batch, so the set is normally empty or tiny and each correction below
//! (a customer's count, a section's free seats) is a short scan of it.

use super::best_available::SeatMap;
use super::section_seats::{HoldIndex, SectionSeats, Slot};
use super::{EventInventory, Hold, HoldStatus, InventoryEvent};
use crate::ids::CustomerId;
use crate::Timestamp;

pub(super) struct LiveView<'a> {
    pub state: &'a EventInventory,
    pub now: Timestamp,
    /// Active and Ordered holds with `expires_at <= now`, in expiry order.
    pub due: Vec<HoldIndex>,
}

impl<'a> LiveView<'a> {
    pub(super) fn new(state: &'a EventInventory, now: Timestamp) -> Self {
        let due = state
            .index
            .expiry_queue
            .range(..=(now, HoldIndex::MAX))
            .map(|&(_, hold)| hold)
            .collect();
        Self { state, now, due }
    }

    fn due_holds(&self) -> impl Iterator<Item = &'a Hold> + '_ {
        self.due
            .iter()
            .filter_map(|&i| self.state.holds.get(i as usize))
    }

    /// Active or Ordered and not yet expired at `now`, or sold: the hold occupies its seats.
    pub(super) fn is_live(&self, hold: &Hold) -> bool {
        match hold.status {
            HoldStatus::Active | HoldStatus::Ordered { .. } => hold.expires_at > self.now,
            HoldStatus::Sold { .. } => true,
            HoldStatus::Released | HoldStatus::Expired | HoldStatus::Returned { .. } => false,
        }
    }

    /// Active or Ordered in the state but expired at `now`.
    pub(super) fn is_due(&self, hold: &Hold) -> bool {
        hold.status.is_pending() && hold.expires_at <= self.now
    }

    /// The hold that occupies a seat at `now`, if any.
    pub(super) fn live_hold(&self, slot: Slot) -> Option<&'a Hold> {
        let hold = self.state.holds.get(slot.hold()? as usize)?;
        self.is_live(hold).then_some(hold)
    }

    /// A seat taken at `now`: by a live hold or by a block.
    pub(super) fn is_taken(&self, slot: Slot) -> bool {
        slot == Slot::BLOCKED || self.live_hold(slot).is_some()
    }

    /// `HoldExpired` for every due hold, in expiry order, each offered hold's followed by its
    /// entry's `WaitlistOfferExpired`: the first facts of every decision.
    pub(super) fn expiry_events(&self) -> Vec<InventoryEvent> {
        let mut facts = Vec::with_capacity(self.due.len());
        for hold in self.due_holds() {
            facts.push(InventoryEvent::HoldExpired {
                hold_id: hold.hold_id,
                customer_id: hold.customer_id.clone(),
                section_id: hold.section_id.clone(),
                seats: hold.seats.clone(),
                quantity: hold.quantity,
            });
            if let Some(entry) = self.state.waitlist.offered_with(&hold.hold_id) {
                facts.push(InventoryEvent::WaitlistOfferExpired {
                    waitlist_id: entry.waitlist_id,
                    customer_id: entry.customer_id.clone(),
                    hold_id: hold.hold_id,
                });
            }
        }
        facts
    }

    /// Tickets a customer holds (live) and owns, across all sections.
    pub(super) fn tickets_of(&self, customer: &CustomerId) -> u32 {
        let counted = self
            .state
            .index
            .tickets_by_customer
            .get(customer)
            .copied()
            .unwrap_or(0);
        let due: u32 = self
            .due_holds()
            .filter(|hold| &hold.customer_id == customer)
            .map(|hold| hold.quantity)
            .sum();
        counted.saturating_sub(due)
    }

    /// Tickets of due holds in one section: counted as held by the state, free at `now`.
    pub(super) fn freed_in_section(&self, section: usize) -> u32 {
        let Some(section) = self.state.sections().get(section) else {
            return 0;
        };
        self.due_holds()
            .filter(|hold| hold.section_id == section.section_id)
            .map(|hold| hold.quantity)
            .sum()
    }

    /// Tickets of a section that nobody holds or owns and no block takes at `now`.
    pub(super) fn free_in_section(&self, section: usize) -> u32 {
        let Some(seats) = self.state.index.sections.get(section) else {
            return 0;
        };
        (seats.capacity + self.freed_in_section(section))
            .saturating_sub(seats.held + seats.sold + seats.blocked)
    }

    /// The seats of one seated section at `now`, for the best-available search.
    pub(super) fn seat_map(&self, section: usize) -> Option<SeatsAtNow<'_, 'a>> {
        let seats = self.state.index.sections.get(section)?;
        let section_id = &self.state.sections().get(section)?.section_id;
        // Seats of due holds, per row: occupied in the slots, free at `now`. Usually none.
        let mut freed_by_row = Vec::new();
        for hold in self.due_holds().filter(|h| &h.section_id == section_id) {
            if freed_by_row.is_empty() {
                freed_by_row = vec![0; seats.rows.len()];
            }
            for seat in &hold.seats {
                if let Some((row, _)) = seats.locate(seat) {
                    freed_by_row[row] += 1;
                }
            }
        }
        Some(SeatsAtNow {
            view: self,
            seats,
            freed_by_row,
        })
    }
}

/// One section's seats at `now`.
pub(super) struct SeatsAtNow<'v, 'a> {
    view: &'v LiveView<'a>,
    seats: &'a SectionSeats,
    /// Per row, the seats of due holds; empty when the section has none (the usual case).
    freed_by_row: Vec<u32>,
}

impl SeatsAtNow<'_, '_> {
    fn freed_in_row(&self, row: usize) -> u32 {
        self.freed_by_row.get(row).copied().unwrap_or(0)
    }
}

impl SeatMap for SeatsAtNow<'_, '_> {
    fn rows(&self) -> usize {
        self.seats.rows.len()
    }

    fn seats_in_row(&self, row: usize) -> usize {
        self.seats.rows[row].slots.len()
    }

    fn free_in_row(&self, row: usize) -> usize {
        (self.seats.rows[row].empty + self.freed_in_row(row)) as usize
    }

    #[inline]
    fn is_free(&self, row: usize, seat: usize) -> bool {
        let slot = self.seats.rows[row].slots[seat];
        // Only a row with due seats needs to look at the occupying hold.
        slot == Slot::EMPTY || (self.freed_in_row(row) > 0 && !self.view.is_taken(slot))
    }
}
