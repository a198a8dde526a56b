//! Finished holds in compact form (tombstones).
//!
//! A hold that was released, expired or returned occupies nothing, but its id must answer forever:
//! it is derived from the customer's idempotency key and names the hold in orders, read models and
//! answers, so a retry of the request must get the same hold back, never a second one. What a
//! retry (or the order that may still buy a lapsed hold) needs is the whole hold, so a tombstone
//! keeps all of it, only smaller: the customer as a number in a table of customers, the section as
//! its position, the seats as runs of adjacent positions in a row, the expiry as nanoseconds, the
//! request as "the same as the seats" or "the same quantity". A hold the compact form cannot give
//! back exactly (a non-UTC expiry, a seat its section does not have) is kept whole instead.

use super::section_seats::SectionSeats;
use super::{Hold, HoldStatus, InventorySection, Selection};
use crate::ids::{CustomerId, HoldId, OrderId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

/// A finished hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum Tombstone {
    Compact(CompactHold),
    /// A hold the compact form cannot give back exactly; rare (hand-written logs).
    Whole(Box<Hold>),
}

/// A tombstone in a binary snapshot (`snapshot/binary.rs`): tagged, as a binary format cannot
/// tell the two forms apart by their fields.
#[derive(Serialize)]
#[serde(rename = "Tombstone")]
pub(super) enum BinaryTombstoneRef<'a> {
    Compact(#[serde(serialize_with = "compact_fields")] &'a CompactHold),
    Whole(#[serde(serialize_with = "super::snapshot::binary::whole_hold")] &'a Hold),
}

/// What `BinaryTombstoneRef` writes.
#[derive(Deserialize)]
#[serde(rename = "Tombstone")]
pub(super) enum BinaryTombstone {
    Compact(#[serde(with = "CompactFields")] CompactHold),
    Whole(#[serde(with = "super::snapshot::binary::HoldFields")] Hold),
}

impl Tombstone {
    pub(super) fn binary(&self) -> BinaryTombstoneRef<'_> {
        match self {
            Tombstone::Compact(compact) => BinaryTombstoneRef::Compact(compact),
            Tombstone::Whole(hold) => BinaryTombstoneRef::Whole(hold),
        }
    }
}

impl From<BinaryTombstone> for Tombstone {
    fn from(binary: BinaryTombstone) -> Self {
        match binary {
            BinaryTombstone::Compact(compact) => Tombstone::Compact(compact),
            BinaryTombstone::Whole(hold) => Tombstone::Whole(Box::new(hold)),
        }
    }
}

/// `CompactHold` in a binary snapshot: every field in its place (a binary format cannot leave one
/// out).
#[derive(Serialize, Deserialize)]
#[serde(remote = "CompactHold")]
struct CompactFields {
    expires_at: i64,
    order: Option<OrderId>,
    customer: u32,
    quantity: u32,
    section: u16,
    ended: Ended,
    request: Asked,
    seats: Box<[SeatRun]>,
}

fn compact_fields<S: serde::Serializer>(
    compact: &&CompactHold,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    CompactFields::serialize(compact, serializer)
}

/// A finished hold in about 60 bytes plus 8 per run of adjacent seats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct CompactHold {
    /// `expires_at`, UTC, in nanoseconds since 1970.
    #[serde(rename = "x")]
    expires_at: i64,
    /// The order that checked the hold out (or bought it), if any.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    order: Option<OrderId>,
    /// Position in the customer table.
    #[serde(rename = "c")]
    customer: u32,
    #[serde(rename = "q")]
    quantity: u32,
    /// Position of the section in the sale's configuration.
    #[serde(rename = "s")]
    section: u16,
    #[serde(rename = "e")]
    ended: Ended,
    #[serde(rename = "r")]
    request: Asked,
    /// The seats, in the hold's order, as runs of adjacent seats of one row.
    #[serde(rename = "p", default, skip_serializing_if = "is_empty")]
    seats: Box<[SeatRun]>,
}

fn is_empty(runs: &[SeatRun]) -> bool {
    runs.is_empty()
}

/// How the hold ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Ended {
    Released,
    Expired,
    Returned,
}

