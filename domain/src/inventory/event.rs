//! Facts of an event's inventory, as stored on `inventory.<event>` and read by projections,
//! reactors and downstream systems. Every fact that frees or takes seats names them (or the GA
//! quantity), so a reader never needs the hold's history to apply it.
//! Schema version 1 for every variant.

use super::{AccessCodeHash, BlockReason, Presale, Selection};
use crate::catalog::{SectionLayout, TicketType};
use crate::ids::{
    BlockId, CustomerId, HoldId, OrderId, PresaleId, SeatLabel, SectionId, TicketTypeId, WaitlistId,
};
use crate::money::Currency;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// A section as the inventory knows it: its layout and price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventorySection {
    pub section_id: SectionId,
    pub price_minor: i64,
    pub layout: SectionLayout,
    /// The section's ticket types and their prices (absent: one type at `price_minor`, see
    /// [`crate::catalog::effective_types`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ticket_types: Vec<TicketType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[non_exhaustive]
pub enum InventoryEvent {
    InventoryOpened {
        sections: Vec<InventorySection>,
        currency: Currency,
        hold_ttl_seconds: u32,
        max_tickets_per_customer: u32,
        #[serde(with = "time::serde::rfc3339::option")]
        sale_opens_at: Option<Timestamp>,
        #[serde(with = "time::serde::rfc3339::option")]
        sale_closes_at: Option<Timestamp>,
        /// Sold only through a waiting room (absent, so false, in inventories opened before
        /// waiting rooms existed).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        waiting_room: bool,
        /// The presales before the general sale (absent when there are none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        presales: Vec<Presale>,
    },
    /// `seats` is empty in a general-admission section; `quantity` is always the ticket count.
    /// `request` is what the customer asked for, kept to recognise a retry of the same request.
    SeatsHeld {
        hold_id: HoldId,
        customer_id: CustomerId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: Timestamp,
        request: Selection,
    },
    HoldReleased {
        hold_id: HoldId,
        customer_id: CustomerId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
    },
    HoldExpired {
        hold_id: HoldId,
        customer_id: CustomerId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
    },
    /// The hold was checked out into an order: its seats stay taken (still held, not sold) until
    /// the order is paid or the hold's `expires_at`, whichever comes first.
    HoldCheckedOut {
        hold_id: HoldId,
        order_id: OrderId,
        customer_id: CustomerId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
    },
    SeatsSold {
        hold_id: HoldId,
        order_id: OrderId,
        customer_id: CustomerId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
    },
    SeatsReturned {
        order_id: OrderId,
        customer_id: CustomerId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
    },
    /// An operator closed the sale at `closed_at`: no new holds or waiting-list entries from then
    /// on (before the window's own end); live holds may still be checked out and paid.
    SaleClosed {
        #[serde(with = "time::serde::rfc3339")]
        closed_at: Timestamp,
    },
    /// An operator called the event off at `cancelled_at`: the sale ends, and the live holds'
    /// `HoldReleased` and the waiting entries' `WaitlistLeft` follow it in the same decision.
    /// Holds checked out or sold stay until their orders are settled.
    SaleCancelled {
        #[serde(with = "time::serde::rfc3339")]
        cancelled_at: Timestamp,
    },
    /// A customer waits for `quantity` tickets of a sold-out section.
    WaitlistJoined {
        waitlist_id: WaitlistId,
        customer_id: CustomerId,
        section_id: SectionId,
        quantity: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        adjacent: bool,
    },
    /// The `SeatsHeld` just before it is the entry's offer: seats that came back, held for its
    /// customer with the normal time to live.
    WaitlistOffered {
        waitlist_id: WaitlistId,
        customer_id: CustomerId,
        hold_id: HoldId,
    },
    /// The entry's offer ran out (the `HoldExpired` just before it): the entry ends.
    WaitlistOfferExpired {
        waitlist_id: WaitlistId,
        customer_id: CustomerId,
        hold_id: HoldId,
    },
    /// The entry ends: its customer left the list, or gave its offered hold back (`hold_id`, whose
    /// `HoldReleased` comes just before).
    WaitlistLeft {
        waitlist_id: WaitlistId,
        customer_id: CustomerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hold_id: Option<HoldId>,
    },
    /// An operator loaded access codes into a presale: the keyed hashes of the codes it did not
    /// have yet (never the codes themselves; see `access_code.rs`).
    AccessCodesLoaded {
        presale_id: PresaleId,
        codes: Vec<AccessCodeHash>,
    },
    /// The `SeatsHeld` just before it was placed during a presale with this code: its tickets
    /// count against the code's budget while the hold is live or sold.
    AccessCodeSpent {
        hold_id: HoldId,
        presale_id: PresaleId,
        code: AccessCodeHash,
    },
    /// An operator took these seats (empty in a general-admission section) or this quantity off
    /// sale. `request` is what the operator asked for, kept to recognise a retry.
    SeatsBlocked {
        block_id: BlockId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
        reason: BlockReason,
        request: Selection,
    },
    /// The block's seats are back on sale; offers to the section's waiting list may follow in the
    /// same commit.
    BlockReleased {
        block_id: BlockId,
        section_id: SectionId,
        seats: Vec<SeatLabel>,
        quantity: u32,
    },
    /// The `SeatsHeld` just before it, in a section that lists ticket types, is of this type: what
    /// each of its tickets costs. A hold without it is of its section's default type.
    HoldTyped {
        hold_id: HoldId,
        type_id: TicketTypeId,
    },
}

impl InventoryEvent {
    /// The name a downstream system matches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InventoryOpened { .. } => "InventoryOpened",
            Self::SeatsHeld { .. } => "SeatsHeld",
            Self::HoldReleased { .. } => "HoldReleased",
            Self::HoldExpired { .. } => "HoldExpired",
            Self::HoldCheckedOut { .. } => "HoldCheckedOut",
            Self::SeatsSold { .. } => "SeatsSold",
            Self::SeatsReturned { .. } => "SeatsReturned",
            Self::SaleClosed { .. } => "SaleClosed",
            Self::SaleCancelled { .. } => "SaleCancelled",
            Self::WaitlistJoined { .. } => "WaitlistJoined",
            Self::WaitlistOffered { .. } => "WaitlistOffered",
            Self::WaitlistOfferExpired { .. } => "WaitlistOfferExpired",
            Self::WaitlistLeft { .. } => "WaitlistLeft",
            Self::AccessCodesLoaded { .. } => "AccessCodesLoaded",
            Self::AccessCodeSpent { .. } => "AccessCodeSpent",
            Self::SeatsBlocked { .. } => "SeatsBlocked",
            Self::BlockReleased { .. } => "BlockReleased",
            Self::HoldTyped { .. } => "HoldTyped",
        }
    }

    /// True for a fact that completes the one before it (an offer's hold and the offer, an
    /// offered hold's expiry and the entry's, a presale hold and the code it spent): a commit never
    /// separates the two.
    pub fn completes_previous(&self) -> bool {
        matches!(
            self,
            Self::WaitlistOffered { .. }
                | Self::WaitlistOfferExpired { .. }
                | Self::AccessCodeSpent { .. }
                | Self::HoldTyped { .. }
        )
    }
}
