//! What the waiting-room service can ask of an event's queue.

use super::{CloseReason, ShuffleSeed, WaitingRoomConfig};
use crate::ids::{CustomerId, EventId};

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WaitingRoomCommand {
    /// The event was created with this waiting room (from the catalog's `EventCreated`).
    Configure {
        event_id: EventId,
        config: WaitingRoomConfig,
    },
    /// `POST /events/{id}/queue`: take a place, once; again decides nothing.
    Join { customer_id: CustomerId },
    /// `POST /events/{id}/queue/leave`: give the place up; again decides nothing.
    Leave { customer_id: CustomerId },
    /// At `sale_opens_at`, put the prequeue in the order `seed` draws. The service draws the seed
    /// from the operating system; a second shuffle decides nothing (the first order stands).
    ShufflePrequeue { seed: ShuffleSeed },
    /// Let in the next customers in line, as many as the pacing and `max_active` allow at `now`;
    /// records the admissions that expired first.
    Admit,
    /// An admission stops counting against `max_active` before it expires (from the order
    /// reactor). Decides nothing if the customer has no live admission.
    FinishAdmission {
        customer_id: CustomerId,
        reason: FinishReason,
    },
    /// Record the admissions that expired by `now`.
    ExpireDue,
    /// Stop taking customers (the sale closed, sold out, the event was cancelled).
    Close { reason: CloseReason },
}

/// Why an admission is finished early.
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FinishReason {
    OrderConfirmed,
}
