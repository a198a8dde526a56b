//! The inventory aggregate's state and its read API.
//!
//! What the state *is*: the sale's configuration (from `InventoryOpened`) and every hold ever
//! placed, with its status. The holds that still matter (Active, Ordered, Sold) are kept whole;
//! finished ones (Released, Expired, Returned) are folded by `compact` into tombstones
//! (`finished.rs`) that give the hold back on demand, so memory follows the live holds and not the
//! length of the sale. Everything else (who sits where, counts per section and per customer, the
//! expiry queue, holds by order) is an index derived from the whole holds, kept up to date by
//! `apply` (`apply.rs`) and rebuilt when a snapshot is loaded (`snapshot.rs`) or holds are folded
//! (`compact.rs`).
//!
//! Expiry is lazy: a hold whose `expires_at <= now` stays `Active` (or `Ordered`) here until its
//! `HoldExpired` is applied, but every read that takes a `now` treats it as gone (`live_view.rs`).

use super::blocks::Blocks;
use super::finished::{Context, Customers, Tombstone};
use super::live_view::LiveView;
use super::presale::{Presale, PresaleCodes, SpentCode};
use super::section_seats::{HoldIndex, SectionSeats, Slot};
use super::waitlist::{Waitlist, WaitlistEntry, WaitlistPlace};
use super::{InventorySection, Selection};
use crate::ids::{
    BlockId, CustomerId, HoldId, OrderId, SeatLabel, SectionId, TicketTypeId, WaitlistId,
};
use crate::money::Currency;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

/// A hold on named seats or on a general-admission quantity, in one section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    pub section_id: SectionId,
    /// The held seats; empty in a general-admission section.
    pub seats: Vec<SeatLabel>,
    /// The ticket count, in every section.
    pub quantity: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: Timestamp,
    /// What the customer asked for: a retry must ask for the same.
    pub request: Selection,
    pub status: HoldStatus,
    /// The order that checked the hold out (or bought it), if any. Kept when the hold expires: only
    /// that order may still buy a lapsed hold, and its checkout is recognised as a retry forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// The hold's ticket type (`HoldTyped`); `None`: its section's default type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<TicketTypeId>,
}

/// Where a hold is in its life: `Active` → `Ordered` → `Sold` → `Returned`, or `Released` (from
/// `Active` by its customer, or from `Ordered` when its order abandons it) or `Expired` (from
/// `Active` or `Ordered`). `Active` and `Ordered` (until
/// `expires_at`) and `Sold` occupy seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoldStatus {
    Active,
    Released,
    Expired,
    Sold {
        order_id: OrderId,
    },
    Returned {
        order_id: OrderId,
    },
    /// Checked out into an order being paid: still held, and still expires at `expires_at`.
    Ordered {
        order_id: OrderId,
    },
}

impl HoldStatus {
    /// The stable name used in errors and read models.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Sold { .. } => "sold",
            Self::Returned { .. } => "returned",
            Self::Ordered { .. } => "ordered",
        }
    }

    /// Active or Ordered: the hold occupies its seats until its `expires_at`.
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Active | Self::Ordered { .. })
    }
}

/// One seat at some `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatStatus {
    Available,
    Held(HoldId),
    Sold(OrderId),
    /// Taken off sale by an operator's block.
    Blocked(BlockId),
}

/// The numbers of one section at some `now`: `available + held + sold + blocked == capacity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionAvailability {
    pub section_id: SectionId,
    pub capacity: u32,
    pub available: u32,
    pub held: u32,
    pub sold: u32,
    /// Tickets taken off sale by live blocks.
    #[serde(default)]
    pub blocked: u32,
}

