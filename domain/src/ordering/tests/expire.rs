//! Rule 4: an order expires when its deadline passed unpaid, or when it was paid but its seats were
//! lost before they could be sold; then it owes a refund.

use super::*;
use crate::ordering::{OrderError, OrderStatus};

#[test]
fn an_unpaid_order_expires_at_its_deadline_owing_nothing() {
    let state = placed_then([])
        .when(OrderCommand::Expire, at(DEADLINE))
        .then(vec![expired(false)]);
    assert_eq!(state.status(), Some(OrderStatus::Expired));
    assert_eq!(state.refund_due_minor(), 0);
}

#[test]
fn an_unpaid_order_does_not_expire_before_its_deadline() {
    placed_then([])
        .when(OrderCommand::Expire, at(DEADLINE - 1))
        .then_error(OrderError::NotDue {
            expires_at: at(DEADLINE),
        });
}

#[test]
fn a_paid_order_whose_seats_were_lost_expires_owing_a_refund() {
    // The inventory refused the sale: whenever that is, the order cannot be fulfilled.
    let state = placed_then([captured()])
        .when(OrderCommand::Expire, at(DEADLINE + 1))
        .then(vec![expired(true)]);
    assert_eq!(state.refund_due_minor(), TOTAL);
    placed_then([captured()])
        .when(OrderCommand::Expire, at(5))
        .then(vec![expired(true)]);
}

#[test]
fn expiring_again_is_a_retry_forever() {
    placed_then([expired(false)])
        .when(OrderCommand::Expire, at(DEADLINE + 5))
        .then_nothing();
    placed_then([captured(), expired(true), refunded(TOTAL)])
        .when(OrderCommand::Expire, at(DEADLINE + 5))
        .then_nothing();
}

#[test]
fn an_order_that_ended_otherwise_does_not_expire() {
    let refused = |status| OrderError::InvalidState {
        status,
        action: "expired",
    };
    let late = at(DEADLINE + 5);
    placed_then([captured(), confirmed()])
        .when(OrderCommand::Expire, late)
        .then_error(refused(OrderStatus::Confirmed));
    placed_then([failed()])
        .when(OrderCommand::Expire, late)
        .then_error(refused(OrderStatus::PaymentFailed));
    placed_then([cancelled(false)])
        .when(OrderCommand::Expire, late)
        .then_error(refused(OrderStatus::Cancelled));
    placed_then([captured(), confirmed(), cancelled(true), refunded(TOTAL)])
        .when(OrderCommand::Expire, late)
        .then_error(refused(OrderStatus::Refunded));
}
