//! Rule 1: expiry is lazy. A decision at `now` treats holds with `expires_at <= now` as gone and
//! records their `HoldExpired` first; `ExpireDue` is only that step.

use super::*;
use crate::inventory::{HoldStatus, InventoryError, SeatStatus};

#[test]
fn a_seat_of_an_expired_hold_can_be_held_by_someone_else() {
    let bobs = held_seats(&bob(), "b", &["A-1"], 0);
    let state = on_sale([bobs.clone()])
        .when(place_seats(&alice(), "k", &["A-1"]), at(TTL))
        .then(vec![
            expired(&bobs),
            held_seats(&alice(), "k", &["A-1"], TTL),
        ]);
    assert_eq!(
        state.hold(&hold_of(&bobs)).unwrap().status,
        HoldStatus::Expired
    );
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(TTL)),
        Some(SeatStatus::Held(hold_id(&alice(), "k")))
    );
}

#[test]
fn a_hold_is_live_until_the_second_it_expires() {
    on_sale([held_seats(&bob(), "b", &["A-1"], 0)])
        .when(place_seats(&alice(), "k", &["A-1"]), at(TTL - 1))
        .then_error(InventoryError::SeatUnavailable(seats(&["A-1"])));
}

#[test]
fn an_expired_quantity_goes_back_to_general_admission() {
    let bobs = held_floor(&bob(), "b", 6, 0);
    let carols = held_floor(&carol(), "c", 4, 100);
    on_sale([bobs.clone(), carols.clone()])
        .when(place_quantity(&alice(), "k", "floor", 3), at(TTL + 50))
        .then(vec![expired(&bobs), held_floor(&alice(), "k", 3, TTL + 50)]);
}

#[test]
fn expire_due_records_every_due_hold_in_expiry_order() {
    let late = held_seats(&bob(), "b", &["A-1"], 10);
    let early = held_floor(&carol(), "c", 2, 5);
    let live = held_seats(&alice(), "a", &["B-1"], 500);
    let state = on_sale([late.clone(), early.clone(), live])
        .when(InventoryCommand::ExpireDue, at(TTL + 10))
        .then(vec![expired(&early), expired(&late)]);
    assert_eq!(state.next_expiry(), Some(at(500 + TTL)));
    // The timer fires again, or late: nothing more to record.
    on_sale([])
        .when(InventoryCommand::ExpireDue, at(1))
        .then_nothing();
    crate::test_support::given_state::<Inventory>(state)
        .when(InventoryCommand::ExpireDue, at(TTL + 11))
        .then_nothing();
}

#[test]
fn reads_at_now_treat_due_holds_as_gone() {
    let bobs = held_seats(&bob(), "b", &["A-1", "A-2"], 0);
    let state = on_sale([bobs.clone(), held_floor(&bob(), "f", 3, 0)])
        .when(InventoryCommand::ExpireDue, at(1))
        .then_nothing();
    assert_eq!(state.customer_tickets(&bob(), at(TTL - 1)), 5);
    assert_eq!(state.customer_tickets(&bob(), at(TTL)), 0);
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-2"), at(TTL)),
        Some(SeatStatus::Available)
    );
    let [floor, stalls, _] = state.availability(at(TTL)).try_into().unwrap();
    assert_eq!((floor.available, floor.held), (10, 0));
    assert_eq!((stalls.available, stalls.held), (30, 0));
    // Not recorded yet: the hold itself is still Active until its HoldExpired is applied.
    assert_eq!(
        state.hold(&hold_of(&bobs)).unwrap().status,
        HoldStatus::Active
    );
    assert_eq!(state.next_expiry(), Some(at(TTL)));
}

#[test]
fn a_refused_command_records_nothing_not_even_expiries() {
    // The expiries are decided again by the next decision (the writer starts each batch with
    // ExpireDue), so nothing is lost.
    let bobs = held_seats(&bob(), "b", &["A-1"], 0);
    let result = on_sale([bobs])
        .when(place_seats(&alice(), "k", &["Z-9"]), at(TTL))
        .result();
    assert_eq!(result, Err(InventoryError::UnknownSeat(seat("Z-9"))));
}
