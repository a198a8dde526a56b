//! Why an order refuses a command. Each variant is something a caller can act on.

use super::OrderStatus;
use crate::ids::PaymentId;
use crate::Timestamp;

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    #[error("no such order")]
    UnknownOrder,
    #[error("this idempotency key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("the order is invalid: {reason}")]
    InvalidOrder { reason: &'static str },
    #[error("the hold expired before the order was placed")]
    HoldExpired,
    #[error("the order belongs to another customer")]
    NotOwner,
    #[error("the order is {status} and cannot be {action}")]
    InvalidState {
        status: OrderStatus,
        action: &'static str,
    },
    #[error("the order was already paid by payment {payment_id}")]
    AlreadyCaptured { payment_id: PaymentId },
    #[error("the payment captured {captured_minor} but the order's total is {total_minor}")]
    AmountMismatch {
        total_minor: i64,
        captured_minor: i64,
    },
    #[error("the order may be paid until {expires_at}; it cannot expire before")]
    NotDue { expires_at: Timestamp },
    #[error("the tickets do not match the order's section, seats and quantity")]
    TicketsMismatch,
    #[error("a refund of {requested_minor} exceeds the {captured_minor} captured")]
    RefundExceedsCapture {
        captured_minor: i64,
        requested_minor: i64,
    },
    #[error("an amount of money must be positive")]
    InvalidAmount,
    #[error("no ticket has this code; check the code or ask the customer for the ticket")]
    UnknownTicket,
    #[error("the ticket was already checked in at {checked_in_at}")]
    AlreadyCheckedIn { checked_in_at: Timestamp },
    #[error("the ticket's order was {status}: the ticket is void")]
    TicketVoid { status: OrderStatus },
}
