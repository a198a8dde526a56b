//! Rule 9: the waiting list. A sold-out section takes entries in order; seats that come back, in
//! whatever way, go to the earliest entry they can fill, as its customer's hold, in the decision
//! that frees them; an unclaimed offer expires and moves on; the limit still holds.

use super::*;
use crate::inventory::{InventoryError, SeatStatus, WaitlistStatus};

fn dave() -> CustomerId {
    customer("dave")
}
fn erin() -> CustomerId {
    customer("erin")
}

fn join(who: &CustomerId, key: &str, section_id: &str, quantity: u32) -> InventoryCommand {
    join_adjacent(who, key, section_id, quantity, false)
}

fn join_adjacent(
    who: &CustomerId,
    key: &str,
    section_id: &str,
    quantity: u32,
    adjacent: bool,
) -> InventoryCommand {
    InventoryCommand::JoinWaitlist {
        waitlist_id: waitlist_id(who, key),
        customer_id: who.clone(),
        section_id: section(section_id),
        quantity,
        adjacent,
    }
}

fn joined(who: &CustomerId, key: &str, section_id: &str, quantity: u32) -> InventoryEvent {
    joined_adjacent(who, key, section_id, quantity, false)
}

fn joined_adjacent(
    who: &CustomerId,
    key: &str,
    section_id: &str,
    quantity: u32,
    adjacent: bool,
) -> InventoryEvent {
    InventoryEvent::WaitlistJoined {
        waitlist_id: waitlist_id(who, key),
        customer_id: who.clone(),
        section_id: section(section_id),
        quantity,
        adjacent,
    }
}

fn leave(who: &CustomerId, key: &str) -> InventoryCommand {
    InventoryCommand::LeaveWaitlist {
        waitlist_id: waitlist_id(who, key),
        customer_id: who.clone(),
    }
}

/// The offer an entry gets at `offered_at`: its hold, then the offer itself.
fn offer(
    who: &CustomerId,
    key: &str,
    section_id: &str,
    labels: &[&str],
    quantity: u32,
    offered_at: i64,
) -> [InventoryEvent; 2] {
    let entry = waitlist_id(who, key);
    let hold_id = HoldId::offered_to(entry);
    [
        InventoryEvent::SeatsHeld {
            hold_id,
            customer_id: who.clone(),
            section_id: section(section_id),
            seats: seats(labels),
            quantity,
            expires_at: at(offered_at + TTL),
            request: Selection::Quantity(quantity),
        },
        InventoryEvent::WaitlistOffered {
            waitlist_id: entry,
            customer_id: who.clone(),
            hold_id,
        },
    ]
}

/// The floor (10) sold out: alice holds 4, bob 6.
fn floor_sold_out() -> [InventoryEvent; 2] {
    [
        held_floor(&alice(), "a", 4, 0),
        held_floor(&bob(), "b", 6, 0),
    ]
}

fn floor_sold_out_and(more: impl IntoIterator<Item = InventoryEvent>) -> Vec<InventoryEvent> {
    floor_sold_out().into_iter().chain(more).collect()
}

#[test]
fn a_customer_joins_the_list_of_a_sold_out_section_in_order() {
    let state = on_sale(floor_sold_out())
        .when(join(&carol(), "w", "floor", 2), at(10))
        .then(vec![joined(&carol(), "w", "floor", 2)]);
    let place = state.waitlist_place(&waitlist_id(&carol(), "w")).unwrap();
    assert_eq!(place.entry.status, WaitlistStatus::Waiting);
    assert_eq!(place.position, Some(1));

    let state = on_sale(floor_sold_out_and([joined(&carol(), "w", "floor", 2)]))
        .when(join(&dave(), "w", "floor", 1), at(10))
        .then(vec![joined(&dave(), "w", "floor", 1)]);
    let place = state.waitlist_place(&waitlist_id(&dave(), "w")).unwrap();
    assert_eq!(place.position, Some(2));
}

#[test]
fn a_section_with_seats_left_has_no_waiting_list() {
    on_sale([held_floor(&alice(), "a", 4, 0)])
        .when(join(&carol(), "w", "floor", 2), at(10))
        .then_error(InventoryError::NotSoldOut { available: 6 });
}

