//! Rule 7: an order cancelled or refunded puts its seats back on sale, once.

use super::*;
use crate::inventory::{HoldStatus, InventoryError, SeatStatus};

#[test]
fn returned_seats_are_available_again() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let state = on_sale([h.clone(), sold(&h, order(1))])
        .when(InventoryCommand::ReturnSeats { order_id: order(1) }, at(50))
        .then(vec![returned(&h, order(1))]);
    assert_eq!(
        state.hold(&hold_of(&h)).unwrap().status,
        HoldStatus::Returned { order_id: order(1) }
    );
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(51)),
        Some(SeatStatus::Available)
    );
    assert_eq!(state.customer_tickets(&alice(), at(51)), 0);
    let stalls = &state.availability(at(51))[1];
    assert_eq!((stalls.available, stalls.sold), (30, 0));
    crate::test_support::given_state::<Inventory>(state)
        .when(place_seats(&bob(), "b", &["A-1", "A-2"]), at(60))
        .then(vec![held_seats(&bob(), "b", &["A-1", "A-2"], 60)]);
}

#[test]
fn returning_again_is_a_retry() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), sold(&h, order(1)), returned(&h, order(1))])
        .when(InventoryCommand::ReturnSeats { order_id: order(1) }, at(50))
        .then_nothing();
}

#[test]
fn an_order_that_bought_nothing_here_is_unknown() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h])
        .when(InventoryCommand::ReturnSeats { order_id: order(1) }, at(50))
        .then_error(InventoryError::UnknownOrder);
}

#[test]
fn every_hold_of_the_order_comes_back() {
    let floor = held_floor(&alice(), "f", 2, 0);
    let stalls = held_seats(&alice(), "s", &["C-3"], 0);
    on_sale([
        floor.clone(),
        stalls.clone(),
        sold(&floor, order(1)),
        sold(&stalls, order(1)),
    ])
    .when(InventoryCommand::ReturnSeats { order_id: order(1) }, at(50))
    .then(vec![
        returned(&floor, order(1)),
        returned(&stalls, order(1)),
    ]);
}
