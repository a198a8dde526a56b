//! Rule 5: a customer gives a live hold back, once; not one checked out into an order.

use super::*;
use crate::inventory::{HoldStatus, InventoryError, SeatStatus};

#[test]
fn a_live_hold_is_released_and_its_seats_are_free_again() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let state = on_sale([h.clone()])
        .when(release(&h, &alice()), at(5))
        .then(vec![released(&h)]);
    assert_eq!(
        state.hold(&hold_of(&h)).unwrap().status,
        HoldStatus::Released
    );
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(6)),
        Some(SeatStatus::Available)
    );
    assert_eq!(state.customer_tickets(&alice(), at(6)), 0);
    assert_eq!(state.next_expiry(), None);
}

#[test]
fn releasing_again_is_a_retry() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), released(&h)])
        .when(release(&h, &alice()), at(5))
        .then_nothing();
}

#[test]
fn an_unknown_hold_cannot_be_released() {
    let never_placed = held_floor(&alice(), "k", 2, 0);
    on_sale([])
        .when(release(&never_placed, &alice()), at(5))
        .then_error(InventoryError::UnknownHold);
}

#[test]
fn only_the_holder_may_release() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone()])
        .when(release(&h, &bob()), at(5))
        .then_error(InventoryError::NotOwner);
}

#[test]
fn an_expired_hold_cannot_be_released_recorded_or_not() {
    let h = held_floor(&alice(), "k", 2, 0);
    let refused = InventoryError::InvalidHoldState {
        status: "expired",
        action: "released",
    };
    on_sale([h.clone(), expired(&h)])
        .when(release(&h, &alice()), at(TTL + 5))
        .then_error(refused.clone());
    on_sale([h.clone()])
        .when(release(&h, &alice()), at(TTL))
        .then_error(refused);
}

#[test]
fn a_sold_or_returned_hold_cannot_be_released() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), sold(&h, order(1))])
        .when(release(&h, &alice()), at(5))
        .then_error(InventoryError::InvalidHoldState {
            status: "sold",
            action: "released",
        });
    on_sale([h.clone(), sold(&h, order(1)), returned(&h, order(1))])
        .when(release(&h, &alice()), at(5))
        .then_error(InventoryError::InvalidHoldState {
            status: "returned",
            action: "released",
        });
}

#[test]
fn an_ordered_hold_cannot_be_released_by_the_customer() {
    let h = held_seats(&alice(), "k", &["A-1"], 0);
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(release(&h, &alice()), at(5))
        .then_error(InventoryError::InvalidHoldState {
            status: "ordered",
            action: "released",
        });
    // Past its deadline it is expired, as any hold.
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(release(&h, &alice()), at(TTL))
        .then_error(InventoryError::InvalidHoldState {
            status: "expired",
            action: "released",
        });
}
