//! Rule 8: a customer holds and owns at most the event's limit, across all sections; releases,
//! expiries and returns give tickets back.

use super::*;
use crate::inventory::InventoryError;

#[test]
fn the_limit_counts_holds_in_every_section() {
    let on_floor = held_floor(&alice(), "f", 4, 0);
    on_sale([on_floor.clone()])
        .when(place_seats(&alice(), "k", &["A-1", "A-2", "A-3"]), at(1))
        .then_error(InventoryError::LimitExceeded {
            limit: MAX,
            current: 4,
        });
    let state = on_sale([on_floor])
        .when(place_seats(&alice(), "k", &["A-1", "A-2"]), at(1))
        .then(vec![held_seats(&alice(), "k", &["A-1", "A-2"], 1)]);
    assert_eq!(state.customer_tickets(&alice(), at(2)), MAX);
    assert_eq!(state.customer_tickets(&bob(), at(2)), 0);
}

#[test]
fn sold_tickets_count_too() {
    let bought = held_floor(&alice(), "f", 4, 0);
    on_sale([bought.clone(), sold(&bought, order(1))])
        .when(place_quantity(&alice(), "k", "stalls", 3), at(TTL * 3))
        .then_error(InventoryError::LimitExceeded {
            limit: MAX,
            current: 4,
        });
}

#[test]
fn other_customers_are_not_limited_by_it() {
    on_sale([held_floor(&alice(), "f", MAX, 0)])
        .when(
            place_seats(&bob(), "k", &["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"]),
            at(1),
        )
        .then(vec![held_seats(
            &bob(),
            "k",
            &["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"],
            1,
        )]);
}

#[test]
fn a_release_gives_the_tickets_back() {
    let first = held_floor(&alice(), "f", MAX, 0);
    on_sale([first.clone(), released(&first)])
        .when(place_quantity(&alice(), "k", "floor", MAX), at(1))
        .then(vec![held_floor(&alice(), "k", MAX, 1)]);
}

#[test]
fn an_expiry_gives_the_tickets_back_even_before_it_is_recorded() {
    let first = held_floor(&alice(), "f", MAX, 0);
    on_sale([first.clone()])
        .when(place_quantity(&alice(), "k", "floor", MAX), at(TTL))
        .then(vec![expired(&first), held_floor(&alice(), "k", MAX, TTL)]);
}

#[test]
fn a_return_gives_the_tickets_back() {
    let first = held_floor(&alice(), "f", MAX, 0);
    let state = on_sale([
        first.clone(),
        sold(&first, order(1)),
        returned(&first, order(1)),
    ])
    .when(place_quantity(&alice(), "k", "floor", MAX), at(1))
    .then(vec![held_floor(&alice(), "k", MAX, 1)]);
    assert_eq!(state.customer_tickets(&alice(), at(2)), MAX);
}
