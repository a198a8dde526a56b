//! Rule 10: an operator closes the sale. From the close on, no new hold and no new waiting-list
//! entry; holds already placed may still be checked out and paid. Closing twice, or closing a sale
//! whose window has ended, decides nothing.

use super::*;
use crate::inventory::{EventInventory, InventoryError};

fn close() -> InventoryCommand {
    InventoryCommand::CloseSale
}

fn closed(seconds: i64) -> InventoryEvent {
    InventoryEvent::SaleClosed {
        closed_at: at(seconds),
    }
}

#[test]
fn closing_an_open_sale_records_when() {
    let state = on_sale([]).when(close(), at(100)).then(vec![closed(100)]);
    assert_eq!(state.sale_closes_at(), Some(at(100)));
}

#[test]
fn no_hold_is_placed_after_the_close() {
    on_sale([closed(100)])
        .when(place_quantity(&alice(), "k", "floor", 2), at(100))
        .then_error(InventoryError::SaleClosed);
}

#[test]
fn a_retried_hold_placed_before_the_close_gets_its_first_answer() {
    let h = held_floor(&alice(), "k", 2, 50);
    on_sale([h, closed(100)])
        .when(place_quantity(&alice(), "k", "floor", 2), at(120))
        .then_nothing();
}

#[test]
fn a_hold_placed_before_the_close_is_still_checked_out_and_sold() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 50);
    on_sale([h.clone(), closed(100)])
        .when(checkout(&h, order(1)), at(120))
        .then(vec![checked_out(&h, order(1))]);
    on_sale([h.clone(), closed(100), checked_out(&h, order(1))])
        .when(sell(&h, order(1)), at(130))
        .then(vec![sold(&h, order(1))]);
}

#[test]
fn nobody_joins_the_waiting_list_after_the_close() {
    on_sale([closed(100)])
        .when(
            InventoryCommand::JoinWaitlist {
                waitlist_id: waitlist_id(&alice(), "w"),
                customer_id: alice(),
                section_id: section("floor"),
                quantity: 1,
                adjacent: false,
            },
            at(120),
        )
        .then_error(InventoryError::SaleClosed);
}

#[test]
fn closing_again_decides_nothing_and_keeps_the_first_time() {
    let state = on_sale([closed(100)]).when(close(), at(200)).then_nothing();
    assert_eq!(state.sale_closes_at(), Some(at(100)));
}

#[test]
fn closing_a_sale_whose_window_ended_decides_nothing() {
    on_sale([]).when(close(), at(CLOSES + 1)).then_nothing();
}

#[test]
fn an_inventory_that_is_not_open_cannot_be_closed() {
    given::<Inventory>([])
        .when(close(), at(0))
        .then_error(InventoryError::NotOpen);
}

#[test]
fn a_retried_opening_after_the_close_is_still_a_retry() {
    on_sale([closed(100)])
        .when(open_command(), at(200))
        .then_nothing();
}

#[test]
fn a_snapshot_keeps_the_close() {
    let state = on_sale([closed(100)]).when(close(), at(200)).then_nothing();
    let json = serde_json::to_string(&state).unwrap();
    let loaded: EventInventory = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, state);
    assert_eq!(loaded.sale_closes_at(), Some(at(100)));
}