#[test]
fn bad_requests_to_wait_decide_nothing() {
    on_sale(floor_sold_out())
        .when(join(&carol(), "w", "balcony", 2), at(10))
        .then_error(InventoryError::UnknownSection);
    on_sale(floor_sold_out())
        .when(join(&carol(), "w", "floor", 0), at(10))
        .then_error(InventoryError::InvalidQuantity { max: MAX });
    on_sale(floor_sold_out())
        .when(join(&carol(), "w", "floor", MAX + 1), at(10))
        .then_error(InventoryError::InvalidQuantity { max: MAX });
    // Alice holds 4 of her 6: she may wait for 2 more, not for 3.
    on_sale(floor_sold_out())
        .when(join(&alice(), "w", "floor", 3), at(10))
        .then_error(InventoryError::LimitExceeded {
            limit: MAX,
            current: 4,
        });
    on_sale(floor_sold_out())
        .when(join(&carol(), "w", "floor", 2), at(CLOSES))
        .then_error(InventoryError::SaleClosed);
}

#[test]
fn a_second_entry_of_the_same_customer_is_the_first_one() {
    let first = joined(&carol(), "w", "floor", 2);
    // The same request again, or another key: nothing new.
    on_sale(floor_sold_out_and([first.clone()]))
        .when(join(&carol(), "w", "floor", 2), at(20))
        .then_nothing();
    on_sale(floor_sold_out_and([first.clone()]))
        .when(join(&carol(), "other", "floor", 1), at(20))
        .then_nothing();
    // The same key for another request is a mistake.
    on_sale(floor_sold_out_and([first]))
        .when(join(&carol(), "w", "floor", 1), at(20))
        .then_error(InventoryError::IdempotencyKeyReused);
}

#[test]
fn released_seats_go_to_the_earliest_entries_they_fill_in_the_same_decision() {
    let [alices, _] = floor_sold_out();
    let waiting = [
        joined(&carol(), "w", "floor", 3),
        joined(&dave(), "w", "floor", 2),
        joined(&erin(), "w", "floor", 1),
    ];
    // Four come back: carol's 3 fit, dave's 2 no longer do, erin's 1 does.
    let [carol_hold, carol_offer] = offer(&carol(), "w", "floor", &[], 3, 30);
    let [erin_hold, erin_offer] = offer(&erin(), "w", "floor", &[], 1, 30);
    let state = on_sale(floor_sold_out_and(waiting))
        .when(release(&alices, &alice()), at(30))
        .then(vec![
            released(&alices),
            carol_hold,
            carol_offer,
            erin_hold,
            erin_offer,
        ]);
    let dave_place = state.waitlist_place(&waitlist_id(&dave(), "w")).unwrap();
    assert_eq!(dave_place.position, Some(1));
    assert_eq!(state.availability(at(31))[0].available, 0);
    let carol_hold = HoldId::offered_to(waitlist_id(&carol(), "w"));
    assert_eq!(
        state
            .waitlist_place(&waitlist_id(&carol(), "w"))
            .unwrap()
            .entry
            .status,
        WaitlistStatus::Offered {
            hold_id: carol_hold
        }
    );
    assert_eq!(state.hold(&carol_hold).unwrap().customer_id, carol());
}

#[test]
fn expired_seats_go_to_the_list_before_anyone_can_hold_them() {
    // Alice's 4 (placed at 0) expire at TTL; bob's 6 (placed at 100) later.
    let alices = held_floor(&alice(), "a", 4, 0);
    let waiting = [
        alices.clone(),
        held_floor(&bob(), "b", 6, 100),
        joined(&carol(), "w", "floor", 4),
    ];
    let [carol_hold, carol_offer] = offer(&carol(), "w", "floor", &[], 4, TTL + 1);
    on_sale(waiting.clone())
        .when(InventoryCommand::ExpireDue, at(TTL + 1))
        .then(vec![expired(&alices), carol_hold, carol_offer]);
    // The public's request at the moment of expiry finds the seats offered already.
    on_sale(waiting)
        .when(place_quantity(&dave(), "d", "floor", 2), at(TTL + 1))
        .then_error(InventoryError::SoldOut { available: 0 });
}

#[test]
fn returned_and_abandoned_seats_go_to_the_list() {
    let [alices, bobs] = floor_sold_out();
    let paid = [
        checked_out(&alices, order(1)),
        sold(&alices, order(1)),
        joined(&carol(), "w", "floor", 4),
    ];
    let [carol_hold, carol_offer] = offer(&carol(), "w", "floor", &[], 4, 40);
    on_sale(floor_sold_out_and(paid))
        .when(InventoryCommand::ReturnSeats { order_id: order(1) }, at(40))
        .then(vec![returned(&alices, order(1)), carol_hold, carol_offer]);

    let ordered = [
        checked_out(&bobs, order(2)),
        joined(&carol(), "w", "floor", 4),
    ];
    let [carol_hold, carol_offer] = offer(&carol(), "w", "floor", &[], 4, 50);
    on_sale(floor_sold_out_and(ordered))
        .when(
            InventoryCommand::AbandonCheckout {
                hold_id: hold_of(&bobs),
                order_id: order(2),
            },
            at(50),
        )
        .then(vec![released(&bobs), carol_hold, carol_offer]);
}

