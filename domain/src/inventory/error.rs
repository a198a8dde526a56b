//! Why the inventory refuses a command. Each variant is something a caller can act on.

use crate::ids::SeatLabel;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[non_exhaustive]
pub enum InventoryError {
    #[error("the event's inventory is not open: the event is not on sale")]
    NotOpen,
    #[error("the inventory is already open")]
    AlreadyOpen,
    #[error("the sale has not opened yet")]
    SaleNotOpen,
    #[error("the sale has closed")]
    SaleClosed,
    /// The event is sold through a waiting room and the request carries no admission for this
    /// customer and event.
    #[error(
        "this event is sold through its waiting room: join the queue and hold seats once admitted"
    )]
    NotAdmitted,
    #[error("the customer's admission expired: join the queue again")]
    AdmissionExpired,
    #[error("the event has no such section")]
    UnknownSection,
    #[error("the section has no seat {0}")]
    UnknownSeat(SeatLabel),
    #[error("seat {0} is named twice in one request")]
    DuplicateSeat(SeatLabel),
    #[error("a hold must ask for at least one seat and at most {max}")]
    InvalidQuantity { max: u32 },
    #[error("named seats can only be held in a seated section; ask for a quantity")]
    SeatsInGaSection,
    #[error("these seats are not available: {}", list(.0))]
    SeatUnavailable(Vec<SeatLabel>),
    #[error("only {available} tickets are left in this section")]
    SoldOut { available: u32 },
    #[error("no row has {requested} adjacent seats free; ask for fewer or name seats")]
    NoAdjacentSeats { requested: u32 },
    #[error(
        "a customer may have at most {limit} tickets for this event; {current} are held or owned"
    )]
    LimitExceeded { limit: u32, current: u32 },
    #[error("no such hold")]
    UnknownHold,
    #[error("the hold belongs to another customer")]
    NotOwner,
    #[error("the hold is {status} and cannot be {action}")]
    InvalidHoldState {
        status: &'static str,
        action: &'static str,
    },
    #[error("the hold expired")]
    HoldExpired,
    #[error("the hold was not checked out by this order; check it out first")]
    NotCheckedOut,
    #[error("this idempotency key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("no seats of this order are sold")]
    UnknownOrder,
    #[error("{available} tickets of this section are still on sale: hold them instead of waiting")]
    NotSoldOut { available: u32 },
    #[error("no such waiting-list entry")]
    UnknownWaitlistEntry,
}

fn list(seats: &[SeatLabel]) -> String {
    seats
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
