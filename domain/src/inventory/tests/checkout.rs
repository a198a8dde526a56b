//! Rule 9: the holder checks a live hold out into one order. The seats stay held until the order is
//! paid or the hold's `expires_at` (which the hold keeps: it is the order's deadline); the hold
//! still expires lazily; the customer can no longer release it; a retry decides nothing, forever.

use super::*;
use crate::inventory::{HoldStatus, InventoryError, SeatStatus};

#[test]
fn a_live_hold_is_checked_out_into_an_order_and_keeps_its_seats_and_deadline() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let before = on_sale([h.clone()])
        .when(InventoryCommand::ExpireDue, at(5))
        .then_nothing();
    let state = on_sale([h.clone()])
        .when(checkout(&h, order(1)), at(5))
        .then(vec![checked_out(&h, order(1))]);
    let hold = state.hold(&hold_of(&h)).unwrap();
    assert_eq!(hold.status, HoldStatus::Ordered { order_id: order(1) });
    assert_eq!(hold.status.name(), "ordered");
    assert_eq!(hold.order_id, Some(order(1)));
    assert_eq!(hold.expires_at, at(TTL));
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(6)),
        Some(SeatStatus::Held(hold_of(&h)))
    );
    assert_eq!(state.availability(at(6)), before.availability(at(6)));
    assert_eq!(state.customer_tickets(&alice(), at(6)), 2);
    assert_eq!(state.next_expiry(), Some(at(TTL)));
}

#[test]
fn checking_out_again_for_the_same_order_is_a_retry_forever() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(checkout(&h, order(1)), at(5))
        .then_nothing();
    // Paid and sold since, or returned since.
    on_sale([h.clone(), checked_out(&h, order(1)), sold(&h, order(1))])
        .when(checkout(&h, order(1)), at(5))
        .then_nothing();
    on_sale([
        h.clone(),
        checked_out(&h, order(1)),
        sold(&h, order(1)),
        returned(&h, order(1)),
    ])
    .when(checkout(&h, order(1)), at(5))
    .then_nothing();
    // Expired since, recorded or not: only the due expiry is recorded.
    on_sale([h.clone(), checked_out(&h, order(1)), expired(&h)])
        .when(checkout(&h, order(1)), at(TTL + 5))
        .then_nothing();
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(checkout(&h, order(1)), at(TTL))
        .then(vec![expired(&h)]);
}

#[test]
fn a_hold_is_checked_out_by_one_order_only() {
    let h = held_floor(&alice(), "k", 2, 0);
    let refused = |status| InventoryError::InvalidHoldState {
        status,
        action: "checked out",
    };
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(checkout(&h, order(2)), at(5))
        .then_error(refused("ordered"));
    on_sale([h.clone(), checked_out(&h, order(1)), sold(&h, order(1))])
        .when(checkout(&h, order(2)), at(5))
        .then_error(refused("sold"));
    on_sale([
        h.clone(),
        checked_out(&h, order(1)),
        sold(&h, order(1)),
        returned(&h, order(1)),
    ])
    .when(checkout(&h, order(2)), at(5))
    .then_error(refused("returned"));
}

#[test]
fn an_unknown_hold_cannot_be_checked_out() {
    on_sale([])
        .when(checkout(&held_floor(&alice(), "k", 2, 0), order(1)), at(5))
        .then_error(InventoryError::UnknownHold);
}

#[test]
fn only_the_holder_may_check_out() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone()])
        .when(checkout_by(&h, order(1), &bob()), at(5))
        .then_error(InventoryError::NotOwner);
    // Not even as a "retry" of alice's checkout.
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(checkout_by(&h, order(1), &bob()), at(5))
        .then_error(InventoryError::NotOwner);
}

#[test]
fn a_hold_that_ran_out_cannot_be_checked_out_recorded_or_not() {
    let h = held_seats(&alice(), "k", &["A-1"], 0);
    on_sale([h.clone(), expired(&h)])
        .when(checkout(&h, order(1)), at(TTL + 5))
        .then_error(InventoryError::HoldExpired);
    on_sale([h.clone()])
        .when(checkout(&h, order(1)), at(TTL))
        .then_error(InventoryError::HoldExpired);
    // One second before, it can.
    on_sale([h.clone()])
        .when(checkout(&h, order(1)), at(TTL - 1))
        .then(vec![checked_out(&h, order(1))]);
    // Ordered by another order that let it run out: expired too.
    on_sale([h.clone(), checked_out(&h, order(2)), expired(&h)])
        .when(checkout(&h, order(1)), at(TTL + 5))
        .then_error(InventoryError::HoldExpired);
}

#[test]
fn a_released_hold_cannot_be_checked_out() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), released(&h)])
        .when(checkout(&h, order(1)), at(5))
        .then_error(InventoryError::InvalidHoldState {
            status: "released",
            action: "checked out",
        });
}

#[test]
fn the_sale_window_does_not_stop_a_checkout() {
    let h = held_floor(&alice(), "k", 2, CLOSES - 10);
    on_sale([h.clone()])
        .when(checkout(&h, order(1)), at(CLOSES + 5))
        .then(vec![checked_out(&h, order(1))]);
}

#[test]
fn an_unpaid_ordered_hold_expires_like_an_active_one_and_its_seats_go_back_on_sale() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let state = on_sale([h.clone(), checked_out(&h, order(1))])
        .when(InventoryCommand::ExpireDue, at(TTL))
        .then(vec![expired(&h)]);
    let hold = state.hold(&hold_of(&h)).unwrap();
    assert_eq!(hold.status, HoldStatus::Expired);
    assert_eq!(
        hold.order_id,
        Some(order(1)),
        "the hold remembers its order"
    );
    assert_eq!(state.customer_tickets(&alice(), at(TTL)), 0);
    assert_eq!(state.next_expiry(), None);
    // Lazily too: bob takes a seat the moment the deadline passes, unrecorded.
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(place_seats(&bob(), "b", &["A-2"]), at(TTL))
        .then(vec![expired(&h), held_seats(&bob(), "b", &["A-2"], TTL)]);
}
