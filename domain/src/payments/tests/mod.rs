//! Stories of a payment, one file per rule, and property tests over random payments.
//!
//! The fixture payment: the one payment of an order of 90.00 EUR.

mod charge;
mod pending;
mod properties;
mod refund;

use crate::ids::{IdempotencyKey, OrderId};
use crate::payments::{ChargeOutcome, PaymentCommand, PaymentEvent};
use crate::test_support::{given, Given, Payments};
use crate::Timestamp;
use time::macros::datetime;
use uuid::Uuid;

pub(super) const NOW: Timestamp = datetime!(2030-06-01 18:00 UTC);
pub(super) const TOTAL: i64 = 9_000;

pub(super) fn order_id() -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(0x0d))
}

pub(super) fn charge(outcome: ChargeOutcome) -> PaymentCommand {
    PaymentCommand::RecordCharge {
        order_id: order_id(),
        amount_minor: TOTAL,
        currency: "EUR".parse().unwrap(),
        outcome,
    }
}

pub(super) fn captured_by(gateway_ref: &str) -> ChargeOutcome {
    ChargeOutcome::Captured {
        gateway_ref: gateway_ref.into(),
    }
}

pub(super) fn declined_for(reason: &str) -> ChargeOutcome {
    ChargeOutcome::Declined {
        reason: reason.into(),
    }
}

pub(super) fn charge_captured() -> PaymentEvent {
    PaymentEvent::ChargeCaptured {
        order_id: order_id(),
        amount_minor: TOTAL,
        currency: "EUR".parse().unwrap(),
        gateway_ref: "ch_1".into(),
    }
}

pub(super) fn pending_as(gateway_ref: &str) -> ChargeOutcome {
    ChargeOutcome::Pending {
        gateway_ref: gateway_ref.into(),
    }
}

pub(super) fn charge_pending(gateway_ref: &str) -> PaymentEvent {
    PaymentEvent::ChargePending {
        order_id: order_id(),
        amount_minor: TOTAL,
        currency: "EUR".parse().unwrap(),
        gateway_ref: gateway_ref.into(),
    }
}

pub(super) fn charge_declined() -> PaymentEvent {
    PaymentEvent::ChargeDeclined {
        order_id: order_id(),
        amount_minor: TOTAL,
        currency: "EUR".parse().unwrap(),
        reason: "insufficient funds".into(),
    }
}

pub(super) fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

pub(super) fn refund(key_text: &str, amount_minor: i64) -> PaymentCommand {
    PaymentCommand::Refund {
        idempotency_key: key(key_text),
        amount_minor,
        reason: "order cancelled".into(),
    }
}

pub(super) fn refund_issued(key_text: &str, amount_minor: i64) -> PaymentEvent {
    PaymentEvent::RefundIssued {
        order_id: order_id(),
        idempotency_key: key(key_text),
        amount_minor,
        currency: "EUR".parse().unwrap(),
        reason: "order cancelled".into(),
    }
}

/// A story on the fixture payment, after these facts.
pub(super) fn after(events: impl IntoIterator<Item = PaymentEvent>) -> Given<Payments> {
    given::<Payments>(events)
}
