//! Why an order command failed.

use crate::cold::ColdError;
use crate::inventory::CommandError;
use domain::inventory::InventoryError;
use domain::ordering::OrderError;
use domain::payments::PaymentError;
use tv_nats::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OrderFailure {
    /// The order refused the command.
    #[error(transparent)]
    Rejected(#[from] OrderError),
    /// The hold's inventory refused the checkout.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// The order's payment refused a refund.
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// The hold's event has too many commands queued (429).
    #[error("too many commands are queued for this event; retry shortly")]
    Overloaded,
    /// The store or a writer did not answer; retrying with the same key is safe (503).
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
    /// The payment gateway refused the customer's means of payment when the order was placed:
    /// the order failed and its hold went back on sale (402). `reason` is the gateway's code.
    #[error("the payment gateway refused the means of payment ({reason})")]
    PaymentRefused { reason: String },
    /// The payment gateway did not answer when the order was placed: nothing was placed, and
    /// retrying with the same key is safe (503).
    #[error("the payment gateway did not answer")]
    GatewayUnavailable,
    /// The payment gateway refused the request itself (not the means of payment): nothing was
    /// placed; the operator has to look (502).
    #[error("the payment gateway refused the request")]
    GatewayRefused,
}

impl From<StoreError> for OrderFailure {
    fn from(e: StoreError) -> Self {
        OrderFailure::Unavailable(e.to_string())
    }
}

impl From<ColdError<OrderError>> for OrderFailure {
    fn from(e: ColdError<OrderError>) -> Self {
        match e {
            ColdError::Rejected(rule) => OrderFailure::Rejected(rule),
            ColdError::Unavailable(reason) => OrderFailure::Unavailable(reason),
        }
    }
}

impl From<CommandError> for OrderFailure {
    fn from(e: CommandError) -> Self {
        match e {
            // A hold of an event without an inventory does not exist.
            CommandError::Rejected(InventoryError::NotOpen) => {
                OrderFailure::Inventory(InventoryError::UnknownHold)
            }
            CommandError::Rejected(rule) => OrderFailure::Inventory(rule),
            CommandError::Overloaded => OrderFailure::Overloaded,
            CommandError::Unavailable(reason) => OrderFailure::Unavailable(reason),
        }
    }
}
