//! Rule 4: an admission lives until `admitted_until`. Expiry is lazy: at `now` an admission whose
//! `admitted_until <= now` no longer counts against `max_active`, recorded or not; `ExpireDue`
//! (and every `Admit`) records the `AdmissionEnded { Expired }` facts of those due, once.

use super::*;
use crate::waiting_room::QueueState;

fn two_admitted() -> Vec<WaitingRoomEvent> {
    vec![
        shuffled(seed(1), 0, at(0)),
        joined_line(&nth(0), at(0)),
        joined_line(&nth(1), at(0)),
        admitted(&nth(0), at(0)),
        admitted(&nth(1), at(10)),
    ]
}

#[test]
fn an_admission_is_live_until_its_end_and_expired_from_then_on() {
    let state = state_after(config(60, None), two_admitted());
    let status = |when| state.status(&nth(0), when, None).unwrap().state;
    assert_eq!(status(at(TTL - 1)), QueueState::Admitted);
    assert_eq!(status(at(TTL)), QueueState::Expired);
    assert_eq!(state.counters(at(TTL - 1)).active, 2);
    assert_eq!(state.counters(at(TTL)).active, 1);
    assert_eq!(state.counters(at(TTL + 10)).active, 0);
}

#[test]
fn due_expiries_are_recorded_once_oldest_first() {
    let state = room(config(60, None), two_admitted())
        .when(WaitingRoomCommand::ExpireDue, at(TTL + 5))
        .then(vec![expired(&nth(0), at(TTL + 5))]);
    let state = crate::test_support::given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::ExpireDue, at(TTL + 5))
        .then_nothing();
    let state = crate::test_support::given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::ExpireDue, at(TTL + 60))
        .then(vec![expired(&nth(1), at(TTL + 60))]);
    assert_eq!(
        state.status(&nth(1), at(TTL + 60), None).unwrap().state,
        QueueState::Expired
    );
    assert_eq!(state.counters(at(TTL + 60)).admitted_total, 2);
}

#[test]
fn an_admission_that_ended_otherwise_does_not_expire() {
    let history = two_admitted()
        .into_iter()
        .chain([confirmed(&nth(0), at(20)), left(&nth(1), at(30))]);
    room(config(60, None), history)
        .when(WaitingRoomCommand::ExpireDue, at(TTL * 2))
        .then_nothing();
}
