//! Rule 6: payment succeeded, so the hold's seats are sold to the order that checked it out; once.
//! A hold that lapsed meanwhile is still sold to that order when its seats are free and its
//! customer within the limit.

use super::*;
use crate::inventory::{HoldStatus, InventoryError, SeatStatus};

#[test]
fn a_checked_out_hold_is_sold_to_its_order() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let state = on_sale([h.clone(), checked_out(&h, order(1))])
        .when(sell(&h, order(1)), at(5))
        .then(vec![sold(&h, order(1))]);
    let hold = state.hold(&hold_of(&h)).unwrap();
    assert_eq!(hold.status, HoldStatus::Sold { order_id: order(1) });
    assert_eq!(hold.order_id, Some(order(1)));
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-2"), at(TTL * 10)),
        Some(SeatStatus::Sold(order(1)))
    );
    let stalls = &state.availability(at(TTL * 10))[1];
    assert_eq!((stalls.available, stalls.held, stalls.sold), (28, 0, 2));
    assert_eq!(state.customer_tickets(&alice(), at(TTL * 10)), 2);
    assert_eq!(state.next_expiry(), None);
    assert_eq!(state.holds_of_order(&order(1)).count(), 1);
}

#[test]
fn selling_again_to_the_same_order_is_a_retry() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), checked_out(&h, order(1)), sold(&h, order(1))])
        .when(sell(&h, order(1)), at(5))
        .then_nothing();
}

#[test]
fn a_hold_is_sold_to_one_order_only() {
    let h = held_floor(&alice(), "k", 2, 0);
    let paid = [h.clone(), checked_out(&h, order(1)), sold(&h, order(1))];
    on_sale(paid.clone())
        .when(sell(&h, order(2)), at(5))
        .then_error(InventoryError::InvalidHoldState {
            status: "sold",
            action: "sold",
        });
    on_sale(paid.into_iter().chain([returned(&h, order(1))]))
        .when(sell(&h, order(1)), at(5))
        .then_error(InventoryError::InvalidHoldState {
            status: "returned",
            action: "sold",
        });
}

#[test]
fn only_the_order_that_checked_the_hold_out_may_buy_it() {
    let h = held_floor(&alice(), "k", 2, 0);
    // Never checked out: live, or given back.
    on_sale([h.clone()])
        .when(sell(&h, order(1)), at(5))
        .then_error(InventoryError::NotCheckedOut);
    on_sale([h.clone(), released(&h)])
        .when(sell(&h, order(1)), at(5))
        .then_error(InventoryError::NotCheckedOut);
    // Checked out by another order, live or lapsed since.
    on_sale([h.clone(), checked_out(&h, order(2))])
        .when(sell(&h, order(1)), at(5))
        .then_error(InventoryError::NotCheckedOut);
    on_sale([h.clone(), checked_out(&h, order(2)), expired(&h)])
        .when(sell(&h, order(1)), at(TTL + 5))
        .then_error(InventoryError::NotCheckedOut);
}

#[test]
fn an_unknown_hold_cannot_be_sold() {
    on_sale([])
        .when(sell(&held_floor(&alice(), "k", 2, 0), order(1)), at(5))
        .then_error(InventoryError::UnknownHold);
}

#[test]
fn the_sale_window_does_not_stop_a_payment() {
    let h = held_floor(&alice(), "k", 2, CLOSES - 10);
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(sell(&h, order(1)), at(CLOSES + 5))
        .then(vec![sold(&h, order(1))]);
}

#[test]
fn a_lapsed_hold_whose_seats_are_still_free_is_sold_to_its_order() {
    let h = held_seats(&alice(), "k", &["A-1"], 0);
    let ordered = checked_out(&h, order(1));
    // Expiry recorded.
    on_sale([h.clone(), ordered.clone(), expired(&h)])
        .when(sell(&h, order(1)), at(TTL + 5))
        .then(vec![sold(&h, order(1))]);
    // Expiry due but not recorded: the decision records it, then the sale.
    let state = on_sale([h.clone(), ordered])
        .when(sell(&h, order(1)), at(TTL))
        .then(vec![expired(&h), sold(&h, order(1))]);
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(TTL)),
        Some(SeatStatus::Sold(order(1)))
    );
    assert_eq!(state.customer_tickets(&alice(), at(TTL)), 1);
}

#[test]
fn a_lapsed_hold_whose_seats_were_taken_is_refused() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let taker = held_seats(&bob(), "b", &["A-2"], TTL + 1);
    on_sale([h.clone(), checked_out(&h, order(1)), expired(&h), taker])
        .when(sell(&h, order(1)), at(TTL + 5))
        .then_error(InventoryError::HoldExpired);
}

#[test]
fn a_lapsed_general_admission_hold_needs_its_quantity_free() {
    let h = held_floor(&alice(), "k", 4, 0);
    let lapsed = [h.clone(), checked_out(&h, order(1)), expired(&h)];
    // Ten places: bob's 6 since leave exactly alice's 4; carol's one more leaves 3.
    let bobs = held_floor(&bob(), "b", 6, TTL + 1);
    let carols = held_floor(&carol(), "c", 1, TTL + 2);
    on_sale(lapsed.iter().cloned().chain([bobs.clone()]))
        .when(sell(&h, order(1)), at(TTL + 5))
        .then(vec![sold(&h, order(1))]);
    on_sale(lapsed.into_iter().chain([bobs, carols]))
        .when(sell(&h, order(1)), at(TTL + 5))
        .then_error(InventoryError::HoldExpired);
}

#[test]
fn a_lapsed_hold_is_refused_when_its_customer_reached_the_limit_since() {
    let h = held_floor(&alice(), "k", 4, 0);
    let since = held_seats(&alice(), "k2", &["A-1", "A-2", "A-3"], TTL + 1);
    on_sale([h.clone(), checked_out(&h, order(1)), expired(&h), since])
        .when(sell(&h, order(1)), at(TTL + 5))
        .then_error(InventoryError::HoldExpired);
}

#[test]
fn a_log_written_before_checkout_existed_still_folds() {
    // Holds were once sold straight from Active; such facts still apply.
    let h = held_seats(&alice(), "k", &["A-1"], 0);
    let state = on_sale([h.clone(), sold(&h, order(1))])
        .when(sell(&h, order(1)), at(5))
        .then_nothing();
    let hold = state.hold(&hold_of(&h)).unwrap();
    assert_eq!(hold.status, HoldStatus::Sold { order_id: order(1) });
    assert_eq!(hold.order_id, Some(order(1)));
}
