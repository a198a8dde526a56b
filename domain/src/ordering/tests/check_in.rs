//! Rule 7: at the gate, each ticket of a confirmed order is checked in once; a second scan is told
//! when the first was; a ticket of an order called off is void; a code the order never issued is
//! unknown. Property: whatever the order of scans, each ticket is checked in at most once.

use super::*;
use crate::ordering::{decide, evolve, OrderError, OrderState, OrderStatus};
use proptest::prelude::*;

fn check_in(code: &str, scanner: &str) -> OrderCommand {
    OrderCommand::CheckIn {
        code: code.to_owned(),
        scanner: scanner.to_owned(),
    }
}

fn checked_in(code: &str, seconds: i64, scanner: &str) -> OrderEvent {
    OrderEvent::TicketCheckedIn {
        code: code.to_owned(),
        checked_in_at: at(seconds),
        scanner: scanner.to_owned(),
    }
}

fn code(index: usize) -> String {
    tickets()[index].code.clone()
}

#[test]
fn a_ticket_of_a_confirmed_order_is_checked_in_the_first_time() {
    let state = placed_then([captured(), confirmed()])
        .when(check_in(&code(0), "gate-1"), at(3_600))
        .then(vec![checked_in(&code(0), 3_600, "gate-1")]);
    let order = state.order().unwrap();
    assert_eq!(order.checked_in.get(&code(0)), Some(&at(3_600)));
    assert_eq!(order.checked_in.get(&code(1)), None, "its neighbour is not");
}

#[test]
fn a_second_scan_is_told_when_the_first_was() {
    let first = checked_in(&code(0), 3_600, "gate-1");
    placed_then([captured(), confirmed(), first.clone()])
        .when(check_in(&code(0), "gate-2"), at(3_700))
        .then_error(OrderError::AlreadyCheckedIn {
            checked_in_at: at(3_600),
        });
    // The same scanner again is no different: the gate must know.
    placed_then([captured(), confirmed(), first])
        .when(check_in(&code(0), "gate-1"), at(3_601))
        .then_error(OrderError::AlreadyCheckedIn {
            checked_in_at: at(3_600),
        });
}

#[test]
fn each_ticket_of_an_order_is_checked_in_on_its_own() {
    placed_then([
        captured(),
        confirmed(),
        checked_in(&code(0), 3_600, "gate-1"),
    ])
    .when(check_in(&code(1), "gate-1"), at(3_610))
    .then(vec![checked_in(&code(1), 3_610, "gate-1")]);
}

#[test]
fn a_ticket_of_an_order_called_off_is_void() {
    let void = |status| OrderError::TicketVoid { status };
    placed_then([captured(), confirmed(), cancelled(true)])
        .when(check_in(&code(0), "gate-1"), at(3_600))
        .then_error(void(OrderStatus::Cancelled));
    placed_then([captured(), confirmed(), cancelled(true), refunded(TOTAL)])
        .when(check_in(&code(1), "gate-1"), at(3_600))
        .then_error(void(OrderStatus::Refunded));
    // Checked in, then the order was cancelled: void all the same.
    placed_then([
        captured(),
        confirmed(),
        checked_in(&code(0), 3_600, "gate-1"),
        cancelled(true),
    ])
    .when(check_in(&code(0), "gate-1"), at(3_700))
    .then_error(void(OrderStatus::Cancelled));
}

#[test]
fn a_code_the_order_never_issued_is_unknown() {
    let forged = TicketKey::new(b"not-the-server-s-ticket-key-0123456789abcd")
        .tickets_for(event_id(), order_id(), &stalls(), &[], 2)
        .remove(0)
        .code;
    placed_then([captured(), confirmed()])
        .when(check_in(&forged, "gate-1"), at(3_600))
        .then_error(OrderError::UnknownTicket);
    placed_then([captured(), confirmed()])
        .when(check_in("TV-7K3M9Q2X0BFE", "gate-1"), at(3_600))
        .then_error(OrderError::UnknownTicket);
    // Not confirmed yet: it has no tickets at all.
    placed_then([captured()])
        .when(check_in(&code(0), "gate-1"), at(3_600))
        .then_error(OrderError::UnknownTicket);
    given::<Ordering>([])
        .when(check_in(&code(0), "gate-1"), at(3_600))
        .then_error(OrderError::UnknownOrder);
}

#[test]
fn a_check_in_of_a_code_not_issued_changes_nothing_when_folded() {
    let state = [placed(), captured(), confirmed()]
        .iter()
        .fold(OrderState::default(), evolve);
    let after = evolve(state.clone(), &checked_in("TV-forged", 10, "gate-1"));
    assert_eq!(after, state);
}

proptest! {
    /// Scans of the order's tickets (and of codes it never issued) by several scanners, in any
    /// order, at increasing times, with the order cancelled at some point or never: every ticket
    /// is checked in at most once, only while the order stands confirmed, at the time of its first
    /// accepted scan, and every refused scan says why truthfully.
    #[test]
    fn each_ticket_is_checked_in_at_most_once(
        scans in prop::collection::vec((0usize..3, 0usize..3), 1..40),
        cancel_after in prop::option::of(0usize..40),
    ) {
        let mut state = [placed(), captured(), confirmed()]
            .iter()
            .fold(OrderState::default(), evolve);
        let mut log: Vec<OrderEvent> = Vec::new();
        let issued = tickets();
        for (step, (ticket, scanner)) in scans.into_iter().enumerate() {
            if cancel_after == Some(step) {
                let facts = decide(&state, &cancel(&alice()), at(step as i64)).unwrap();
                state = facts.iter().fold(state, evolve);
            }
            // Index 2 is a code the order never issued.
            let code = issued.get(ticket).map_or("TV-not-issued".to_owned(), |t| t.code.clone());
            let now = at(1_000 + step as i64);
            let first = log.iter().find_map(|e| match e {
                OrderEvent::TicketCheckedIn { code: c, checked_in_at, .. } if *c == code => {
                    Some(*checked_in_at)
                }
                _ => None,
            });
            match decide(&state, &check_in(&code, &format!("gate-{scanner}")), now) {
                Ok(facts) => {
                    prop_assert_eq!(facts.len(), 1);
                    prop_assert!(first.is_none(), "{} checked in twice", code);
                    prop_assert_eq!(state.status(), Some(OrderStatus::Confirmed));
                    state = facts.iter().fold(state, evolve);
                    log.extend(facts);
                }
                Err(OrderError::AlreadyCheckedIn { checked_in_at }) => {
                    prop_assert_eq!(Some(checked_in_at), first);
                }
                Err(OrderError::TicketVoid { .. }) => {
                    prop_assert_ne!(state.status(), Some(OrderStatus::Confirmed));
                }
                Err(OrderError::UnknownTicket) => prop_assert_eq!(ticket, 2),
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        let mut codes: Vec<_> = log
            .iter()
            .filter_map(|e| match e {
                OrderEvent::TicketCheckedIn { code, .. } => Some(code.clone()),
                _ => None,
            })
            .collect();
        let checked = codes.len();
        codes.sort();
        codes.dedup();
        prop_assert_eq!(codes.len(), checked);
        prop_assert_eq!(state.order().unwrap().checked_in.len(), checked);
    }
}
