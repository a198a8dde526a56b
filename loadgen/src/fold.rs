//! The event's inventory as its stream tells it, folded by loadgen's own bookkeeping (not the
//! domain's): sections with their capacity and sold count, every hold with its state, and who has
//! each seat. The stream audit checks the sale's promises on it commit by commit; the read-model
//! audit compares query-svc's answers with its final state.

use domain::catalog::SectionLayout;
use domain::inventory::InventoryEvent;
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

/// Where a hold stands after the facts so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    Active,
    /// Checked out into an order being paid: still held, and still expires at `expires_at`.
    CheckedOut,
    Released,
    Expired,
    Sold,
}

impl HoldState {
    /// Still taking seats (until its `expires_at`).
    pub fn pending(self) -> bool {
        matches!(self, Self::Active | Self::CheckedOut)
    }
}

#[derive(Debug, Clone)]
pub struct HoldFact {
    pub section_id: String,
    pub customer_id: String,
    pub seats: Vec<String>,
    pub quantity: u64,
    pub expires_at: OffsetDateTime,
    pub state: HoldState,
    /// `HoldExpired` facts recorded for it (once at most), and when the last one was recorded.
    pub expired: u32,
    pub expired_recorded_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Default)]
pub struct SectionFact {
    pub capacity: u64,
    pub seated: bool,
    /// Tickets in pending holds, whatever their `expires_at`.
    pub held: u64,
    pub sold: u64,
    /// Tickets an operator's blocks took off sale.
    pub blocked: u64,
}

/// Who has a seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatOwner {
    Hold(String),
    Order(String),
    /// An operator's block.
    Block(String),
}

#[derive(Debug, Default)]
pub struct InventoryFold {
    pub sections: BTreeMap<String, SectionFact>,
    pub holds: HashMap<String, HoldFact>,
    /// (section, seat) → who has it; a free seat is absent.
    pub seats: HashMap<(String, String), SeatOwner>,
    /// The stream sequence of the last commit folded.
    pub last_sequence: u64,
}

