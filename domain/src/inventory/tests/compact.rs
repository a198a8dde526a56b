//! Folding finished holds into tombstones: a folded hold answers every command as it did whole
//! (a retry gets the same hold, never a second one; its order may still buy it; a returned order
//! stays returned once), and however long a sale runs, the whole holds and every index stay as
//! small as the live holds.

use super::*;
use crate::inventory::{decide, EventInventory, HoldStatus, InventoryError, SeatStatus};
use crate::test_support::given_state;

/// The state these facts give, with every finished hold folded.
fn folded(events: impl IntoIterator<Item = InventoryEvent>) -> EventInventory {
    let mut state = std::iter::once(opened())
        .chain(events)
        .fold(EventInventory::default(), |s, e| {
            crate::inventory::evolve(s, &e)
        });
    state.fold_finished();
    state
}

#[test]
fn a_folded_released_hold_answers_its_retry_and_refuses_another_request_with_its_key() {
    let h = held_seats(&alice(), "k", &["A-1", "A-2"], 0);
    let whole = [opened(), h.clone(), released(&h)]
        .iter()
        .fold(EventInventory::default(), crate::inventory::evolve);
    let state = folded([h.clone(), released(&h)]);
    assert_eq!(state.whole_holds_count(), 0);
    assert_eq!(state.hold(&hold_of(&h)), whole.hold(&hold_of(&h)));

    given_state::<Inventory>(state.clone())
        .when(place_seats(&alice(), "k", &["A-1", "A-2"]), at(10))
        .then_nothing();
    given_state::<Inventory>(state.clone())
        .when(place_seats(&alice(), "k", &["A-3"]), at(10))
        .then_error(InventoryError::IdempotencyKeyReused);
    given_state::<Inventory>(state.clone())
        .when(release(&h, &alice()), at(10))
        .then_nothing();
    given_state::<Inventory>(state)
        .when(release(&h, &bob()), at(10))
        .then_error(InventoryError::NotOwner);
}

#[test]
fn a_folded_quantity_hold_comes_back_exactly() {
    let h = held(
        &customer("a"),
        "k",
        "boxes",
        &["X-1", "X-2"],
        Selection::Quantity(2),
        0,
    );
    let state = folded([h.clone(), expired(&h)]);
    let hold = state.hold(&hold_of(&h)).unwrap();
    assert_eq!(hold.status, HoldStatus::Expired);
    assert_eq!(hold.seats, seats(&["X-1", "X-2"]));
    assert_eq!(hold.request, Selection::Quantity(2));
    assert_eq!(hold.expires_at, at(TTL));
    given_state::<Inventory>(state)
        .when(place_quantity(&customer("a"), "k", "boxes", 2), at(TTL + 5))
        .then_nothing();
}

#[test]
fn a_folded_lapsed_hold_is_still_bought_by_its_order_when_its_seats_are_free() {
    let h = held_seats(&alice(), "k", &["B-1", "B-2"], 0);
    let state = folded([h.clone(), checked_out(&h, order(1)), expired(&h)]);
    assert_eq!(state.whole_holds_count(), 0);

    let bought = given_state::<Inventory>(state.clone())
        .when(sell(&h, order(1)), at(TTL + 10))
        .then(vec![sold(&h, order(1))]);
    assert_eq!(
        bought.hold(&hold_of(&h)).unwrap().status,
        HoldStatus::Sold { order_id: order(1) }
    );
    assert_eq!(
        bought.seat_status(&section("stalls"), &seat("B-2"), at(TTL + 11)),
        Some(SeatStatus::Sold(order(1)))
    );
    given_state::<Inventory>(bought)
        .when(sell(&h, order(1)), at(TTL + 12))
        .then_nothing();

    // Another order may not, and once the seats are taken nobody may.
    given_state::<Inventory>(state.clone())
        .when(sell(&h, order(2)), at(TTL + 10))
        .then_error(InventoryError::NotCheckedOut);
    let taken = given_state::<Inventory>(state)
        .when(place_seats(&bob(), "b", &["B-2"]), at(TTL + 5))
        .then(vec![held_seats(&bob(), "b", &["B-2"], TTL + 5)]);
    given_state::<Inventory>(taken)
        .when(sell(&h, order(1)), at(TTL + 10))
        .then_error(InventoryError::HoldExpired);
}

