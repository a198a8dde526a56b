//! What buyers, operators and reactors can ask of an event's inventory.

use crate::ids::{
    BlockId, CustomerId, HoldId, OrderId, PresaleId, SeatLabel, SectionId, TicketTypeId, WaitlistId,
};
use crate::inventory::{AccessCodeHash, BlockReason, InventorySection, Presale};
use crate::waiting_room::AdmissionClaims;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// Serializable, so that an instance that does not own the event can forward it to the one that
/// does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[non_exhaustive]
pub enum InventoryCommand {
    /// Open the inventory when the event is published (sections, limit, TTL and sale window are
    /// copied from the catalog so the inventory decides alone).
    Open {
        sections: Vec<InventorySection>,
        currency: crate::money::Currency,
        hold_ttl_seconds: u32,
        max_tickets_per_customer: u32,
        #[serde(with = "time::serde::rfc3339::option")]
        sale_opens_at: Option<Timestamp>,
        #[serde(with = "time::serde::rfc3339::option")]
        sale_closes_at: Option<Timestamp>,
        /// Sold only through a waiting room: every new hold needs an admission.
        waiting_room: bool,
        /// The presales before the general sale, each needing an access code.
        #[serde(default)]
        presales: Vec<Presale>,
    },
    /// Hold named seats or a quantity for a customer until `now + hold_ttl`.
    PlaceHold(HoldRequest),
    /// The customer gives a live hold back.
    ReleaseHold {
        hold_id: HoldId,
        customer_id: CustomerId,
    },
    /// Record the expiry of every hold due at `now` (sent by the expiry reactor; a late or
    /// repeated one decides nothing).
    ExpireDue,
    /// The customer checks a live hold out into an order: the hold becomes `Ordered` by it, keeps
    /// its seats and its `expires_at` (the order's deadline: payment must finish before it), and
    /// can no longer be released by the customer. Repeating it for the same order decides nothing.
    CheckoutHold {
        hold_id: HoldId,
        order_id: OrderId,
        customer_id: CustomerId,
    },
    /// Payment succeeded: sell the hold's seats to the order that checked it out. A hold that
    /// expired meanwhile is still sold when every one of its seats (or its GA quantity) is free
    /// again and its customer stays within the limit; otherwise refused.
    SellHold { hold_id: HoldId, order_id: OrderId },
    /// An order was cancelled or refunded: its seats go back on sale, once.
    ReturnSeats { order_id: OrderId },
    /// The order that checked the hold out will never pay for it (its payment was declined, or
    /// its customer cancelled it before paying): the hold is released and its seats go back on
    /// sale now rather than at its `expires_at`. Only that order may abandon it, and only while it
    /// is unpaid (a sold hold comes back with `ReturnSeats`). Repeating it decides nothing, nor
    /// does abandoning a hold that expired meanwhile.
    AbandonCheckout { hold_id: HoldId, order_id: OrderId },
    /// Wait for `quantity` tickets of a sold-out section: seats that come back go to the earliest
    /// entry they can fill, as a hold of its customer. `waitlist_id` is derived from the event, the
    /// customer and the idempotency key; a customer already waiting (or offered) gets that entry.
    JoinWaitlist {
        waitlist_id: WaitlistId,
        customer_id: CustomerId,
        section_id: SectionId,
        quantity: u32,
        /// Seated sections: only seats side by side in one row will do.
        adjacent: bool,
    },
    /// An operator closes the sale now: no new holds from then on. Closing a sale that has ended
    /// already decides nothing.
    CloseSale,
    /// An operator calls the event off: no new holds from then on, every live hold is released
    /// and every waiting-list entry ends. Holds checked out or sold stay: their orders are
    /// cancelled and settled by the application (the writer answers with them, see
    /// [`crate::inventory::EventInventory::orders_to_settle`]). Cancelling again decides nothing.
    CancelSale,
    /// The customer leaves the waiting list; an offered hold not yet checked out is given back.
    LeaveWaitlist {
        waitlist_id: WaitlistId,
        customer_id: CustomerId,
    },
    /// An operator loads access codes (their keyed hashes) into a presale. A code the presale has
    /// already is not added again: repeating it decides nothing.
    LoadAccessCodes {
        presale_id: PresaleId,
        codes: Vec<AccessCodeHash>,
    },
    /// An operator takes named seats (seated section) or a quantity (general admission, or the
    /// best available adjacent seats of a seated section) off sale until `ReleaseBlock`. Free
    /// seats only; a block never expires and counts against no customer. `block_id` is derived
    /// from the event and the idempotency key: the same request again decides nothing.
    BlockSeats {
        block_id: BlockId,
        section_id: SectionId,
        selection: Selection,
        reason: BlockReason,
    },
    /// The block's seats go back on sale, to the section's waiting list first. Releasing a
    /// released block decides nothing.
    ReleaseBlock { block_id: BlockId },
}

/// A request for a hold. `hold_id` is derived from the event, the customer and the idempotency
/// key, so a retry names the same hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldRequest {
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    pub section_id: SectionId,
    pub selection: Selection,
    /// The claims of the admission token the request carried, its signature already verified;
    /// needed by every new hold of an event sold through a waiting room, ignored otherwise.
    pub admission: Option<AdmissionClaims>,
    /// The keyed hash of the access code the request carried: needed by a hold during a presale,
    /// ignored during the general sale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_code: Option<AccessCodeHash>,
    /// The ticket type of every ticket of the hold; `None`: the section's default (first) type.
    #[serde(default)]
    pub type_id: Option<TicketTypeId>,
}

/// What a hold asks for: named seats, or a quantity (best available, adjacent in one row for a
/// seated section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    Seats(Vec<SeatLabel>),
    Quantity(u32),
}