/// The sale as `InventoryOpened` set it up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct SaleConfig {
    pub sections: Vec<InventorySection>,
    pub currency: Currency,
    pub hold_ttl_seconds: u32,
    pub max_tickets_per_customer: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_opens_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_closes_at: Option<Timestamp>,
    /// Sold only through a waiting room (absent from older snapshots: false).
    #[serde(default)]
    pub waiting_room: bool,
    /// When an operator closed the sale (`SaleClosed`), if before `sale_closes_at`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub closed_at: Option<Timestamp>,
    /// When an operator cancelled the event (`SaleCancelled`): the sale ends then too.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub cancelled_at: Option<Timestamp>,
    /// The presales before the general sale (absent from older sales: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presales: Vec<Presale>,
}

impl SaleConfig {
    /// When the sale ends: its window's end, or the operator's close if that came first.
    pub fn closes_at(&self) -> Option<Timestamp> {
        [self.sale_closes_at, self.closed_at, self.cancelled_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// True once the sale has ended at `now`.
    pub fn closed(&self, now: Timestamp) -> bool {
        self.closes_at().is_some_and(|closes| now >= closes)
    }
}

/// Indexes derived from the configuration and the holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Index {
    /// Parallel to `SaleConfig::sections`.
    pub sections: Vec<SectionSeats>,
    pub section_by_id: HashMap<SectionId, usize>,
    pub hold_by_id: HashMap<HoldId, HoldIndex>,
    /// Holds ever sold to an order, in hold order (kept after a return, to recognise a retry).
    pub holds_by_order: HashMap<OrderId, Vec<HoldIndex>>,
    /// Tickets in Active and Ordered (due ones included) and Sold holds; customers at 0 are absent.
    pub tickets_by_customer: HashMap<CustomerId, u32>,
    /// Every Active or Ordered hold, by expiry then placement: the due ones are a prefix.
    pub expiry_queue: BTreeSet<(Timestamp, HoldIndex)>,
    /// How many whole holds are finished (Released, Expired, Returned): what `compact` may fold.
    pub finished: u32,
    /// Tickets in Active and Ordered (due ones included) and Sold holds, per presale code they
    /// spent; codes at 0 may be absent.
    pub code_tickets: HashMap<SpentCode, u32>,
}

/// The inventory of one event. `Default` is the inventory before `InventoryOpened`.
///
/// Serializes as a snapshot (configuration and holds); deserializing rebuilds the indexes.
#[derive(Clone, Default)]
pub struct EventInventory {
    pub(super) config: Option<SaleConfig>,
    /// Whole holds, in placement order: every live one, and finished ones not folded yet.
    pub(super) holds: Vec<Hold>,
    pub(super) index: Index,
    /// Finished holds folded into tombstones: not in any index, found by id only.
    pub(super) finished: HashMap<HoldId, Tombstone>,
    /// The customers the tombstones name.
    pub(super) customers: Customers,
    /// Orders with a returned hold folded away: returning them again is a retry, not unknown.
    pub(super) returned_orders: HashSet<OrderId>,
    /// Who waits for seats of sold-out sections.
    pub(super) waitlist: Waitlist,
    /// The presales' codes (hashed) and what each hold placed during a presale spent.
    pub(super) presale_codes: PresaleCodes,
    /// Every block an operator made (`blocks.rs`).
    pub(super) blocks: Blocks,
}

impl fmt::Debug for EventInventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The seat grid of a big venue would drown any log line: show what identifies the state.
        f.debug_struct("EventInventory")
            .field("open", &self.is_open())
            .field("sections", &self.index.sections.len())
            .field("holds", &self.holds.len())
            .field("finished", &self.finished.len())
            .field("next_expiry", &self.next_expiry())
            .finish()
    }
}

/// Two inventories are equal when their configuration, holds and tombstones are: the indexes
/// follow.
impl PartialEq for EventInventory {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.holds == other.holds
            && self.finished == other.finished
            && self.customers == other.customers
            && self.returned_orders == other.returned_orders
            && self.waitlist == other.waitlist
            && self.presale_codes == other.presale_codes
            && self.blocks == other.blocks
    }
}

impl EventInventory {
    /// True once `InventoryOpened` has been applied.
    pub fn is_open(&self) -> bool {
        self.config.is_some()
    }