#[test]
fn an_unclaimed_offer_expires_and_moves_on() {
    let [alices, bobs] = floor_sold_out();
    let [carol_hold, carol_offer] = offer(&carol(), "w", "floor", &[], 4, 30);
    let story = floor_sold_out_and([
        joined(&carol(), "w", "floor", 4),
        joined(&dave(), "w", "floor", 4),
        bobs.clone(),
        released(&alices),
        carol_hold.clone(),
        carol_offer,
    ]);
    // Bob's hold (placed at 0) expires at TTL; carol's offer (at 30) at TTL + 30.
    let [dave_hold, dave_offer] = offer(&dave(), "w", "floor", &[], 4, TTL + 30);
    let state = on_sale(story)
        .when(InventoryCommand::ExpireDue, at(TTL + 30))
        .then(vec![
            expired(&bobs),
            expired(&carol_hold),
            InventoryEvent::WaitlistOfferExpired {
                waitlist_id: waitlist_id(&carol(), "w"),
                customer_id: carol(),
                hold_id: hold_of(&carol_hold),
            },
            dave_hold,
            dave_offer,
        ]);
    assert_eq!(
        state
            .waitlist_place(&waitlist_id(&carol(), "w"))
            .unwrap()
            .entry
            .status,
        WaitlistStatus::Expired
    );
    // Six free tickets are left, and nobody waits: the public may hold them.
    assert_eq!(state.availability(at(TTL + 31))[0].available, 6);
}

#[test]
fn a_customer_at_the_limit_is_skipped_and_keeps_the_place() {
    // Carol waits for 2 on the floor, then holds 6 in the stalls: at her limit.
    let [alices, _] = floor_sold_out();
    let story = floor_sold_out_and([
        joined(&carol(), "w", "floor", 2),
        joined(&dave(), "w", "floor", 2),
        held_seats(
            &carol(),
            "c",
            &["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"],
            5,
        ),
    ]);
    let [dave_hold, dave_offer] = offer(&dave(), "w", "floor", &[], 2, 30);
    let state = on_sale(story)
        .when(release(&alices, &alice()), at(30))
        .then(vec![released(&alices), dave_hold, dave_offer]);
    let carol_place = state.waitlist_place(&waitlist_id(&carol(), "w")).unwrap();
    assert_eq!(carol_place.entry.status, WaitlistStatus::Waiting);
    assert_eq!(carol_place.position, Some(1));
    // Two tickets are free and carol may not take them: the public may.
    assert_eq!(state.availability(at(31))[0].available, 2);
}

/// The boxes (X-1..X-3, Y-1, Y-2) sold out in four holds.
fn boxes_sold_out() -> [InventoryEvent; 4] {
    let one = |who: &CustomerId, key: &str, labels: &[&str]| {
        held(
            who,
            key,
            "boxes",
            labels,
            Selection::Seats(seats(labels)),
            0,
        )
    };
    [
        one(&alice(), "x1", &["X-1"]),
        one(&bob(), "x2", &["X-2"]),
        one(&carol(), "x3", &["X-3"]),
        one(&alice(), "y", &["Y-1", "Y-2"]),
    ]
}

#[test]
fn seats_apart_go_only_to_an_entry_that_did_not_ask_for_adjacent_seats() {
    let [x1, x2, x3, y] = boxes_sold_out();
    let story = [
        x1.clone(),
        x2,
        x3.clone(),
        y,
        joined_adjacent(&dave(), "w", "boxes", 2, true),
        joined(&erin(), "w", "boxes", 2),
        released(&x1),
    ];
    // are free, with X-2 between them.
    let [erin_hold, erin_offer] = offer(&erin(), "w", "boxes", &["X-1", "X-3"], 2, 40);
    on_sale(story)
        .when(release(&x3, &carol()), at(40))
        .then(vec![released(&x3), erin_hold, erin_offer]);
}

#[test]
fn seats_side_by_side_go_to_the_entry_that_asked_for_adjacent_seats() {
    let [x1, x2, x3, y] = boxes_sold_out();
    let story = [
        x1,
        x2,
        x3,
        y.clone(),
        joined_adjacent(&dave(), "w", "boxes", 2, true),
    ];
    let [dave_hold, dave_offer] = offer(&dave(), "w", "boxes", &["Y-1", "Y-2"], 2, 40);
    let state = on_sale(story)
        .when(release(&y, &alice()), at(40))
        .then(vec![released(&y), dave_hold, dave_offer]);
    assert_eq!(
        state.seat_status(&section("boxes"), &seat("Y-1"), at(41)),
        Some(SeatStatus::Held(HoldId::offered_to(waitlist_id(
            &dave(),
            "w"
        ))))
    );
}

