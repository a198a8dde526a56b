//! Rule 3: a paid order whose seats were sold is confirmed with its tickets, once.

use super::*;
use crate::ordering::{OrderError, OrderStatus};

#[test]
fn a_paid_order_is_confirmed_with_its_tickets() {
    let state = placed_then([captured()])
        .when(confirm(), at(5))
        .then(vec![confirmed()]);
    let order = state.order().unwrap();
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(order.tickets, tickets());
    assert_eq!(order.tickets[1].seat, Some("A-2".parse().unwrap()));
}

#[test]
fn confirming_again_with_the_same_tickets_is_a_retry_forever() {
    placed_then([captured(), confirmed()])
        .when(confirm(), at(5))
        .then_nothing();
    placed_then([captured(), confirmed(), cancelled(true), refunded(TOTAL)])
        .when(confirm(), at(5))
        .then_nothing();
}

#[test]
fn only_a_paid_order_is_confirmed() {
    let refused = |status| OrderError::InvalidState {
        status,
        action: "confirmed",
    };
    placed_then([])
        .when(confirm(), at(5))
        .then_error(refused(OrderStatus::PendingPayment));
    placed_then([failed()])
        .when(confirm(), at(5))
        .then_error(refused(OrderStatus::PaymentFailed));
    placed_then([captured(), expired(true)])
        .when(confirm(), at(5))
        .then_error(refused(OrderStatus::Expired));
    // Confirmed already, with other tickets.
    let mut others = tickets();
    others.reverse();
    placed_then([captured(), confirmed()])
        .when(OrderCommand::Confirm { tickets: others }, at(5))
        .then_error(refused(OrderStatus::Confirmed));
}

#[test]
fn tickets_must_match_the_order() {
    let wrong: Vec<Vec<Ticket>> = vec![
        // One too few.
        tickets()[..1].to_vec(),
        // Seats swapped.
        tickets().into_iter().rev().collect(),
        // Another section.
        ticket_key().tickets_for(
            event_id(),
            order_id(),
            &SectionId::parse("boxes").unwrap(),
            &["A-1".parse().unwrap(), "A-2".parse().unwrap()],
            2,
        ),
        // The same code twice.
        {
            let mut twice = tickets();
            twice[1].code = twice[0].code.clone();
            twice
        },
    ];
    for tickets in wrong {
        placed_then([captured()])
            .when(OrderCommand::Confirm { tickets }, at(5))
            .then_error(OrderError::TicketsMismatch);
    }
}
