//! Why an event's waiting room refuses a command. Each variant is something a caller can act on.

use super::CloseReason;
use crate::Timestamp;

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WaitingRoomError {
    #[error("the event has no waiting room")]
    NoWaitingRoom,
    #[error("the waiting room is already configured differently")]
    AlreadyConfigured,
    #[error("the queue is closed: {0}")]
    QueueClosed(ClosedBecause),
    #[error("the customer has no place in this queue")]
    NotInQueue,
    #[error("the prequeue is shuffled when the sale opens, at {sale_opens_at}")]
    SaleNotOpen { sale_opens_at: Timestamp },
    #[error("the sale is open but the prequeue has not been shuffled yet")]
    NotShuffled,
}

/// Why a customer cannot join now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClosedBecause {
    #[error("it opens at {0}")]
    NotOpenYet(Timestamp),
    #[error("the sale ended at {0}")]
    SaleEnded(Timestamp),
    #[error("{0}")]
    Closed(CloseReason),
}