/// What the customer asked for, told by what was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Asked {
    /// `Selection::Quantity(quantity)`.
    Quantity,
    /// `Selection::Seats(seats)`: the named seats, in the same order.
    Seats,
}

/// `len` seats of row `row` from seat index `first` (0-based), left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct SeatRun(u32, u16, u16);

/// What a tombstone refers to: the sections as opened and the customers seen so far.
pub(super) struct Context<'a> {
    pub sections: &'a [InventorySection],
    pub seats: &'a [SectionSeats],
    pub customers: &'a Customers,
}

/// The customers of finished holds, each stored once.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Customers {
    list: Vec<CustomerId>,
    position: HashMap<CustomerId, u32>,
}

impl Customers {
    pub(super) fn from_list(list: Vec<CustomerId>) -> Result<Self, String> {
        let mut position = HashMap::with_capacity(list.len());
        for (i, customer) in list.iter().enumerate() {
            if position.insert(customer.clone(), i as u32).is_some() {
                return Err(format!("customer {customer} is listed twice"));
            }
        }
        Ok(Self { list, position })
    }

    pub(super) fn list(&self) -> &[CustomerId] {
        &self.list
    }

    fn intern(&mut self, customer: &CustomerId) -> u32 {
        if let Some(&at) = self.position.get(customer) {
            return at;
        }
        let at = self.list.len() as u32;
        self.list.push(customer.clone());
        self.position.insert(customer.clone(), at);
        at
    }

    fn get(&self, at: u32) -> Option<&CustomerId> {
        self.list.get(at as usize)
    }
}

impl Tombstone {
    /// The tombstone of a finished hold: compact when the compact form gives the hold back
    /// exactly, whole otherwise.
    pub(super) fn bury(
        hold: Hold,
        sections: &[InventorySection],
        seats: &[SectionSeats],
        customers: &mut Customers,
    ) -> Tombstone {
        // The compact form has no room for a ticket type: a typed hold stays whole.
        let compact = match hold.type_id {
            None => CompactHold::encode(&hold, sections, seats),
            Some(_) => None,
        };
        let Some(mut compact) = compact else {
            return Tombstone::Whole(Box::new(hold));
        };
        compact.customer = customers.intern(&hold.customer_id);
        // Exact by construction (`encode` keeps only what it gives back the same); checked in
        // tests and debug builds, where every buried hold is raised again.
        debug_assert_eq!(
            compact.decode(
                hold.hold_id,
                &Context {
                    sections,
                    seats,
                    customers,
                }
            ),
            Some(hold)
        );
        Tombstone::Compact(compact)
    }

    /// The hold it was.
    pub(super) fn raise(&self, hold_id: HoldId, context: &Context<'_>) -> Option<Hold> {
        match self {
            Tombstone::Compact(compact) => compact.decode(hold_id, context),
            Tombstone::Whole(hold) => Some((**hold).clone()),
        }
    }

    /// A tombstone read from a snapshot refers to what exists and stands for a finished hold.
    pub(super) fn check(&self, hold_id: HoldId, context: &Context<'_>) -> Result<(), String> {
        let fits = match self {
            Tombstone::Compact(c) => c.fits(context),
            Tombstone::Whole(hold) => {
                hold.hold_id == hold_id
                    && matches!(
                        hold.status,
                        HoldStatus::Released | HoldStatus::Expired | HoldStatus::Returned { .. }
                    )
                    && context
                        .sections
                        .iter()
                        .any(|s| s.section_id == hold.section_id)
            }
        };
        match fits {
            true => Ok(()),
            false => Err(format!("finished hold {hold_id} does not fit the sale")),
        }
    }

    /// The order whose return ended the hold, if it was returned.
    pub(super) fn returned_by(&self) -> Option<OrderId> {
        match self {
            Tombstone::Compact(c) if c.ended == Ended::Returned => c.order,
            Tombstone::Compact(_) => None,
            Tombstone::Whole(hold) => match hold.status {
                HoldStatus::Returned { order_id } => Some(order_id),
                _ => None,
            },
        }
    }
}

