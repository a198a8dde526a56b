//! Rule 2: an order is paid at most once, by exactly its total; a decline fails a pending order.
//! A capture that arrives after the order ended unpaid is recorded: the money is owed back.

use super::*;
use crate::ordering::{CapturedPayment, OrderError, OrderStatus};

#[test]
fn a_capture_of_the_total_pays_a_pending_order() {
    let state = placed_then([])
        .when(capture(), at(5))
        .then(vec![captured()]);
    let order = state.order().unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(
        order.payment,
        Some(CapturedPayment {
            payment_id: payment_id(),
            amount_minor: TOTAL,
        })
    );
    assert_eq!(state.refund_due_minor(), 0);
}

#[test]
fn recording_the_same_capture_again_is_a_retry_forever() {
    placed_then([captured()])
        .when(capture(), at(5))
        .then_nothing();
    placed_then([captured(), confirmed(), cancelled(true), refunded(TOTAL)])
        .when(capture(), at(5))
        .then_nothing();
}

#[test]
fn an_order_is_paid_once() {
    let other = PaymentId::for_order(OrderId::from_uuid(Uuid::from_u128(7)));
    placed_then([captured()])
        .when(
            OrderCommand::RecordPaymentCaptured {
                payment_id: other,
                amount_minor: TOTAL,
            },
            at(5),
        )
        .then_error(OrderError::AlreadyCaptured {
            payment_id: payment_id(),
        });
    placed_then([captured()])
        .when(
            OrderCommand::RecordPaymentCaptured {
                payment_id: payment_id(),
                amount_minor: TOTAL + 1,
            },
            at(5),
        )
        .then_error(OrderError::AlreadyCaptured {
            payment_id: payment_id(),
        });
}

#[test]
fn a_capture_of_another_amount_than_the_total_is_refused() {
    placed_then([])
        .when(
            OrderCommand::RecordPaymentCaptured {
                payment_id: payment_id(),
                amount_minor: TOTAL - 100,
            },
            at(5),
        )
        .then_error(OrderError::AmountMismatch {
            total_minor: TOTAL,
            captured_minor: TOTAL - 100,
        });
}

#[test]
fn a_late_capture_of_an_order_that_ended_unpaid_is_owed_back() {
    let state = placed_then([expired(false)])
        .when(capture(), at(DEADLINE + 30))
        .then(vec![captured()]);
    assert_eq!(state.status(), Some(OrderStatus::Expired));
    assert_eq!(state.refund_due_minor(), TOTAL);
    let state = placed_then([cancelled(false)])
        .when(capture(), at(30))
        .then(vec![captured()]);
    assert_eq!(state.status(), Some(OrderStatus::Cancelled));
    assert_eq!(state.refund_due_minor(), TOTAL);
}

#[test]
fn a_decline_fails_a_pending_order() {
    let state = placed_then([]).when(decline(), at(5)).then(vec![failed()]);
    let order = state.order().unwrap();
    assert_eq!(order.status, OrderStatus::PaymentFailed);
    assert_eq!(order.decline_reason.as_deref(), Some("card declined"));
}

#[test]
fn recording_a_decline_again_or_after_the_order_ended_unpaid_changes_nothing() {
    placed_then([failed()])
        .when(decline(), at(5))
        .then_nothing();
    placed_then([expired(false)])
        .when(decline(), at(DEADLINE + 5))
        .then_nothing();
    placed_then([cancelled(false)])
        .when(decline(), at(5))
        .then_nothing();
}

#[test]
fn a_decline_and_a_capture_of_one_order_contradict_each_other() {
    placed_then([captured()])
        .when(decline(), at(5))
        .then_error(OrderError::InvalidState {
            status: OrderStatus::Paid,
            action: "declined",
        });
    placed_then([captured(), expired(true)])
        .when(decline(), at(5))
        .then_error(OrderError::InvalidState {
            status: OrderStatus::Expired,
            action: "declined",
        });
    placed_then([failed()])
        .when(capture(), at(5))
        .then_error(OrderError::InvalidState {
            status: OrderStatus::PaymentFailed,
            action: "paid",
        });
}
