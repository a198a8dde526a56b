//! Folding facts into the inventory, in place (the writer task keeps one state per hot event and
//! applies each decision's facts to it).
//!
//! A fact is trusted: `decide` produced it against this very state. A fact that makes no sense here
//! (an unknown hold, a second `InventoryOpened`) changes nothing, so replaying a log never panics.
//! Every index change goes through `enter` / `leave`, which snapshot loading uses too: the
//! incremental and the rebuilt indexes cannot drift apart.

use super::presale::SpentCode;
use super::section_seats::HoldIndex;
use super::state::{Index, SaleConfig};
use super::waitlist::{WaitlistEntry, WaitlistStatus};
use super::{Block, EventInventory, Hold, HoldStatus, InventoryEvent};
use crate::ids::{CustomerId, HoldId, OrderId, SeatLabel, SectionId};
use std::collections::HashMap;

impl EventInventory {
    /// Fold one fact into the state.
    pub fn apply(&mut self, event: &InventoryEvent) {
        match event {
            InventoryEvent::InventoryOpened {
                sections,
                currency,
                hold_ttl_seconds,
                max_tickets_per_customer,
                sale_opens_at,
                sale_closes_at,
                waiting_room,
                presales,
            } => {
                if self.config.is_none() {
                    self.open(SaleConfig {
                        sections: sections.clone(),
                        currency: *currency,
                        hold_ttl_seconds: *hold_ttl_seconds,
                        max_tickets_per_customer: *max_tickets_per_customer,
                        sale_opens_at: *sale_opens_at,
                        sale_closes_at: *sale_closes_at,
                        waiting_room: *waiting_room,
                        closed_at: None,
                        cancelled_at: None,
                        presales: presales.clone(),
                    });
                }
            }
            InventoryEvent::SaleClosed { closed_at } => {
                if let Some(config) = &mut self.config {
                    config.closed_at.get_or_insert(*closed_at);
                }
            }
            InventoryEvent::SaleCancelled { cancelled_at } => {
                if let Some(config) = &mut self.config {
                    config.cancelled_at.get_or_insert(*cancelled_at);
                }
            }
            InventoryEvent::SeatsHeld {
                hold_id,
                customer_id,
                section_id,
                seats,
                quantity,
                expires_at,
                request,
            } => {
                if self.index.hold_by_id.contains_key(hold_id)
                    || self.finished.contains_key(hold_id)
                    || !self.index.section_by_id.contains_key(section_id)
                {
                    return;
                }
                self.add_hold(Hold {
                    hold_id: *hold_id,
                    customer_id: customer_id.clone(),
                    section_id: section_id.clone(),
                    seats: seats.clone(),
                    quantity: *quantity,
                    expires_at: *expires_at,
                    request: request.clone(),
                    status: HoldStatus::Active,
                    order_id: None,
                    type_id: None,
                });
            }
            InventoryEvent::HoldReleased { hold_id, .. } => {
                // The customer releases an Active hold; the order that checked a hold out
                // abandons it while it is Ordered (unpaid).
                self.end_pending(hold_id, HoldStatus::Released, |s| s.is_pending())
            }
            InventoryEvent::HoldExpired { hold_id, .. } => {
                self.end_pending(hold_id, HoldStatus::Expired, |s| s.is_pending())
            }
            InventoryEvent::HoldCheckedOut {
                hold_id, order_id, ..
            } => self.check_out(hold_id, *order_id),
            InventoryEvent::SeatsSold {
                hold_id, order_id, ..
            } => self.sell(hold_id, *order_id),
            InventoryEvent::SeatsReturned {
                order_id,
                customer_id,
                section_id,
                seats,
                quantity,
            } => self.give_back(order_id, customer_id, section_id, seats, *quantity),
            InventoryEvent::WaitlistJoined {
                waitlist_id,
                customer_id,
                section_id,
                quantity,
                adjacent,
            } => {
                if self.index.section_by_id.contains_key(section_id) {
                    self.waitlist.join(WaitlistEntry {
                        waitlist_id: *waitlist_id,
                        customer_id: customer_id.clone(),
                        section_id: section_id.clone(),
                        quantity: *quantity,
                        adjacent: *adjacent,
                        status: WaitlistStatus::Waiting,
                    });
                }
            }
            InventoryEvent::WaitlistOffered {
                waitlist_id,
                hold_id,
                ..
            } => self.waitlist.offered(waitlist_id, *hold_id),
            InventoryEvent::WaitlistOfferExpired { waitlist_id, .. } => {
                self.waitlist.offer_expired(waitlist_id)
            }
            InventoryEvent::WaitlistLeft { waitlist_id, .. } => self.waitlist.left(waitlist_id),
            InventoryEvent::AccessCodesLoaded { presale_id, codes } => {
                self.codes_loaded(presale_id, codes)
            }
            InventoryEvent::AccessCodeSpent {
                hold_id,
                presale_id,
                code,
            } => self.code_spent(
                hold_id,
                SpentCode {
                    presale_id: presale_id.clone(),
                    code: *code,
                },
            ),
            InventoryEvent::SeatsBlocked {
                block_id,
                section_id,
                seats,
                quantity,
                reason,
                request,
            } => self.add_block(Block {
                block_id: *block_id,
                section_id: section_id.clone(),
                seats: seats.clone(),
                quantity: *quantity,
                reason: reason.clone(),
                request: request.clone(),
                released: false,
            }),
            InventoryEvent::BlockReleased { block_id, .. } => self.release_block(block_id),
            InventoryEvent::HoldTyped { hold_id, type_id } => {
                if let Some(at) = self.index_of(hold_id) {
                    self.holds[at as usize].type_id = Some(type_id.clone());
                }
            }
        }
    }

