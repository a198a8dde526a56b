//! Rule 1: a payment has one charge outcome. The same outcome again is a retry; a second capture
//! with another gateway reference, or a capture after a decline, is refused.

use super::*;
use crate::payments::{PaymentError, PaymentStatus};

#[test]
fn a_captured_charge_is_recorded() {
    let state = after([])
        .when(charge(captured_by("ch_1")), NOW)
        .then(vec![charge_captured()]);
    assert_eq!(state.status(), Some(PaymentStatus::Captured));
    assert_eq!(state.refundable_minor(), TOTAL);
    assert_eq!(state.payment().unwrap().order_id, order_id());
}

#[test]
fn a_declined_charge_is_recorded() {
    let state = after([])
        .when(charge(declined_for("insufficient funds")), NOW)
        .then(vec![charge_declined()]);
    assert_eq!(state.status(), Some(PaymentStatus::Declined));
    assert_eq!(state.refundable_minor(), 0);
}

#[test]
fn recording_the_same_outcome_again_is_a_retry_forever() {
    after([charge_captured()])
        .when(charge(captured_by("ch_1")), NOW)
        .then_nothing();
    after([charge_captured(), refund_issued("r1", TOTAL)])
        .when(charge(captured_by("ch_1")), NOW)
        .then_nothing();
    after([charge_declined()])
        .when(charge(declined_for("insufficient funds")), NOW)
        .then_nothing();
}

#[test]
fn a_payment_is_captured_once() {
    let already = PaymentError::AlreadyCaptured {
        gateway_ref: "ch_1".into(),
    };
    after([charge_captured()])
        .when(charge(captured_by("ch_2")), NOW)
        .then_error(already.clone());
    after([charge_captured()])
        .when(charge(declined_for("too late")), NOW)
        .then_error(already.clone());
    // The same gateway reference with another amount is not the same charge.
    after([charge_captured()])
        .when(
            PaymentCommand::RecordCharge {
                order_id: order_id(),
                amount_minor: TOTAL + 1,
                currency: "EUR".parse().unwrap(),
                outcome: captured_by("ch_1"),
            },
            NOW,
        )
        .then_error(already);
}

#[test]
fn a_declined_payment_stays_declined() {
    after([charge_declined()])
        .when(charge(captured_by("ch_1")), NOW)
        .then_error(PaymentError::AlreadyDeclined);
    after([charge_declined()])
        .when(charge(declined_for("another reason")), NOW)
        .then_error(PaymentError::AlreadyDeclined);
}

#[test]
fn a_charge_is_not_negative() {
    after([])
        .when(
            PaymentCommand::RecordCharge {
                order_id: order_id(),
                amount_minor: -1,
                currency: "EUR".parse().unwrap(),
                outcome: captured_by("ch_1"),
            },
            NOW,
        )
        .then_error(PaymentError::InvalidAmount);
}

#[test]
fn payment_facts_serialize_as_tagged_json() {
    for event in [
        charge_captured(),
        charge_declined(),
        charge_pending("pi_1"),
        refund_issued("r1", 100),
    ] {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.kind());
        assert_eq!(json["data"]["order_id"], order_id().to_string());
        assert_eq!(serde_json::from_value::<PaymentEvent>(json).unwrap(), event);
    }
    let json = serde_json::to_value(refund_issued("r1", 100)).unwrap();
    assert_eq!(json["data"]["idempotency_key"], "r1");
}