#[test]
fn a_folded_returned_order_returns_nothing_again_and_an_unknown_order_stays_unknown() {
    let h = held_floor(&alice(), "k", 2, 0);
    let state = folded([
        h.clone(),
        checked_out(&h, order(1)),
        sold(&h, order(1)),
        returned(&h, order(1)),
    ]);
    assert_eq!(state.whole_holds_count(), 0);
    given_state::<Inventory>(state.clone())
        .when(InventoryCommand::ReturnSeats { order_id: order(1) }, at(50))
        .then_nothing();
    given_state::<Inventory>(state)
        .when(InventoryCommand::ReturnSeats { order_id: order(2) }, at(50))
        .then_error(InventoryError::UnknownOrder);
}

#[test]
fn a_fact_about_a_folded_hold_id_places_nothing_twice() {
    let h = held_floor(&alice(), "k", 2, 0);
    let mut state = folded([h.clone(), released(&h)]);
    state.apply(&h);
    assert_eq!(state.holds_count(), 1);
    assert_eq!(state.availability(at(1))[0].held, 0);
}

/// A long sale of holds placed and released or left to expire: the whole holds, every index and
/// the customer table stay as small after 6,000 cycles as after 1,000, and the tombstones cost a
/// bounded number of snapshot bytes each.
#[test]
fn the_live_structures_stay_the_same_size_however_long_the_sale() {
    // A sale that never closes, so time may run for weeks.
    let mut open = opened();
    if let InventoryEvent::InventoryOpened { sale_closes_at, .. } = &mut open {
        *sale_closes_at = None;
    }
    let mut state = crate::inventory::evolve(EventInventory::default(), &open);
    let mut now = at(0);
    let mut sizes = Vec::new();
    for cycle in 0..6_000u32 {
        let who = customer(["alice", "bob", "carol", "dave"][cycle as usize % 4]);
        let key = format!("k{cycle}");
        let section = ["floor", "stalls", "boxes"][cycle as usize % 3];
        let command = place_quantity(&who, &key, section, 1 + cycle % 2);
        let facts = decide(&state, &command, now).expect("room for every hold");
        facts.iter().for_each(|f| state.apply(f));
        state.compact();
        if cycle % 2 == 0 {
            let hold_id = hold_id(&who, &key);
            let release = InventoryCommand::ReleaseHold {
                hold_id,
                customer_id: who,
            };
            decide(&state, &release, now)
                .unwrap()
                .iter()
                .for_each(|f| state.apply(f));
            state.compact();
        } else {
            // The next decision records its expiry.
            now += Duration::seconds(TTL);
        }
        if cycle == 999 || cycle == 5_999 {
            sizes.push((
                state.whole_holds_count(),
                state.index.hold_by_id.len(),
                state.index.expiry_queue.len(),
                state.customers.list().len(),
            ));
        }
    }
    assert_eq!(state.holds_count(), 6_000);
    let (whole, by_id, queue, customers) = sizes[1];
    assert!(whole <= 64 + 2, "{whole} whole holds");
    assert!(by_id == whole && queue <= 1 && customers == 4, "{sizes:?}");
    assert!(sizes[0].0 <= 64 + 2, "{sizes:?}");
    let snapshot = serde_json::to_vec(&state).unwrap();
    let per_hold = snapshot.len() / state.holds_count();
    assert!(
        per_hold < 200,
        "{per_hold} snapshot bytes per finished hold"
    );
}
