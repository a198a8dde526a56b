//! Rule 6: an order that owes a refund records the one its payment made, never more than it
//! captured, and is then refunded.

use super::*;
use crate::ordering::{OrderError, OrderStatus};

#[test]
fn an_expired_paid_order_is_refunded() {
    let state = placed_then([captured(), expired(true)])
        .when(record_refund(TOTAL), at(5))
        .then(vec![refunded(TOTAL)]);
    let order = state.order().unwrap();
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(order.refunded_minor, TOTAL);
    assert_eq!(order.ended_as, Some(OrderStatus::Expired));
    assert_eq!(state.refund_due_minor(), 0);
}

#[test]
fn a_cancelled_confirmed_order_is_refunded() {
    placed_then([captured(), confirmed(), cancelled(true)])
        .when(record_refund(TOTAL), at(5))
        .then(vec![refunded(TOTAL)]);
}

#[test]
fn a_late_capture_of_an_ended_order_is_refunded() {
    placed_then([expired(false), captured()])
        .when(record_refund(TOTAL), at(DEADLINE + 5))
        .then(vec![refunded(TOTAL)]);
}

#[test]
fn a_refund_never_exceeds_the_capture() {
    placed_then([captured(), expired(true)])
        .when(record_refund(TOTAL + 1), at(5))
        .then_error(OrderError::RefundExceedsCapture {
            captured_minor: TOTAL,
            requested_minor: TOTAL + 1,
        });
}

#[test]
fn a_partial_refund_is_recorded_as_the_order_s_refund() {
    let state = placed_then([captured(), expired(true)])
        .when(record_refund(TOTAL - 500), at(5))
        .then(vec![refunded(TOTAL - 500)]);
    assert_eq!(state.status(), Some(OrderStatus::Refunded));
    assert_eq!(state.order().unwrap().refunded_minor, TOTAL - 500);
}

#[test]
fn recording_the_refund_again_is_a_retry_and_a_second_one_is_refused() {
    let refunded_order = [captured(), expired(true), refunded(TOTAL)];
    placed_then(refunded_order.clone())
        .when(record_refund(TOTAL), at(5))
        .then_nothing();
    placed_then(refunded_order)
        .when(record_refund(100), at(5))
        .then_error(OrderError::InvalidState {
            status: OrderStatus::Refunded,
            action: "refunded",
        });
}

#[test]
fn an_order_that_owes_nothing_is_not_refunded() {
    let refused = |status| OrderError::InvalidState {
        status,
        action: "refunded",
    };
    for (facts, status) in [
        (vec![], OrderStatus::PendingPayment),
        (vec![captured()], OrderStatus::Paid),
        (vec![captured(), confirmed()], OrderStatus::Confirmed),
        (vec![expired(false)], OrderStatus::Expired),
        (vec![cancelled(false)], OrderStatus::Cancelled),
        (vec![failed()], OrderStatus::PaymentFailed),
    ] {
        placed_then(facts)
            .when(record_refund(TOTAL), at(5))
            .then_error(refused(status));
    }
}

#[test]
fn a_refund_is_a_positive_amount() {
    for amount in [0, -TOTAL] {
        placed_then([captured(), expired(true)])
            .when(record_refund(amount), at(5))
            .then_error(OrderError::InvalidAmount);
    }
}
