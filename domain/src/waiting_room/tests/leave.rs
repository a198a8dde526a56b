//! Rule 6: a customer may leave; the place is gone for good (and a live admission with it) and
//! everyone behind moves up. Leaving again decides nothing; a stranger has nothing to leave.

use super::*;
use crate::waiting_room::{QueueState, WaitingRoomError};

fn three_in_line() -> Vec<WaitingRoomEvent> {
    vec![
        shuffled(seed(1), 0, at(0)),
        joined_line(&nth(0), at(0)),
        joined_line(&nth(1), at(1)),
        joined_line(&nth(2), at(2)),
    ]
}

#[test]
fn a_customer_who_leaves_is_gone_and_those_behind_move_up() {
    let state = room(config(60, None), three_in_line())
        .when(leave(&nth(1)), at(5))
        .then(vec![left(&nth(1), at(5))]);
    assert_eq!(
        state.status(&nth(1), at(5), None).unwrap().state,
        QueueState::Left
    );
    assert_eq!(state.status(&nth(1), at(5), None).unwrap().position, None);
    assert_eq!(
        state.status(&nth(2), at(5), None).unwrap().position,
        Some(2)
    );
    assert_eq!(state.counters(at(5)).waiting, 2);
}

#[test]
fn a_second_leave_decides_nothing() {
    let history = three_in_line().into_iter().chain([left(&nth(1), at(5))]);
    room(config(60, None), history)
        .when(leave(&nth(1)), at(6))
        .then_nothing();
}

#[test]
fn a_stranger_has_nothing_to_leave() {
    room(config(60, None), three_in_line())
        .when(leave(&customer("stranger")), at(5))
        .then_error(WaitingRoomError::NotInQueue);
}

#[test]
fn leaving_the_prequeue_or_an_admission_is_leaving_too() {
    let history = [joined_prequeue(&nth(0), at(-10))];
    let state = room(config(60, None), history)
        .when(leave(&nth(0)), at(-5))
        .then(vec![left(&nth(0), at(-5))]);
    assert_eq!(state.counters(at(-5)).waiting, 0);

    let history = three_in_line()
        .into_iter()
        .chain([admitted(&nth(0), at(3))]);
    let state = room(config(60, None), history)
        .when(leave(&nth(0)), at(4))
        .then(vec![left(&nth(0), at(4))]);
    assert_eq!(
        state.status(&nth(0), at(4), None).unwrap().state,
        QueueState::Left
    );
    assert_eq!(state.counters(at(4)).active, 0);
}
