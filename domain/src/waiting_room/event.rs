//! Facts of an event's waiting room, as stored on the waiting room's stream (one subject per
//! event) and read by the service's instances, projections and auditors. Each fact names its
//! customer and carries its own time, so a reader never needs another fact to apply it.
//! Schema version 1 for every variant.

use super::{ShuffleSeed, WaitingRoomConfig};
use crate::ids::{CustomerId, EventId};
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
#[non_exhaustive]
pub enum WaitingRoomEvent {
    /// The event was created with a waiting room; its sale is sold only through this queue.
    WaitingRoomConfigured {
        event_id: EventId,
        config: WaitingRoomConfig,
    },
    /// A customer took their one place: in the prequeue before the sale opens (no position yet),
    /// at the back of the line after.
    CustomerJoined {
        customer_id: CustomerId,
        queue: JoinedQueue,
        #[serde(with = "time::serde::rfc3339")]
        joined_at: Timestamp,
    },
    /// The sale opened: the first `prequeue_len` joiners (in stream order) were put in the order
    /// [`super::shuffled_order`] gives for `seed`, ahead of everyone who joins later.
    PrequeueShuffled {
        seed: ShuffleSeed,
        prequeue_len: u64,
        #[serde(with = "time::serde::rfc3339")]
        shuffled_at: Timestamp,
    },
    /// The customer at the front was let in to buy until `admitted_until`.
    CustomerAdmitted {
        customer_id: CustomerId,
        #[serde(with = "time::serde::rfc3339")]
        admitted_at: Timestamp,
        #[serde(with = "time::serde::rfc3339")]
        admitted_until: Timestamp,
    },
    /// An admission stopped counting against `max_active`.
    AdmissionEnded {
        customer_id: CustomerId,
        reason: AdmissionEndReason,
        #[serde(with = "time::serde::rfc3339")]
        ended_at: Timestamp,
    },
    /// The customer gave up their place (or their live admission); it is gone for good.
    CustomerLeft {
        customer_id: CustomerId,
        #[serde(with = "time::serde::rfc3339")]
        left_at: Timestamp,
    },
    /// Nobody joins any more.
    QueueClosed {
        reason: CloseReason,
        #[serde(with = "time::serde::rfc3339")]
        closed_at: Timestamp,
    },
}

impl WaitingRoomEvent {
    /// The name a downstream system matches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::WaitingRoomConfigured { .. } => "WaitingRoomConfigured",
            Self::CustomerJoined { .. } => "CustomerJoined",
            Self::PrequeueShuffled { .. } => "PrequeueShuffled",
            Self::CustomerAdmitted { .. } => "CustomerAdmitted",
            Self::AdmissionEnded { .. } => "AdmissionEnded",
            Self::CustomerLeft { .. } => "CustomerLeft",
            Self::QueueClosed { .. } => "QueueClosed",
        }
    }
}

/// Which part of the queue a customer joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinedQueue {
    /// Before `sale_opens_at`: the order is drawn when the sale opens.
    Prequeue,
    /// At or after `sale_opens_at`: the back of the line, first come first served.
    Line,
}

/// Why an admission stopped counting against `max_active`. (Leaving is its own fact.)
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AdmissionEndReason {
    /// `admitted_until` passed.
    Expired,
    /// The customer's order was confirmed: they bought what they came for.
    OrderConfirmed,
}

/// Why the queue stopped taking customers. Closing is final.
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CloseReason {
    /// The catalog closed the sale (before `sale_closes_at`, or at it).
    SaleClosed,
    SoldOut,
    EventCancelled,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SaleClosed => "the sale closed",
            Self::SoldOut => "the event is sold out",
            Self::EventCancelled => "the event was cancelled",
        })
    }
}
