//! Rule 5: an admission finished by a confirmed order stops counting against `max_active` at
//! once. Finishing an admission that is not live (none, expired, ended, left) decides nothing, so
//! the order reactor may send it for every confirmed order, as often as it is delivered.

use super::*;
use crate::waiting_room::{FinishReason, QueueState};

fn finish(who: &CustomerId) -> WaitingRoomCommand {
    WaitingRoomCommand::FinishAdmission {
        customer_id: who.clone(),
        reason: FinishReason::OrderConfirmed,
    }
}

fn one_admitted() -> Vec<WaitingRoomEvent> {
    vec![
        shuffled(seed(1), 0, at(0)),
        joined_line(&nth(0), at(0)),
        joined_line(&nth(1), at(0)),
        admitted(&nth(0), at(0)),
    ]
}

#[test]
fn a_confirmed_order_finishes_the_admission() {
    let state = room(config(60, Some(1)), one_admitted())
        .when(finish(&nth(0)), at(100))
        .then(vec![confirmed(&nth(0), at(100))]);
    let status = state.status(&nth(0), at(100), None).unwrap();
    assert_eq!(status.state, QueueState::Finished);
    assert_eq!(status.admitted_until, Some(at(TTL)));
    assert_eq!(state.counters(at(100)).active, 0);
}

#[test]
fn finishing_what_is_not_live_decides_nothing() {
    let finished = one_admitted()
        .into_iter()
        .chain([confirmed(&nth(0), at(100))]);
    room(config(60, None), finished)
        .when(finish(&nth(0)), at(200))
        .then_nothing();
    // Expired (recorded or not), waiting, never joined, left.
    room(config(60, None), one_admitted())
        .when(finish(&nth(0)), at(TTL))
        .then_nothing();
    room(config(60, None), one_admitted())
        .when(finish(&nth(1)), at(10))
        .then_nothing();
    room(config(60, None), one_admitted())
        .when(finish(&customer("stranger")), at(10))
        .then_nothing();
    let gone = one_admitted().into_iter().chain([left(&nth(0), at(5))]);
    room(config(60, None), gone)
        .when(finish(&nth(0)), at(10))
        .then_nothing();
}