    /// Set up the sale and an empty seat picture of every section.
    pub(super) fn open(&mut self, config: SaleConfig) {
        self.index = Index::empty(&config);
        self.config = Some(config);
    }

    /// Append a hold in whatever status it has, and index it.
    pub(super) fn add_hold(&mut self, hold: Hold) {
        let at = self.holds.len() as HoldIndex;
        self.index.hold_by_id.insert(hold.hold_id, at);
        self.holds.push(hold);
        self.enter(at);
    }

    /// A hold that still occupies its seats until `expires_at` (in a status `from` accepts) ends.
    fn end_pending(
        &mut self,
        hold_id: &HoldId,
        status: HoldStatus,
        from: impl Fn(HoldStatus) -> bool,
    ) {
        let Some(at) = self.index_of(hold_id) else {
            return;
        };
        if from(self.holds[at as usize].status) {
            self.leave(at);
            self.holds[at as usize].status = status;
            self.enter(at);
        }
    }

    /// An Active hold becomes Ordered: same seats, same expiry, now tied to its order for good.
    fn check_out(&mut self, hold_id: &HoldId, order_id: OrderId) {
        let Some(at) = self.index_of(hold_id) else {
            return;
        };
        if self.holds[at as usize].status == HoldStatus::Active {
            self.leave(at);
            let hold = &mut self.holds[at as usize];
            hold.status = HoldStatus::Ordered { order_id };
            hold.order_id = Some(order_id);
            self.enter(at);
        }
    }

    fn sell(&mut self, hold_id: &HoldId, order_id: OrderId) {
        // A lapsed hold bought by its order may have been folded: it comes back whole.
        let Some(at) = self.index_of(hold_id).or_else(|| self.raise(hold_id)) else {
            return;
        };
        match self.holds[at as usize].status {
            // A lapsed hold is sold again only when its seats are free (decided). An Active one
            // is sold directly only in logs written before checkout existed.
            HoldStatus::Active
            | HoldStatus::Ordered { .. }
            | HoldStatus::Released
            | HoldStatus::Expired => {
                self.leave(at);
                let hold = &mut self.holds[at as usize];
                hold.status = HoldStatus::Sold { order_id };
                hold.order_id = Some(order_id);
                self.enter(at);
            }
            HoldStatus::Sold { .. } | HoldStatus::Returned { .. } => {}
        }
    }

