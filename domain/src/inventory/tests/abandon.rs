//! Rule 10: the order that checked a hold out abandons it when it will never pay (its payment was
//! declined, or its customer cancelled it unpaid): the hold is released and its seats go back on
//! sale at once, not at `expires_at`. Only that order may, only while unpaid, and a retry (or a
//! hold that ran out meanwhile) decides nothing.

use super::*;
use crate::inventory::{HoldStatus, InventoryError, SeatStatus};

fn abandon(held: &InventoryEvent, order_id: OrderId) -> InventoryCommand {
    InventoryCommand::AbandonCheckout {
        hold_id: hold_of(held),
        order_id,
    }
}

#[test]
fn an_abandoned_checkout_releases_the_hold_and_frees_its_seats_at_once() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let state = on_sale([h.clone(), checked_out(&h, order(1))])
        .when(abandon(&h, order(1)), at(30))
        .then(vec![released(&h)]);
    let hold = state.hold(&hold_of(&h)).unwrap();
    assert_eq!(hold.status, HoldStatus::Released);
    assert_eq!(
        hold.order_id,
        Some(order(1)),
        "the hold remembers its order"
    );
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(31)),
        Some(SeatStatus::Available)
    );
    assert_eq!(state.customer_tickets(&alice(), at(31)), 0);
    assert_eq!(state.next_expiry(), None);
    let stalls = &state.availability(at(31))[1];
    assert_eq!((stalls.available, stalls.held), (30, 0));
    // Someone else may take the seats right away, long before the hold's deadline.
    crate::test_support::given_state::<Inventory>(state)
        .when(place_seats(&bob(), "b", &["A-1"]), at(40))
        .then(vec![held_seats(&bob(), "b", &["A-1"], 40)]);
}

#[test]
fn abandoning_again_is_a_retry_and_so_is_a_hold_that_ran_out() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), checked_out(&h, order(1)), released(&h)])
        .when(abandon(&h, order(1)), at(30))
        .then_nothing();
    on_sale([h.clone(), checked_out(&h, order(1)), expired(&h)])
        .when(abandon(&h, order(1)), at(TTL + 5))
        .then_nothing();
    // Due but not yet recorded: the decision records the expiry, and nothing of its own.
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(abandon(&h, order(1)), at(TTL))
        .then(vec![expired(&h)]);
}

#[test]
fn only_the_order_that_checked_the_hold_out_may_abandon_it() {
    let h = held_floor(&alice(), "k", 2, 0);
    on_sale([h.clone(), checked_out(&h, order(1))])
        .when(abandon(&h, order(2)), at(30))
        .then_error(InventoryError::NotCheckedOut);
    // A hold nobody checked out is the customer's to release, not an order's to abandon.
    on_sale([h.clone()])
        .when(abandon(&h, order(1)), at(30))
        .then_error(InventoryError::NotCheckedOut);
    on_sale([])
        .when(abandon(&h, order(1)), at(30))
        .then_error(InventoryError::UnknownHold);
}

#[test]
fn a_paid_hold_is_not_abandoned_but_returned() {
    let h = held_seats(&alice(), "k", &["A-1"], 0);
    let refused = |status| InventoryError::InvalidHoldState {
        status,
        action: "abandoned",
    };
    on_sale([h.clone(), checked_out(&h, order(1)), sold(&h, order(1))])
        .when(abandon(&h, order(1)), at(30))
        .then_error(refused("sold"));
    on_sale([
        h.clone(),
        checked_out(&h, order(1)),
        sold(&h, order(1)),
        returned(&h, order(1)),
    ])
    .when(abandon(&h, order(1)), at(30))
    .then_error(refused("returned"));
}

#[test]
fn an_abandoned_hold_is_never_sold_but_its_checkout_is_still_recognised() {
    let h = held_seats(&alice(), "k", &["A-1"], 0);
    let given = [h.clone(), checked_out(&h, order(1)), released(&h)];
    on_sale(given.clone())
        .when(sell(&h, order(1)), at(30))
        .then_error(InventoryError::InvalidHoldState {
            status: "released",
            action: "sold",
        });
    // The customer's retried `POST /orders` checks the hold out again: a retry, nothing new.
    on_sale(given.clone())
        .when(checkout(&h, order(1)), at(30))
        .then_nothing();
    // Another order cannot take a released hold.
    on_sale(given)
        .when(checkout(&h, order(2)), at(30))
        .then_error(InventoryError::InvalidHoldState {
            status: "released",
            action: "checked out",
        });
}

#[test]
fn a_replayed_release_of_an_ordered_hold_rebuilds_the_same_state_as_a_snapshot() {
    let h = held_seats(&alice(), "k", &["B-1", "B-2"], 0);
    let state = on_sale([h.clone(), checked_out(&h, order(1)), released(&h)])
        .when(InventoryCommand::ExpireDue, at(30))
        .then_nothing();
    let json = serde_json::to_string(&state).unwrap();
    let loaded: crate::inventory::EventInventory = serde_json::from_str(&json).unwrap();
    assert!(loaded == state);
    assert_eq!(loaded.availability(at(31)), state.availability(at(31)));
}
