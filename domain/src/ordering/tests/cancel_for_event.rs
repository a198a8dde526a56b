//! Rule 5b: the organiser calls the event off. Every order that is still pending or confirmed is
//! cancelled as its customer's cancellation would be, and says why; an order that ended already
//! decides nothing; a paid order still being settled is refused until it settles.

use super::*;
use crate::ordering::{OrderCommand, OrderError, OrderStatus};

fn cancel_for_event() -> OrderCommand {
    OrderCommand::CancelForEvent
}

#[test]
fn a_pending_order_is_cancelled_owing_nothing() {
    let state = placed_then([])
        .when(cancel_for_event(), at(5))
        .then(vec![cancelled_with_event(false)]);
    assert_eq!(state.status(), Some(OrderStatus::Cancelled));
}

#[test]
fn a_confirmed_order_is_cancelled_owing_its_refund() {
    let state = placed_then([captured(), confirmed()])
        .when(cancel_for_event(), at(DEADLINE * 10))
        .then(vec![cancelled_with_event(true)]);
    assert_eq!(state.refund_due_minor(), TOTAL);
}

#[test]
fn a_paid_order_not_yet_sold_is_refused_until_it_settles() {
    placed_then([captured()])
        .when(cancel_for_event(), at(5))
        .then_error(OrderError::InvalidState {
            status: OrderStatus::Paid,
            action: "cancelled while its payment is being settled",
        });
    // It settled by expiring (the cancelled sale refused its seats): nothing more to do.
    placed_then([captured(), expired(true)])
        .when(cancel_for_event(), at(5))
        .then_nothing();
}

#[test]
fn an_order_that_ended_decides_nothing_however_often_asked() {
    for ended in [
        vec![cancelled(false)],
        vec![cancelled_with_event(false)],
        vec![failed()],
        vec![expired(false)],
        vec![
            captured(),
            confirmed(),
            cancelled_with_event(true),
            refunded(TOTAL),
        ],
    ] {
        placed_then(ended)
            .when(cancel_for_event(), at(DEADLINE * 10))
            .then_nothing();
    }
}

#[test]
fn a_customer_s_cancellation_is_stored_as_before() {
    let json = serde_json::to_value(cancelled(true)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "OrderCancelled", "data": {"refund_due": true}})
    );
    let stored: crate::ordering::OrderEvent = serde_json::from_value(json).unwrap();
    assert_eq!(stored, cancelled(true));
}
