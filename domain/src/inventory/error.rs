//! Why the inventory refuses a command. Each variant is something a caller can act on.

use crate::ids::SeatLabel;
use serde::{Deserialize, Deserializer, Serialize};

/// Serializable, so that a refusal decided by the instance that owns the event reaches the caller
/// through another instance unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
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
    /// The event was cancelled: nothing more is sold (a paid order is refunded instead).
    #[error("the event was cancelled")]
    EventCancelled,
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
        #[serde(deserialize_with = "hold_word")]
        status: HoldWord,
        #[serde(deserialize_with = "hold_word")]
        action: HoldWord,
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
    #[error("the event has no such presale")]
    UnknownPresale,
    /// During a presale: no code, a wrong one, or a code of another presale.
    #[error("a hold during this presale needs one of its access codes")]
    AccessCodeInvalid,
    #[error("this access code is good for {max} tickets; {spent} are held or sold with it")]
    AccessCodeUsedUp { max: u32, spent: u32 },
    #[error("no such block")]
    UnknownBlock,
    #[error("a block must take at least one seat")]
    EmptyBlock,
    #[error("the section sells no ticket type of this id")]
    UnknownTicketType,
}

/// A hold's status or a refused action, as `InvalidHoldState` names them: one of [`HOLD_WORDS`].
pub type HoldWord = &'static str;

/// Every word `InvalidHoldState` is built with: the hold statuses and the refused actions.
pub(crate) const HOLD_WORDS: &[&str] = &[
    "active",
    "released",
    "expired",
    "sold",
    "returned",
    "ordered",
    "checked out",
    "abandoned",
    "given back by leaving the waiting list",
];

/// A word of [`HOLD_WORDS`], read back as the `'static` string the error holds.
fn hold_word<'de, D: Deserializer<'de>>(deserializer: D) -> Result<HoldWord, D::Error> {
    let word = String::deserialize(deserializer)?;
    HOLD_WORDS
        .iter()
        .find(|known| **known == word)
        .copied()
        .ok_or_else(|| serde::de::Error::custom(format!("unknown hold state word {word:?}")))
}

fn list(seats: &[SeatLabel]) -> String {
    seats
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(error: InventoryError) -> Result<InventoryError, serde_json::Error> {
        serde_json::from_str(&serde_json::to_string(&error).expect("serializable"))
    }

    #[test]
    fn a_refusal_reads_back_as_itself_with_every_hold_word() {
        for word in HOLD_WORDS {
            let refused = InventoryError::InvalidHoldState {
                status: word,
                action: word,
            };
            assert_eq!(round_trip(refused.clone()).unwrap(), refused);
        }
        for refused in [
            InventoryError::SoldOut { available: 3 },
            InventoryError::SeatUnavailable(vec!["A-1".parse().unwrap()]),
            InventoryError::LimitExceeded {
                limit: 8,
                current: 7,
            },
            InventoryError::NotOpen,
        ] {
            assert_eq!(round_trip(refused.clone()).unwrap(), refused);
        }
    }

    #[test]
    fn every_hold_status_is_a_hold_word_and_other_words_are_refused() {
        use crate::ids::{CustomerId, IdempotencyKey, OrderId};
        use crate::inventory::HoldStatus;
        let customer: CustomerId = "alice".parse().unwrap();
        let order_id = OrderId::derive(&customer, &IdempotencyKey::parse("k").unwrap());
        for status in [
            HoldStatus::Active,
            HoldStatus::Released,
            HoldStatus::Expired,
            HoldStatus::Sold { order_id },
            HoldStatus::Returned { order_id },
            HoldStatus::Ordered { order_id },
        ] {
            assert!(HOLD_WORDS.contains(&status.name()), "{}", status.name());
        }
        let unknown = r#"{"InvalidHoldState":{"status":"lost","action":"sold"}}"#;
        assert!(serde_json::from_str::<InventoryError>(unknown).is_err());
    }
}
