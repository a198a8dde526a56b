//! Rule 5: the customer cancels an order before paying (nothing to give back) or once confirmed
//! (the money goes back and the application returns the seats); nobody else may.

use super::*;
use crate::ordering::{OrderError, OrderStatus};

#[test]
fn a_pending_order_is_cancelled_owing_nothing() {
    let state = placed_then([])
        .when(cancel(&alice()), at(5))
        .then(vec![cancelled(false)]);
    assert_eq!(state.status(), Some(OrderStatus::Cancelled));
    assert_eq!(state.refund_due_minor(), 0);
}

#[test]
fn a_confirmed_order_is_cancelled_owing_a_refund() {
    let state = placed_then([captured(), confirmed()])
        .when(cancel(&alice()), at(DEADLINE * 10))
        .then(vec![cancelled(true)]);
    assert_eq!(state.refund_due_minor(), TOTAL);
    assert_eq!(state.order().unwrap().tickets, tickets(), "kept");
}

#[test]
fn only_the_customer_may_cancel() {
    placed_then([])
        .when(cancel(&bob()), at(5))
        .then_error(OrderError::NotOwner);
    placed_then([cancelled(false)])
        .when(cancel(&bob()), at(5))
        .then_error(OrderError::NotOwner);
}

#[test]
fn cancelling_again_is_a_retry_forever() {
    placed_then([cancelled(false)])
        .when(cancel(&alice()), at(5))
        .then_nothing();
    placed_then([captured(), confirmed(), cancelled(true), refunded(TOTAL)])
        .when(cancel(&alice()), at(5))
        .then_nothing();
}

#[test]
fn an_order_being_fulfilled_or_over_cannot_be_cancelled() {
    let refused = |status| OrderError::InvalidState {
        status,
        action: "cancelled",
    };
    placed_then([captured()])
        .when(cancel(&alice()), at(5))
        .then_error(refused(OrderStatus::Paid));
    placed_then([failed()])
        .when(cancel(&alice()), at(5))
        .then_error(refused(OrderStatus::PaymentFailed));
    placed_then([expired(false)])
        .when(cancel(&alice()), at(DEADLINE + 5))
        .then_error(refused(OrderStatus::Expired));
    placed_then([captured(), expired(true), refunded(TOTAL)])
        .when(cancel(&alice()), at(DEADLINE + 5))
        .then_error(refused(OrderStatus::Refunded));
}