    /// `SeatsReturned` names the order, the customer, the section, the seats and the quantity; the
    /// hold it undoes is the one of that order, sold, with all of those.
    fn give_back(
        &mut self,
        order_id: &OrderId,
        customer_id: &CustomerId,
        section_id: &SectionId,
        seats: &[SeatLabel],
        quantity: u32,
    ) {
        let Some(candidates) = self.index.holds_by_order.get(order_id) else {
            return;
        };
        let found = candidates.iter().copied().find(|&at| {
            let hold = &self.holds[at as usize];
            hold.status
                == HoldStatus::Sold {
                    order_id: *order_id,
                }
                && &hold.customer_id == customer_id
                && &hold.section_id == section_id
                && hold.seats == seats
                && hold.quantity == quantity
        });
        if let Some(at) = found {
            self.leave(at);
            self.holds[at as usize].status = HoldStatus::Returned {
                order_id: *order_id,
            };
            self.enter(at);
        }
    }

    fn index_of(&self, hold_id: &HoldId) -> Option<HoldIndex> {
        self.index.hold_by_id.get(hold_id).copied()
    }

    /// Index a hold in its current status: Active, Ordered and Sold holds occupy seats and count
    /// for their customer (Active and Ordered ones until they expire); Sold and Returned holds are
    /// found by their order; finished ones are counted for `compact`.
    pub(super) fn enter(&mut self, at: HoldIndex) {
        let hold = &self.holds[at as usize];
        let Some(&section) = self.index.section_by_id.get(&hold.section_id) else {
            return;
        };
        let seats = &mut self.index.sections[section];
        match hold.status {
            HoldStatus::Active | HoldStatus::Ordered { .. } => {
                seats.held += hold.quantity;
                self.index.expiry_queue.insert((hold.expires_at, at));
            }
            HoldStatus::Sold { order_id } => {
                seats.sold += hold.quantity;
                add_to_order(&mut self.index.holds_by_order, order_id, at);
            }
            HoldStatus::Returned { order_id } => {
                add_to_order(&mut self.index.holds_by_order, order_id, at);
                self.index.finished += 1;
                return;
            }
            HoldStatus::Released | HoldStatus::Expired => {
                self.index.finished += 1;
                return;
            }
        }
        seats.occupy(&hold.seats, at);
        *self
            .index
            .tickets_by_customer
            .entry(hold.customer_id.clone())
            .or_insert(0) += hold.quantity;
        let (hold_id, quantity) = (hold.hold_id, hold.quantity);
        self.count_code(&hold_id, quantity, true);
    }

    /// Undo `enter` for a hold about to change status. The order index is kept: an order that was
    /// sold stays known, so returning it twice is recognised as a retry.
    fn leave(&mut self, at: HoldIndex) {
        let hold = &self.holds[at as usize];
        let Some(&section) = self.index.section_by_id.get(&hold.section_id) else {
            return;
        };
        let seats = &mut self.index.sections[section];
        match hold.status {
            HoldStatus::Active | HoldStatus::Ordered { .. } => {
                seats.held = seats.held.saturating_sub(hold.quantity);
                self.index.expiry_queue.remove(&(hold.expires_at, at));
            }
            HoldStatus::Sold { .. } => seats.sold = seats.sold.saturating_sub(hold.quantity),
            HoldStatus::Released | HoldStatus::Expired | HoldStatus::Returned { .. } => {
                self.index.finished = self.index.finished.saturating_sub(1);
                return;
            }
        }
        seats.vacate(&hold.seats, at);
        if let Some(count) = self.index.tickets_by_customer.get_mut(&hold.customer_id) {
            *count = count.saturating_sub(hold.quantity);
            if *count == 0 {
                self.index.tickets_by_customer.remove(&hold.customer_id);
            }
        }
        let (hold_id, quantity) = (hold.hold_id, hold.quantity);
        self.count_code(&hold_id, quantity, false);
    }
}

/// Record that a hold was sold to an order; the list stays in hold order, as a rebuild makes it.
fn add_to_order(
    holds_by_order: &mut HashMap<OrderId, Vec<HoldIndex>>,
    order_id: OrderId,
    at: HoldIndex,
) {
    let holds = holds_by_order.entry(order_id).or_default();
    if let Err(position) = holds.binary_search(&at) {
        holds.insert(position, at);
    }
}
