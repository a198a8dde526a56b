//! Payments: the money side of an order. One aggregate per payment, on subject
//! `payments.<payment>`; an order has one payment ([`crate::ids::PaymentId::for_order`]), and the
//! payment id is the gateway's idempotency key for the charge.
//!
//! The gateway is called by a reactor, never from here. A charge is recorded after the gateway
//! answered (`RecordCharge`: captured or declined). A gateway that settles later answers
//! "pending" with its reference first (`ChargePending`): that reference is then on the stream, so
//! a restart looks the charge up instead of making another, and the outcome follows. A refund is decided here first (`Refund`),
//! where the rule "refunds never exceed the capture" is checked against every refund already
//! decided under optimistic concurrency; its `RefundIssued` is then carried to the gateway by the
//! refund reactor with the refund's idempotency key, so a retried delivery cannot pay twice.
//!
//! It guards: one charge outcome per payment (at most one capture, under the reference it was
//! pending with); refunds only of a captured
//! payment, never more in total than captured; a retried command decides nothing new.

mod command;
mod decide;
mod error;
mod event;
mod state;
#[cfg(test)]
mod tests;

pub use command::{ChargeOutcome, PaymentCommand};
pub use decide::{decide, evolve};
pub use error::PaymentError;
pub use event::PaymentEvent;
pub use state::{IssuedRefund, Payment, PaymentState, PaymentStatus};
