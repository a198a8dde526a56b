//! Why a payment refuses a command. Each variant is something a caller can act on.

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentError {
    #[error("the payment was already captured (gateway reference {gateway_ref})")]
    AlreadyCaptured { gateway_ref: String },
    #[error("the payment is pending at the gateway under another reference ({gateway_ref})")]
    AlreadyPending { gateway_ref: String },
    #[error("the payment was already declined")]
    AlreadyDeclined,
    #[error("the payment was not captured: there is nothing to refund")]
    NotCaptured,
    #[error(
        "a refund of {requested_minor} with {refunded_minor} already refunded exceeds the \
         {captured_minor} captured"
    )]
    RefundExceedsCapture {
        captured_minor: i64,
        refunded_minor: i64,
        requested_minor: i64,
    },
    #[error("no refund was decided under this key")]
    UnknownRefund,
    #[error("this idempotency key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("an amount of money must be positive (a charge may be 0)")]
    InvalidAmount,
}
