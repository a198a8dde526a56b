//! The money side of command-svc: the payment gateway behind a trait ([`PaymentGateway`]) and the
//! test gateway that stands in for a real one ([`TestGateway`]).
//!
//! The gateway is called only by the fulfilment process manager (`crate::fulfilment`), never from
//! an HTTP handler's own code, and always with an idempotency key: the order id for its one charge,
//! the refund's key (decided first on the payment aggregate) for a refund. A retried call after a
//! crash, a timeout or a redelivered message therefore returns the first answer and never moves
//! money twice.

mod gateway;
mod test_gateway;

pub use gateway::{ChargeResult, GatewayError, PaymentGateway, RefundResult};
pub use test_gateway::{TestGateway, TestGatewaySettings, TOKEN_DECLINE, TOKEN_OK, TOKEN_SLOW};