    /// A hold ever placed, whatever its status: borrowed while it is kept whole, rebuilt from its
    /// tombstone once folded.
    pub fn hold(&self, hold_id: &HoldId) -> Option<Cow<'_, Hold>> {
        if let Some(&index) = self.index.hold_by_id.get(hold_id) {
            return self.holds.get(index as usize).map(Cow::Borrowed);
        }
        let tombstone = self.finished.get(hold_id)?;
        tombstone.raise(*hold_id, &self.context()).map(Cow::Owned)
    }

    /// Every hold ever placed, whatever its status: the whole ones in placement order, then the
    /// folded ones in no particular order.
    pub fn holds(&self) -> impl Iterator<Item = Cow<'_, Hold>> + '_ {
        let context = self.context();
        self.holds.iter().map(Cow::Borrowed).chain(
            self.finished
                .iter()
                .filter_map(move |(id, tombstone)| tombstone.raise(*id, &context).map(Cow::Owned)),
        )
    }

    /// How many holds were ever placed.
    pub fn holds_count(&self) -> usize {
        self.holds.len() + self.finished.len()
    }

    /// How many holds are kept whole (live ones, and finished ones not folded yet): what the
    /// indexes are as big as.
    pub fn whole_holds_count(&self) -> usize {
        self.holds.len()
    }

    /// What the tombstones refer to.
    pub(super) fn context(&self) -> Context<'_> {
        Context {
            sections: self.sections(),
            seats: &self.index.sections,
            customers: &self.customers,
        }
    }

    /// True when a hold of this order was returned and then folded away.
    pub(super) fn order_returned(&self, order_id: &OrderId) -> bool {
        self.returned_orders.contains(order_id)
    }

    /// The orders whose holds are checked out or sold, in order id order: what a cancellation of
    /// the event still has to settle (each is cancelled, its seats returned, its money refunded).
    /// An order leaves this list once its seats are back or its hold ran out.
    pub fn orders_to_settle(&self) -> Vec<OrderId> {
        let orders: BTreeSet<OrderId> = self
            .holds
            .iter()
            .filter_map(|hold| match hold.status {
                HoldStatus::Ordered { order_id } | HoldStatus::Sold { order_id } => Some(order_id),
                _ => None,
            })
            .collect();
        orders.into_iter().collect()
    }

    /// When an operator cancelled the event, if one did.
    pub fn cancelled_at(&self) -> Option<Timestamp> {
        self.config.as_ref().and_then(|config| config.cancelled_at)
    }

    /// The whole holds sold to an order (returned ones included until folded), in placement order.
    pub fn holds_of_order(&self, order_id: &OrderId) -> impl Iterator<Item = &Hold> + '_ {
        self.index
            .holds_by_order
            .get(order_id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.holds.get(i as usize))
    }

    /// The earliest `expires_at` of the Active and Ordered holds: when the expiry timer should fire.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        self.index.expiry_queue.first().map(|(at, _)| *at)
    }

    /// Capacity, available, held and sold per section at `now` (holds due at `now` are not held).
    pub fn availability(&self, now: Timestamp) -> Vec<SectionAvailability> {
        let view = self.at(now);
        self.sections()
            .iter()
            .enumerate()
            .map(|(i, section)| {
                let seats = &self.index.sections[i];
                let held = seats.held.saturating_sub(view.freed_in_section(i));
                SectionAvailability {
                    section_id: section.section_id.clone(),
                    capacity: seats.capacity,
                    available: seats
                        .capacity
                        .saturating_sub(held + seats.sold + seats.blocked),
                    held,
                    sold: seats.sold,
                    blocked: seats.blocked,
                }
            })
            .collect()
    }

    /// One seat at `now`; `None` when the section or the seat does not exist. The seat of a hold
    /// due at `now` is `Available`.
    pub fn seat_status(
        &self,
        section_id: &SectionId,
        seat: &SeatLabel,
        now: Timestamp,
    ) -> Option<SeatStatus> {
        let section = *self.index.section_by_id.get(section_id)?;
        let (row, index) = self.index.sections[section].locate(seat)?;
        let view = self.at(now);
        let slot = self.index.sections[section].slot(row, index);
        if slot == Slot::BLOCKED {
            let block = self.blocks.list().iter().find(|block| {
                !block.released && &block.section_id == section_id && block.seats.contains(seat)
            })?;
            return Some(SeatStatus::Blocked(block.block_id));
        }
        Some(match view.live_hold(slot) {
            None => SeatStatus::Available,
            Some(hold) => match hold.status {
                HoldStatus::Sold { order_id } => SeatStatus::Sold(order_id),
                _ => SeatStatus::Held(hold.hold_id),
            },
        })
    }

    /// The tickets a customer holds (live holds at `now`) and owns, across all sections.
    pub fn customer_tickets(&self, customer_id: &CustomerId, now: Timestamp) -> u32 {
        self.at(now).tickets_of(customer_id)
    }

    /// The time to live of a new hold; 0 before the inventory is open.
    pub fn hold_ttl_seconds(&self) -> u32 {
        self.config.as_ref().map_or(0, |c| c.hold_ttl_seconds)
    }

    /// How many tickets one customer may hold and own; 0 before the inventory is open.
    pub fn max_tickets_per_customer(&self) -> u32 {
        self.config
            .as_ref()
            .map_or(0, |c| c.max_tickets_per_customer)
    }

    pub fn sale_opens_at(&self) -> Option<Timestamp> {
        self.config.as_ref().and_then(|c| c.sale_opens_at)
    }

    /// When the sale ends: its window's end, or an operator's earlier close.
    pub fn sale_closes_at(&self) -> Option<Timestamp> {
        self.config.as_ref().and_then(SaleConfig::closes_at)
    }

    /// The ticket type of a hold, with its price: the one `HoldTyped` named, else the section's
    /// default type.
    pub fn ticket_type_of(&self, hold: &Hold) -> Option<crate::catalog::TicketType> {
        let section = self
            .sections()
            .iter()
            .find(|s| s.section_id == hold.section_id)?;
        super::ticket_types::type_of(section, hold.type_id.as_ref()).ok()
    }

    /// The price of one ticket in a section, in minor units of `currency()`.
    pub fn price_of(&self, section_id: &SectionId) -> Option<i64> {
        let section = *self.index.section_by_id.get(section_id)?;
        Some(self.sections()[section].price_minor)
    }

    pub fn currency(&self) -> Option<Currency> {
        self.config.as_ref().map(|c| c.currency)
    }

    /// The sections as opened; empty before the inventory is open.
    pub fn sections(&self) -> &[InventorySection] {
        self.config.as_ref().map_or(&[], |c| &c.sections)
    }

    /// A waiting-list entry and, while it waits, its place in its section's line.
    pub fn waitlist_place(&self, id: &WaitlistId) -> Option<WaitlistPlace> {
        Some(WaitlistPlace {
            entry: self.waitlist.get(id)?.clone(),
            position: self.waitlist.position(id),
        })
    }

    /// The customer's waiting or offered entry, if any.
    pub fn live_waitlist_entry(&self, customer: &CustomerId) -> Option<&WaitlistEntry> {
        self.waitlist.live_entry_of(customer)
    }

    /// Every waiting-list entry ever made, in joining order.
    pub fn waitlist_entries(&self) -> &[WaitlistEntry] {
        self.waitlist.entries()
    }

    /// The presales before the general sale, in the catalog's order; none before it is open.
    pub fn presales(&self) -> &[Presale] {
        self.config.as_ref().map_or(&[], |c| &c.presales)
    }

    /// The state as a decision at `now` sees it.
    pub(super) fn at(&self, now: Timestamp) -> LiveView<'_> {
        LiveView::new(self, now)
    }
}