impl CompactHold {
    fn encode(
        hold: &Hold,
        sections: &[InventorySection],
        seats: &[SectionSeats],
    ) -> Option<CompactHold> {
        let (ended, order) = match hold.status {
            HoldStatus::Released => (Ended::Released, hold.order_id),
            HoldStatus::Expired => (Ended::Expired, hold.order_id),
            HoldStatus::Returned { order_id } if hold.order_id == Some(order_id) => {
                (Ended::Returned, Some(order_id))
            }
            _ => return None,
        };
        // A seat label comes back from its row's label and its position; the section from its
        // position; the expiry in UTC.
        if !hold.expires_at.offset().is_utc() {
            return None;
        }
        let section = sections
            .iter()
            .position(|s| s.section_id == hold.section_id)?;
        let grid = seats.get(section)?;
        let mut runs: Vec<SeatRun> = Vec::new();
        for seat in &hold.seats {
            let (row, index) = grid.locate(seat)?;
            let (row, index) = (u32::try_from(row).ok()?, u16::try_from(index).ok()?);
            match runs.last_mut() {
                Some(SeatRun(r, first, len))
                    if *r == row && first.checked_add(*len) == Some(index) =>
                {
                    *len += 1
                }
                _ => runs.push(SeatRun(row, index, 1)),
            }
        }
        let request = match &hold.request {
            Selection::Quantity(q) if *q == hold.quantity => Asked::Quantity,
            Selection::Seats(named) if *named == hold.seats => Asked::Seats,
            _ => return None,
        };
        Some(CompactHold {
            expires_at: i64::try_from(hold.expires_at.unix_timestamp_nanos()).ok()?,
            order,
            customer: 0,
            quantity: hold.quantity,
            section: u16::try_from(section).ok()?,
            ended,
            request,
            seats: runs.into_boxed_slice(),
        })
    }

    /// Every position exists, and the seats fit the section as a hold's would.
    fn fits(&self, context: &Context<'_>) -> bool {
        let Some(grid) = context.seats.get(usize::from(self.section)) else {
            return false;
        };
        let mut count = 0u32;
        for &SeatRun(row, first, len) in self.seats.iter() {
            let Some(row) = grid.rows.get(row as usize) else {
                return false;
            };
            if usize::from(first) + usize::from(len) > row.slots.len() {
                return false;
            }
            count += u32::from(len);
        }
        let seats_fit = match grid.is_seated() {
            true => count == self.quantity && count > 0,
            false => count == 0,
        };
        seats_fit
            && context.customers.get(self.customer).is_some()
            && (self.ended != Ended::Returned || self.order.is_some())
    }

    fn decode(&self, hold_id: HoldId, context: &Context<'_>) -> Option<Hold> {
        let section = usize::from(self.section);
        let grid = context.seats.get(section)?;
        let mut seats = Vec::with_capacity(self.quantity.min(1024) as usize);
        for &SeatRun(row, first, len) in self.seats.iter() {
            for index in first..first.checked_add(len)? {
                seats.push(grid.label(row as usize, usize::from(index))?);
            }
        }
        let status = match (self.ended, self.order) {
            (Ended::Released, _) => HoldStatus::Released,
            (Ended::Expired, _) => HoldStatus::Expired,
            (Ended::Returned, Some(order_id)) => HoldStatus::Returned { order_id },
            (Ended::Returned, None) => return None,
        };
        let request = match self.request {
            Asked::Quantity => Selection::Quantity(self.quantity),
            Asked::Seats => Selection::Seats(seats.clone()),
        };
        Some(Hold {
            hold_id,
            customer_id: context.customers.get(self.customer)?.clone(),
            section_id: context.sections.get(section)?.section_id.clone(),
            seats,
            quantity: self.quantity,
            expires_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.expires_at))
                .ok()?,
            request,
            status,
            order_id: self.order,
            type_id: None,
        })
    }
}