#[test]
fn leaving_ends_the_entry_and_an_offer_goes_to_the_next() {
    let [alices, _] = floor_sold_out();
    on_sale(floor_sold_out_and([joined(&carol(), "w", "floor", 2)]))
        .when(leave(&carol(), "w"), at(20))
        .then(vec![InventoryEvent::WaitlistLeft {
            waitlist_id: waitlist_id(&carol(), "w"),
            customer_id: carol(),
            hold_id: None,
        }]);

    let [carol_hold, carol_offer] = offer(&carol(), "w", "floor", &[], 4, 30);
    let offered = floor_sold_out_and([
        joined(&carol(), "w", "floor", 4),
        joined(&dave(), "w", "floor", 3),
        released(&alices),
        carol_hold.clone(),
        carol_offer,
    ]);
    let [dave_hold, dave_offer] = offer(&dave(), "w", "floor", &[], 3, 60);
    let gave_back = InventoryEvent::WaitlistLeft {
        waitlist_id: waitlist_id(&carol(), "w"),
        customer_id: carol(),
        hold_id: Some(hold_of(&carol_hold)),
    };
    let state = on_sale(offered.clone())
        .when(leave(&carol(), "w"), at(60))
        .then(vec![
            released(&carol_hold),
            gave_back.clone(),
            dave_hold.clone(),
            dave_offer.clone(),
        ]);
    assert_eq!(
        state
            .waitlist_place(&waitlist_id(&carol(), "w"))
            .unwrap()
            .entry
            .status,
        WaitlistStatus::Left
    );
    // Releasing the offered hold is the same as leaving.
    on_sale(offered.clone())
        .when(release(&carol_hold, &carol()), at(60))
        .then(vec![
            released(&carol_hold),
            gave_back,
            dave_hold,
            dave_offer,
        ]);
    // Leaving again decides nothing; another customer cannot make carol leave.
    on_sale(floor_sold_out_and([
        joined(&carol(), "w", "floor", 2),
        InventoryEvent::WaitlistLeft {
            waitlist_id: waitlist_id(&carol(), "w"),
            customer_id: carol(),
            hold_id: None,
        },
    ]))
    .when(leave(&carol(), "w"), at(70))
    .then_nothing();
    on_sale(offered)
        .when(
            InventoryCommand::LeaveWaitlist {
                waitlist_id: waitlist_id(&carol(), "w"),
                customer_id: dave(),
            },
            at(70),
        )
        .then_error(InventoryError::UnknownWaitlistEntry);
}

#[test]
fn no_offer_is_made_once_the_sale_has_closed() {
    let [alices, _] = floor_sold_out();
    let story = floor_sold_out_and([
        joined(&carol(), "w", "floor", 2),
        InventoryEvent::HoldCheckedOut {
            hold_id: hold_of(&alices),
            order_id: order(1),
            customer_id: alice(),
            section_id: section("floor"),
            seats: Vec::new(),
            quantity: 4,
        },
        sold(&alices, order(1)),
    ]);
    on_sale(story)
        .when(
            InventoryCommand::ReturnSeats { order_id: order(1) },
            at(CLOSES + 1),
        )
        .then(vec![
            expired(&floor_sold_out()[1]),
            returned(&alices, order(1)),
        ]);
}

#[test]
fn the_waiting_list_survives_a_snapshot() {
    let [alices, _] = floor_sold_out();
    let [carol_hold, carol_offer] = offer(&carol(), "w", "floor", &[], 4, 30);
    let state = on_sale(floor_sold_out_and([
        joined(&carol(), "w", "floor", 4),
        joined(&dave(), "w", "floor", 3),
        released(&alices),
        carol_hold,
        carol_offer,
    ]))
    .when(InventoryCommand::ExpireDue, at(31))
    .then_nothing();
    let json = serde_json::to_string(&state).unwrap();
    let loaded: crate::inventory::EventInventory = serde_json::from_str(&json).unwrap();
    assert!(loaded == state);
    assert_eq!(
        loaded
            .waitlist_place(&waitlist_id(&dave(), "w"))
            .unwrap()
            .position,
        Some(1)
    );
    assert!(loaded.live_waitlist_entry(&carol()).is_some());
}
