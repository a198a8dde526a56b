//! Rule 11: an operator cancels the event. The sale ends at once; every live hold is released
//! and every waiting entry ends in the same decision; holds checked out or sold stay for their
//! orders to settle, and nothing is sold any more. Cancelling again decides nothing.

use super::*;
use crate::inventory::{EventInventory, InventoryError, WaitlistStatus};

fn cancel() -> InventoryCommand {
    InventoryCommand::CancelSale
}

fn cancelled(seconds: i64) -> InventoryEvent {
    InventoryEvent::SaleCancelled {
        cancelled_at: at(seconds),
    }
}

fn joined(who: &CustomerId, key: &str) -> InventoryEvent {
    InventoryEvent::WaitlistJoined {
        waitlist_id: waitlist_id(who, key),
        customer_id: who.clone(),
        section_id: section("floor"),
        quantity: 1,
        adjacent: false,
    }
}

fn left(who: &CustomerId, key: &str) -> InventoryEvent {
    InventoryEvent::WaitlistLeft {
        waitlist_id: waitlist_id(who, key),
        customer_id: who.clone(),
        hold_id: None,
    }
}

#[test]
fn cancelling_an_empty_sale_records_when_and_ends_it() {
    let state = on_sale([])
        .when(cancel(), at(100))
        .then(vec![cancelled(100)]);
    assert_eq!(state.cancelled_at(), Some(at(100)));
    assert_eq!(state.sale_closes_at(), Some(at(100)));
}

#[test]
fn live_holds_are_released_and_checked_out_or_sold_ones_stay() {
    let live = held_seats(&alice(), "a", &["A-1", "A-2"], 10);
    let ordered = held_seats(&bob(), "b", &["B-1"], 20);
    let bought = held_floor(&carol(), "c", 2, 30);
    let state = on_sale([
        live.clone(),
        ordered.clone(),
        checked_out(&ordered, order(1)),
        bought.clone(),
        checked_out(&bought, order(2)),
        sold(&bought, order(2)),
    ])
    .when(cancel(), at(100))
    .then(vec![cancelled(100), released(&live)]);
    assert_eq!(state.orders_to_settle(), vec![order(1), order(2)]);
}

#[test]
fn a_hold_due_at_the_cancellation_expires_rather_than_being_released() {
    let due = held_floor(&alice(), "a", 1, 0);
    on_sale([due.clone()])
        .when(cancel(), at(TTL))
        .then(vec![expired(&due), cancelled(TTL)]);
}

#[test]
fn waiting_entries_end_and_freed_seats_are_offered_to_nobody() {
    let alices = held_floor(&alice(), "a", 4, 0);
    let bobs = held_floor(&bob(), "b", 6, 0);
    let state = on_sale([alices.clone(), bobs.clone(), joined(&carol(), "w")])
        .when(cancel(), at(100))
        .then(vec![
            cancelled(100),
            released(&alices),
            released(&bobs),
            left(&carol(), "w"),
        ]);
    let place = state.waitlist_place(&waitlist_id(&carol(), "w")).unwrap();
    assert_eq!(place.entry.status, WaitlistStatus::Left);
}

#[test]
fn nothing_is_held_joined_or_sold_after_the_cancellation() {
    on_sale([cancelled(100)])
        .when(place_quantity(&alice(), "k", "floor", 2), at(120))
        .then_error(InventoryError::SaleClosed);
    let h = held_seats(&alice(), "k", &["A-1"], 50);
    on_sale([h.clone(), checked_out(&h, order(1)), cancelled(100)])
        .when(sell(&h, order(1)), at(120))
        .then_error(InventoryError::EventCancelled);
}

#[test]
fn a_sale_made_before_the_cancellation_is_still_recognised_and_returned() {
    let h = held_seats(&alice(), "k", &["A-1"], 50);
    let before = [
        h.clone(),
        checked_out(&h, order(1)),
        sold(&h, order(1)),
        cancelled(100),
    ];
    on_sale(before.clone())
        .when(sell(&h, order(1)), at(120))
        .then_nothing();
    let state = on_sale(before)
        .when(
            InventoryCommand::ReturnSeats { order_id: order(1) },
            at(130),
        )
        .then(vec![returned(&h, order(1))]);
    assert!(state.orders_to_settle().is_empty());
}

#[test]
fn an_unpaid_order_abandons_its_hold_after_the_cancellation() {
    let h = held_floor(&alice(), "k", 2, 50);
    on_sale([h.clone(), checked_out(&h, order(1)), cancelled(100)])
        .when(
            InventoryCommand::AbandonCheckout {
                hold_id: hold_of(&h),
                order_id: order(1),
            },
            at(120),
        )
        .then(vec![released(&h)]);
}

#[test]
fn cancelling_again_decides_nothing_and_keeps_the_first_time() {
    let state = on_sale([cancelled(100)])
        .when(cancel(), at(200))
        .then_nothing();
    assert_eq!(state.cancelled_at(), Some(at(100)));
}

#[test]
fn an_inventory_that_is_not_open_cannot_be_cancelled() {
    given::<Inventory>([])
        .when(cancel(), at(0))
        .then_error(InventoryError::NotOpen);
}

#[test]
fn a_snapshot_keeps_the_cancellation() {
    let state = on_sale([cancelled(100)])
        .when(cancel(), at(200))
        .then_nothing();
    let json = serde_json::to_string(&state).unwrap();
    let back: EventInventory = serde_json::from_str(&json).unwrap();
    assert_eq!(back.cancelled_at(), Some(at(100)));
    assert_eq!(back, state);
}
