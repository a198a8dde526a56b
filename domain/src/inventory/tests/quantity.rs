//! Rule 3 for quantities and rule 4 (best available) as stories: general admission counts, a
//! seated section gets the best adjacent seats and never a lone orphan when it can be avoided.

use super::*;
use crate::inventory::{InventoryError, SeatStatus};

#[test]
fn general_admission_takes_from_the_capacity() {
    let state = on_sale([])
        .when(place_quantity(&alice(), "k", "floor", 3), at(1))
        .then(vec![held_floor(&alice(), "k", 3, 1)]);
    let floor = &state.availability(at(2))[0];
    assert_eq!(
        (floor.capacity, floor.available, floor.held, floor.sold),
        (10, 7, 3, 0)
    );
    assert!(state
        .hold(&hold_id(&alice(), "k"))
        .unwrap()
        .seats
        .is_empty());
}

#[test]
fn general_admission_sells_out() {
    let bobs = held_floor(&bob(), "b", 6, 0);
    let carols = held_floor(&carol(), "c", 3, 0);
    on_sale([bobs, carols.clone(), sold(&carols, order(1))])
        .when(place_quantity(&alice(), "k", "floor", 2), at(1))
        .then_error(InventoryError::SoldOut { available: 1 });
    on_sale([
        held_floor(&bob(), "b", 6, 0),
        held_floor(&carol(), "c", 3, 0),
    ])
    .when(place_quantity(&alice(), "k", "floor", 1), at(1))
    .then(vec![held_floor(&alice(), "k", 1, 1)]);
}

#[test]
fn a_quantity_is_one_to_the_limit() {
    for quantity in [0, MAX + 1] {
        for section_id in ["floor", "stalls"] {
            on_sale([])
                .when(place_quantity(&alice(), "k", section_id, quantity), at(1))
                .then_error(InventoryError::InvalidQuantity { max: MAX });
        }
    }
}

#[test]
fn a_seated_quantity_gets_the_centre_of_the_first_row() {
    let state = on_sale([])
        .when(place_quantity(&alice(), "k", "stalls", 2), at(1))
        .then(vec![held(
            &alice(),
            "k",
            "stalls",
            &["A-5", "A-6"],
            Selection::Quantity(2),
            1,
        )]);
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-6"), at(2)),
        Some(SeatStatus::Held(hold_id(&alice(), "k")))
    );
}

#[test]
fn the_next_pair_sits_as_near_the_centre_as_it_can_lowest_seats_first() {
    // are taken: A-3+A-4 and A-7+A-8 are equally near the centre.
    on_sale([held_seats(&bob(), "b", &["A-5", "A-6"], 0)])
        .when(place_quantity(&alice(), "k", "stalls", 2), at(1))
        .then(vec![held(
            &alice(),
            "k",
            "stalls",
            &["A-3", "A-4"],
            Selection::Quantity(2),
            1,
        )]);
}

#[test]
fn a_full_first_row_sends_the_block_to_the_next() {
    let row_a_left = held_seats(&bob(), "b", &["A-1", "A-2", "A-3", "A-4", "A-5"], 0);
    let row_a_right = held_seats(&carol(), "c", &["A-6", "A-7", "A-8", "A-9", "A-10"], 0);
    on_sale([row_a_left, row_a_right])
        .when(place_quantity(&alice(), "k", "stalls", 4), at(1))
        .then(vec![held(
            &alice(),
            "k",
            "stalls",
            &["B-4", "B-5", "B-6", "B-7"],
            Selection::Quantity(4),
            1,
        )]);
}

#[test]
fn a_later_row_wins_when_the_first_would_leave_an_orphan() {
    // Row X has 3 seats: any pair leaves one alone. Row Y's pair leaves nobody alone.
    on_sale([])
        .when(place_quantity(&alice(), "k", "boxes", 2), at(1))
        .then(vec![held(
            &alice(),
            "k",
            "boxes",
            &["Y-1", "Y-2"],
            Selection::Quantity(2),
            1,
        )]);
}

#[test]
fn an_orphan_is_left_only_when_every_choice_leaves_one() {
    on_sale([held(
        &bob(),
        "b",
        "boxes",
        &["Y-1", "Y-2"],
        Selection::Quantity(2),
        0,
    )])
    .when(place_quantity(&alice(), "k", "boxes", 2), at(1))
    .then(vec![held(
        &alice(),
        "k",
        "boxes",
        &["X-1", "X-2"],
        Selection::Quantity(2),
        1,
    )]);
}

#[test]
fn fewer_free_seats_than_asked_is_sold_out() {
    let ys = held_seats_in_boxes(&bob(), "b", &["Y-1", "Y-2"]);
    let xs = held_seats_in_boxes(&carol(), "c", &["X-1", "X-2"]);
    on_sale([ys, xs])
        .when(place_quantity(&alice(), "k", "boxes", 2), at(1))
        .then_error(InventoryError::SoldOut { available: 1 });
}

#[test]
fn enough_free_seats_but_none_adjacent_is_said_so() {
    on_sale([held_seats_in_boxes(&bob(), "b", &["X-2"])])
        .when(place_quantity(&alice(), "k", "boxes", 3), at(1))
        .then_error(InventoryError::NoAdjacentSeats { requested: 3 });
}

fn held_seats_in_boxes(customer: &CustomerId, key: &str, labels: &[&str]) -> InventoryEvent {
    held(
        customer,
        key,
        "boxes",
        labels,
        Selection::Seats(seats(labels)),
        0,
    )
}
