//! Rule 1: a customer takes one place. From `opens_at` to `sale_opens_at` it is in the prequeue,
//! with no position yet; from `sale_opens_at` on it is at the back of the line, in arrival order.
//! Before `opens_at`, after the sale ended and once the queue is closed, nobody joins. Joining
//! again decides nothing, whatever happened to the place since.

use super::*;
use crate::waiting_room::{CloseReason, ClosedBecause, QueueState, WaitingRoomError};

#[test]
fn a_join_before_the_sale_opens_goes_to_the_prequeue() {
    let alice = customer("alice");
    let state = room(config(60, None), [])
        .when(join(&alice), at(-60))
        .then(vec![joined_prequeue(&alice, at(-60))]);
    let status = state.status(&alice, at(-60), None).unwrap();
    assert_eq!(status.state, QueueState::Prequeue);
    assert_eq!(status.position, None);
    assert_eq!(state.prequeue_len(), 1);
}

#[test]
fn the_prequeue_opens_at_opens_at() {
    let alice = customer("alice");
    room(config(60, None), [])
        .when(join(&alice), at(OPENS))
        .then(vec![joined_prequeue(&alice, at(OPENS))]);
    room(config(60, None), [])
        .when(join(&alice), at(OPENS - 1))
        .then_error(WaitingRoomError::QueueClosed(ClosedBecause::NotOpenYet(
            at(OPENS),
        )));
}

#[test]
fn a_join_at_or_after_the_sale_opens_goes_to_the_back_in_arrival_order() {
    let (alice, bob, carol) = (customer("alice"), customer("bob"), customer("carol"));
    let state = room(config(60, None), [joined_prequeue(&alice, at(-10))])
        .when(join(&bob), at(0))
        .then(vec![joined_line(&bob, at(0))]);
    let state = crate::test_support::given_state::<WaitingRooms>(state)
        .when(join(&carol), at(1))
        .then(vec![joined_line(&carol, at(1))]);
    let state = crate::waiting_room::evolve(state, &shuffled(seed(1), 1, at(2)));
    let positions: Vec<_> = [&alice, &bob, &carol]
        .iter()
        .map(|c| state.status(c, at(2), None).unwrap().position)
        .collect();
    assert_eq!(positions, [Some(1), Some(2), Some(3)]);
}

#[test]
fn joining_again_returns_the_same_place_and_decides_nothing() {
    let (alice, bob) = (customer("alice"), customer("bob"));
    let history = [
        joined_prequeue(&alice, at(-10)),
        shuffled(seed(1), 1, at(0)),
        joined_line(&bob, at(1)),
    ];
    room(config(60, None), history.clone())
        .when(join(&bob), at(5))
        .then_nothing();
    // Still nothing once admitted, expired, left, or the queue closed.
    for later in [
        admitted(&bob, at(2)),
        left(&bob, at(2)),
        WaitingRoomEvent::QueueClosed {
            reason: CloseReason::SoldOut,
            closed_at: at(2),
        },
    ] {
        let events = history.iter().cloned().chain([later]);
        room(config(60, None), events)
            .when(join(&bob), at(5_000))
            .then_nothing();
    }
    let state = state_after(config(60, None), history);
    assert_eq!(state.status(&bob, at(5), None).unwrap().position, Some(2));
}

#[test]
fn nobody_joins_after_the_sale_ended_or_the_queue_closed() {
    let alice = customer("alice");
    room(config(60, None), [])
        .when(join(&alice), at(CLOSES))
        .then_error(WaitingRoomError::QueueClosed(ClosedBecause::SaleEnded(at(
            CLOSES,
        ))));
    room(
        config(60, None),
        [WaitingRoomEvent::QueueClosed {
            reason: CloseReason::SoldOut,
            closed_at: at(30),
        }],
    )
    .when(join(&alice), at(31))
    .then_error(WaitingRoomError::QueueClosed(ClosedBecause::Closed(
        CloseReason::SoldOut,
    )));
}

#[test]
fn the_queue_closes_once() {
    let close = |reason| WaitingRoomCommand::Close { reason };
    let state = room(config(60, None), [])
        .when(close(CloseReason::SaleClosed), at(100))
        .then(vec![WaitingRoomEvent::QueueClosed {
            reason: CloseReason::SaleClosed,
            closed_at: at(100),
        }]);
    crate::test_support::given_state::<WaitingRooms>(state)
        .when(close(CloseReason::SoldOut), at(200))
        .then_nothing();
}

#[test]
fn a_clock_behind_the_room_cannot_reopen_the_prequeue() {
    // Another instance recorded a join after the sale opened; this one's clock is a second late.
    let (alice, bob) = (customer("alice"), customer("bob"));
    room(config(60, None), [joined_line(&alice, at(0))])
        .when(join(&bob), at(-1))
        .then(vec![joined_line(&bob, at(0))]);
}