impl InventoryFold {
    /// Folds one fact recorded at `recorded_at`; returns what it found inconsistent.
    pub fn apply(&mut self, fact: &InventoryEvent, recorded_at: OffsetDateTime) -> Vec<String> {
        let mut found = Vec::new();
        match fact {
            InventoryEvent::InventoryOpened { sections, .. } => {
                for s in sections {
                    let (capacity, seated) = match &s.layout {
                        SectionLayout::Seated { rows } => {
                            (rows.iter().map(|r| u64::from(r.seats)).sum(), true)
                        }
                        SectionLayout::GeneralAdmission { capacity } => {
                            (u64::from(*capacity), false)
                        }
                    };
                    self.sections.insert(
                        s.section_id.to_string(),
                        SectionFact {
                            capacity,
                            seated,
                            ..SectionFact::default()
                        },
                    );
                }
            }
            InventoryEvent::SeatsHeld {
                hold_id,
                customer_id,
                section_id,
                seats,
                quantity,
                expires_at,
                ..
            } => {
                let hold = hold_id.to_string();
                let section_id = section_id.to_string();
                if self.holds.contains_key(&hold) {
                    found.push(format!("hold {hold} stored twice"));
                }
                self.sections.entry(section_id.clone()).or_default().held += u64::from(*quantity);
                for seat in seats {
                    let key = (section_id.clone(), seat.to_string());
                    if let Some(owner) = self.seats.insert(key, SeatOwner::Hold(hold.clone())) {
                        found.push(format!(
                            "seat {section_id}/{seat} held by {hold} while {owner:?} has it"
                        ));
                    }
                }
                self.holds.insert(
                    hold,
                    HoldFact {
                        section_id,
                        customer_id: customer_id.to_string(),
                        seats: seats.iter().map(ToString::to_string).collect(),
                        quantity: u64::from(*quantity),
                        expires_at: *expires_at,
                        state: HoldState::Active,
                        expired: 0,
                        expired_recorded_at: None,
                    },
                );
            }
            InventoryEvent::HoldCheckedOut { hold_id, .. } => {
                let hold = hold_id.to_string();
                match self.holds.get_mut(&hold) {
                    Some(h) if h.state == HoldState::Active => h.state = HoldState::CheckedOut,
                    _ => found.push(format!("hold {hold} checked out but was not active")),
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
                let expired = matches!(fact, InventoryEvent::HoldExpired { .. });
                let hold = hold_id.to_string();
                let was_pending = self.end_hold(&hold, |h| {
                    h.state = if expired {
                        h.expired += 1;
                        h.expired_recorded_at = Some(recorded_at);
                        HoldState::Expired
                    } else {
                        HoldState::Released
                    };
                });
                if !was_pending {
                    found.push(format!("hold {hold} ended but was not live"));
                }
                for seat in seats {
                    let key = (section_id.to_string(), seat.to_string());
                    if self.seats.get(&key) == Some(&SeatOwner::Hold(hold.clone())) {
                        self.seats.remove(&key);
                    } else {
                        found.push(format!("hold {hold} freed seat {seat} it did not have"));
                    }
                }
            }
            InventoryEvent::SeatsSold {
                hold_id,
                order_id,
                section_id,
                seats,
                quantity,
                ..
            } => {
                let hold = hold_id.to_string();
                let order = order_id.to_string();
                self.end_hold(&hold, |h| h.state = HoldState::Sold);
                self.sections
                    .entry(section_id.to_string())
                    .or_default()
                    .sold += u64::from(*quantity);
                for seat in seats {
                    let key = (section_id.to_string(), seat.to_string());
                    let previous = self.seats.insert(key, SeatOwner::Order(order.clone()));
                    if previous.is_some_and(|p| p != SeatOwner::Hold(hold.clone())) {
                        found.push(format!(
                            "seat {seat} sold to order {order} while another has it"
                        ));
                    }
                }
            }
            InventoryEvent::SeatsReturned {
                order_id,
                section_id,
                seats,
                quantity,
                ..
            } => {
                let order = order_id.to_string();
                let section = self.sections.entry(section_id.to_string()).or_default();
                section.sold = section.sold.saturating_sub(u64::from(*quantity));
                for seat in seats {
                    let key = (section_id.to_string(), seat.to_string());
                    if self.seats.remove(&key) != Some(SeatOwner::Order(order.clone())) {
                        found.push(format!(
                            "order {order} returned seat {seat} it did not have"
                        ));
                    }
                }
            }
            InventoryEvent::SeatsBlocked {
                block_id,
                section_id,
                seats,
                quantity,
                ..
            } => {
                let block = block_id.to_string();
                self.sections
                    .entry(section_id.to_string())
                    .or_default()
                    .blocked += u64::from(*quantity);
                for seat in seats {
                    let key = (section_id.to_string(), seat.to_string());
                    if let Some(owner) = self.seats.insert(key, SeatOwner::Block(block.clone())) {
                        found.push(format!(
                            "seat {section_id}/{seat} blocked by {block} while {owner:?} has it"
                        ));
                    }
                }
            }
            InventoryEvent::BlockReleased {
                block_id,
                section_id,
                seats,
                quantity,
            } => {
                let block = block_id.to_string();
                let section = self.sections.entry(section_id.to_string()).or_default();
                section.blocked = section.blocked.saturating_sub(u64::from(*quantity));
                for seat in seats {
                    let key = (section_id.to_string(), seat.to_string());
                    if self.seats.remove(&key) != Some(SeatOwner::Block(block.clone())) {
                        found.push(format!(
                            "block {block} released seat {seat} it did not have"
                        ));
                    }
                }
            }
            // Facts that move no seat.
            _ => {}
        }
        found
    }

    /// Ends a hold with `change`; returns whether it was pending (its tickets then leave `held`).
    fn end_hold(&mut self, hold: &str, change: impl FnOnce(&mut HoldFact)) -> bool {
        let Some(h) = self.holds.get_mut(hold) else {
            return false;
        };
        let was_pending = h.state.pending();
        change(h);
        if was_pending {
            if let Some(section) = self.sections.get_mut(&h.section_id) {
                section.held = section.held.saturating_sub(h.quantity);
            }
        }
        was_pending
    }

    /// The pending holds of a section (whatever their `expires_at`).
    pub fn pending_holds<'a>(&'a self, section_id: &'a str) -> impl Iterator<Item = &'a HoldFact> {
        self.holds
            .values()
            .filter(move |h| h.section_id == section_id && h.state.pending())
    }
}
