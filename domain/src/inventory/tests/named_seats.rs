//! Rule 3 for named seats: retries first, then the window, the section, the seats, the limit.

use super::*;
use crate::inventory::{HoldStatus, InventoryError, SeatStatus};

#[test]
fn free_seats_are_held_until_the_ttl() {
    let state = on_sale([])
        .when(place_seats(&alice(), "k1", &["A-4", "A-5"]), at(10))
        .then(vec![held_seats(&alice(), "k1", &["A-4", "A-5"], 10)]);
    let hold = state.hold(&hold_id(&alice(), "k1")).unwrap();
    assert_eq!(hold.status, HoldStatus::Active);
    assert_eq!(hold.expires_at, at(610));
    assert_eq!(hold.seats, seats(&["A-4", "A-5"]));
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-4"), at(11)),
        Some(SeatStatus::Held(hold_id(&alice(), "k1")))
    );
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-3"), at(11)),
        Some(SeatStatus::Available)
    );
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("Q-3"), at(11)),
        None
    );
    let stalls = &state.availability(at(11))[1];
    assert_eq!(
        (stalls.capacity, stalls.available, stalls.held, stalls.sold),
        (30, 28, 2, 0)
    );
    assert_eq!(state.next_expiry(), Some(at(610)));
}

#[test]
fn a_retry_decides_nothing_even_when_the_world_moved_on() {
    let first = held_seats(&alice(), "k1", &["A-1"], 10);
    on_sale([first.clone()])
        .when(place_seats(&alice(), "k1", &["A-1"]), at(20))
        .then_nothing();
    // After the sale closed, after a release, after a sale: still the first answer.
    on_sale([first.clone()])
        .when(place_seats(&alice(), "k1", &["A-1"]), at(CLOSES + 5))
        .then(vec![expired(&first)]);
    on_sale([first.clone(), released(&first)])
        .when(place_seats(&alice(), "k1", &["A-1"]), at(30))
        .then_nothing();
    on_sale([first.clone(), sold(&first, order(1))])
        .when(place_seats(&alice(), "k1", &["A-1"]), at(9_000))
        .then_nothing();
}

#[test]
fn a_retry_after_the_hold_expired_only_records_the_expiry() {
    let first = held_seats(&alice(), "k1", &["A-1"], 0);
    let state = on_sale([first.clone()])
        .when(place_seats(&alice(), "k1", &["A-1"]), at(TTL))
        .then(vec![expired(&first)]);
    assert_eq!(
        state.hold(&hold_of(&first)).unwrap().status,
        HoldStatus::Expired
    );
}

#[test]
fn the_same_key_with_another_request_is_refused() {
    let first = held_seats(&alice(), "k1", &["A-1"], 0);
    on_sale([first.clone()])
        .when(place_seats(&alice(), "k1", &["A-2"]), at(1))
        .then_error(InventoryError::IdempotencyKeyReused);
    on_sale([first.clone()])
        .when(
            place(&alice(), "k1", "boxes", Selection::Seats(seats(&["A-1"]))),
            at(1),
        )
        .then_error(InventoryError::IdempotencyKeyReused);
    on_sale([first.clone()])
        .when(place_quantity(&alice(), "k1", "stalls", 1), at(1))
        .then_error(InventoryError::IdempotencyKeyReused);
    // A hold id is derived from the customer, but a forged one is still not bob's to reuse.
    let InventoryCommand::PlaceHold(mut forged) = place_seats(&alice(), "k1", &["A-1"]) else {
        unreachable!()
    };
    forged.customer_id = bob();
    on_sale([first])
        .when(InventoryCommand::PlaceHold(forged), at(1))
        .then_error(InventoryError::IdempotencyKeyReused);
}

#[test]
fn holds_are_placed_only_while_the_sale_is_open() {
    on_sale([])
        .when(place_seats(&alice(), "k", &["A-1"]), at(-1))
        .then_error(InventoryError::SaleNotOpen);
    on_sale([])
        .when(place_seats(&alice(), "k", &["A-1"]), at(CLOSES))
        .then_error(InventoryError::SaleClosed);
    on_sale([])
        .when(place_seats(&alice(), "k", &["A-1"]), at(CLOSES - 1))
        .then(vec![held_seats(&alice(), "k", &["A-1"], CLOSES - 1)]);
    on_sale([])
        .when(place_seats(&alice(), "k", &["A-1"]), T0)
        .then(vec![held_seats(&alice(), "k", &["A-1"], 0)]);
}

#[test]
fn the_section_must_exist() {
    on_sale([])
        .when(
            place(&alice(), "k", "nowhere", Selection::Seats(seats(&["A-1"]))),
            at(1),
        )
        .then_error(InventoryError::UnknownSection);
}

#[test]
fn one_to_the_limit_of_seats_may_be_named() {
    on_sale([])
        .when(place_seats(&alice(), "k", &[]), at(1))
        .then_error(InventoryError::InvalidQuantity { max: MAX });
    on_sale([])
        .when(
            place_seats(
                &alice(),
                "k",
                &["A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7"],
            ),
            at(1),
        )
        .then_error(InventoryError::InvalidQuantity { max: MAX });
}

#[test]
fn seats_cannot_be_named_in_general_admission() {
    on_sale([])
        .when(
            place(&alice(), "k", "floor", Selection::Seats(seats(&["A-1"]))),
            at(1),
        )
        .then_error(InventoryError::SeatsInGaSection);
}

#[test]
fn a_seat_is_named_once() {
    on_sale([])
        .when(place_seats(&alice(), "k", &["A-1", "A-2", "A-1"]), at(1))
        .then_error(InventoryError::DuplicateSeat(seat("A-1")));
}

#[test]
fn every_seat_must_exist() {
    on_sale([])
        .when(place_seats(&alice(), "k", &["A-1", "Z-1"]), at(1))
        .then_error(InventoryError::UnknownSeat(seat("Z-1")));
    on_sale([])
        .when(place_seats(&alice(), "k", &["A-11"]), at(1))
        .then_error(InventoryError::UnknownSeat(seat("A-11")));
}

#[test]
fn every_taken_seat_is_named_in_the_refusal() {
    let bobs = held_seats(&bob(), "b", &["A-1", "A-2"], 0);
    let carols = held_seats(&carol(), "c", &["C-1"], 0);
    let alices = held_seats(&alice(), "a", &["B-1"], 0);
    on_sale([bobs, carols.clone(), sold(&carols, order(7)), alices])
        .when(
            place_seats(&alice(), "k", &["A-2", "A-3", "C-1", "B-1"]),
            at(5),
        )
        .then_error(InventoryError::SeatUnavailable(seats(&[
            "A-2", "C-1", "B-1",
        ])));
}
