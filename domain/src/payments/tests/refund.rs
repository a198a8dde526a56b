//! Rule 2: refunds give back captured money, never more in total than was captured; a refund is
//! named by its idempotency key, and the same key again is a retry.

use super::*;

#[test]
fn a_decided_refund_records_the_gateway_s_reference_once() {
    let sent = |gateway_ref: &str| PaymentCommand::RecordRefundSent {
        idempotency_key: key("r1"),
        gateway_ref: gateway_ref.into(),
    };
    let state = after([charge_captured(), refund_issued("r1", 100)])
        .when(sent("re_1"), NOW)
        .then(vec![PaymentEvent::RefundSent {
            order_id: order_id(),
            idempotency_key: key("r1"),
            gateway_ref: "re_1".into(),
        }]);
    let refund = state.payment().unwrap().refund(&key("r1")).unwrap();
    assert_eq!(refund.gateway_ref.as_deref(), Some("re_1"));
    let recorded = [
        charge_captured(),
        refund_issued("r1", 100),
        PaymentEvent::RefundSent {
            order_id: order_id(),
            idempotency_key: key("r1"),
            gateway_ref: "re_1".into(),
        },
    ];
    after(recorded.clone())
        .when(sent("re_1"), NOW)
        .then_nothing();
    after(recorded)
        .when(sent("re_2"), NOW)
        .then_error(crate::payments::PaymentError::IdempotencyKeyReused);
    after([charge_captured()])
        .when(sent("re_1"), NOW)
        .then_error(crate::payments::PaymentError::UnknownRefund);
}
use crate::payments::{PaymentError, PaymentStatus};

#[test]
fn a_captured_payment_is_refunded() {
    let state = after([charge_captured()])
        .when(refund("r1", TOTAL), NOW)
        .then(vec![refund_issued("r1", TOTAL)]);
    assert_eq!(state.status(), Some(PaymentStatus::Refunded));
    assert_eq!(state.refundable_minor(), 0);
    assert_eq!(state.payment().unwrap().refunds.len(), 1);
}

#[test]
fn refunds_add_up_to_the_capture_and_no_further() {
    let state = after([charge_captured()])
        .when(refund("r1", 3_000), NOW)
        .then(vec![refund_issued("r1", 3_000)]);
    assert_eq!(state.status(), Some(PaymentStatus::PartiallyRefunded));
    assert_eq!(state.refundable_minor(), TOTAL - 3_000);
    after([charge_captured(), refund_issued("r1", 3_000)])
        .when(refund("r2", TOTAL - 3_000 + 1), NOW)
        .then_error(PaymentError::RefundExceedsCapture {
            captured_minor: TOTAL,
            refunded_minor: 3_000,
            requested_minor: TOTAL - 3_000 + 1,
        });
    after([charge_captured(), refund_issued("r1", 3_000)])
        .when(refund("r2", TOTAL - 3_000), NOW)
        .then(vec![refund_issued("r2", TOTAL - 3_000)]);
    after([charge_captured()])
        .when(refund("r1", TOTAL + 1), NOW)
        .then_error(PaymentError::RefundExceedsCapture {
            captured_minor: TOTAL,
            refunded_minor: 0,
            requested_minor: TOTAL + 1,
        });
}

#[test]
fn the_same_refund_again_is_a_retry_forever() {
    after([charge_captured(), refund_issued("r1", TOTAL)])
        .when(refund("r1", TOTAL), NOW)
        .then_nothing();
    after([
        charge_captured(),
        refund_issued("r1", 3_000),
        refund_issued("r2", 1_000),
    ])
    .when(refund("r1", 3_000), NOW)
    .then_nothing();
}

#[test]
fn a_refund_key_with_another_amount_or_reason_is_refused() {
    after([charge_captured(), refund_issued("r1", 3_000)])
        .when(refund("r1", 4_000), NOW)
        .then_error(PaymentError::IdempotencyKeyReused);
    after([charge_captured(), refund_issued("r1", 3_000)])
        .when(
            PaymentCommand::Refund {
                idempotency_key: key("r1"),
                amount_minor: 3_000,
                reason: "goodwill".into(),
            },
            NOW,
        )
        .then_error(PaymentError::IdempotencyKeyReused);
}

#[test]
fn only_captured_money_is_refunded() {
    after([])
        .when(refund("r1", 100), NOW)
        .then_error(PaymentError::NotCaptured);
    after([charge_declined()])
        .when(refund("r1", 100), NOW)
        .then_error(PaymentError::NotCaptured);
}

#[test]
fn a_refund_is_a_positive_amount() {
    for amount in [0, -1] {
        after([charge_captured()])
            .when(refund("r1", amount), NOW)
            .then_error(PaymentError::InvalidAmount);
    }
}
