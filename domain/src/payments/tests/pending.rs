//! Rule 1b: a gateway that settles later answers "pending" first. The pending charge is
//! recorded with the gateway's reference; its capture (under that reference) or decline
//! settles it; a pending answer after the outcome is stale and decides nothing.

use super::*;
use crate::payments::{PaymentError, PaymentStatus};

#[test]
fn a_pending_charge_is_recorded_with_its_reference_and_refunds_nothing() {
    let state = after([])
        .when(charge(pending_as("pi_1")), NOW)
        .then(vec![charge_pending("pi_1")]);
    assert_eq!(state.status(), Some(PaymentStatus::Pending));
    assert_eq!(state.payment().unwrap().pending_ref(), Some("pi_1"));
    assert_eq!(state.refundable_minor(), 0);
    after([charge_pending("pi_1")])
        .when(refund("r1", 100), NOW)
        .then_error(PaymentError::NotCaptured);
}

#[test]
fn the_same_pending_answer_again_is_a_retry() {
    after([charge_pending("pi_1")])
        .when(charge(pending_as("pi_1")), NOW)
        .then_nothing();
}

#[test]
fn a_pending_charge_settles_as_captured_under_its_reference_or_declined() {
    let captured = PaymentEvent::ChargeCaptured {
        order_id: order_id(),
        amount_minor: TOTAL,
        currency: "EUR".parse().unwrap(),
        gateway_ref: "pi_1".into(),
    };
    let state = after([charge_pending("pi_1")])
        .when(charge(captured_by("pi_1")), NOW)
        .then(vec![captured]);
    assert_eq!(state.status(), Some(PaymentStatus::Captured));
    assert_eq!(state.refundable_minor(), TOTAL);
    let state = after([charge_pending("pi_1")])
        .when(charge(declined_for("insufficient funds")), NOW)
        .then(vec![charge_declined()]);
    assert_eq!(state.status(), Some(PaymentStatus::Declined));
}

#[test]
fn a_pending_charge_is_not_settled_by_another_intent() {
    let pending = PaymentError::AlreadyPending {
        gateway_ref: "pi_1".into(),
    };
    after([charge_pending("pi_1")])
        .when(charge(captured_by("pi_2")), NOW)
        .then_error(pending.clone());
    after([charge_pending("pi_1")])
        .when(charge(pending_as("pi_2")), NOW)
        .then_error(pending.clone());
    after([charge_pending("pi_1")])
        .when(
            PaymentCommand::RecordCharge {
                order_id: order_id(),
                amount_minor: TOTAL + 1,
                currency: "EUR".parse().unwrap(),
                outcome: captured_by("pi_1"),
            },
            NOW,
        )
        .then_error(pending);
}

#[test]
fn a_pending_answer_after_the_outcome_is_stale() {
    // The webhook's outcome was recorded before the charge's own "processing" answer.
    let captured = PaymentEvent::ChargeCaptured {
        order_id: order_id(),
        amount_minor: TOTAL,
        currency: "EUR".parse().unwrap(),
        gateway_ref: "pi_1".into(),
    };
    after([captured.clone()])
        .when(charge(pending_as("pi_1")), NOW)
        .then_nothing();
    after([charge_declined()])
        .when(charge(pending_as("pi_1")), NOW)
        .then_nothing();
    // Another intent pending after a capture is not stale: it would be a second charge.
    after([captured])
        .when(charge(pending_as("pi_2")), NOW)
        .then_error(PaymentError::AlreadyCaptured {
            gateway_ref: "pi_1".into(),
        });
}

#[test]
fn a_settled_fact_after_another_is_ignored_by_the_fold() {
    let state = [charge_captured(), charge_declined()].iter().fold(
        crate::payments::PaymentState::default(),
        crate::payments::evolve,
    );
    assert_eq!(state.status(), Some(PaymentStatus::Captured));
}
