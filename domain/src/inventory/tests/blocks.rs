//! Rule 12: an operator's seat blocks. A block takes free seats only (named, or a quantity), has
//! no customer and no expiry; its seats are taken for every hold until it is released, and then
//! go to the waiting list first. A retried block or a second release decides nothing.

use super::*;
use crate::ids::BlockId;
use crate::inventory::{evolve, BlockReason, EventInventory, InventoryError, SeatStatus};

pub(super) fn block_id(key: &str) -> BlockId {
    BlockId::derive(event_id(), &IdempotencyKey::parse(key).unwrap())
}

fn reason() -> BlockReason {
    BlockReason::parse("press").unwrap()
}

pub(super) fn block(key: &str, section_id: &str, selection: Selection) -> InventoryCommand {
    InventoryCommand::BlockSeats {
        block_id: block_id(key),
        section_id: section(section_id),
        selection,
        reason: reason(),
    }
}

pub(super) fn blocked(
    key: &str,
    section_id: &str,
    labels: &[&str],
    request: Selection,
) -> InventoryEvent {
    let quantity = match &request {
        Selection::Seats(named) => named.len() as u32,
        Selection::Quantity(quantity) => *quantity,
    };
    InventoryEvent::SeatsBlocked {
        block_id: block_id(key),
        section_id: section(section_id),
        seats: seats(labels),
        quantity,
        reason: reason(),
        request,
    }
}

fn blocked_stalls(key: &str, labels: &[&str]) -> InventoryEvent {
    blocked(key, "stalls", labels, Selection::Seats(seats(labels)))
}

pub(super) fn release_block(key: &str) -> InventoryCommand {
    InventoryCommand::ReleaseBlock {
        block_id: block_id(key),
    }
}

fn block_released(key: &str, section_id: &str, labels: &[&str], quantity: u32) -> InventoryEvent {
    InventoryEvent::BlockReleased {
        block_id: block_id(key),
        section_id: section(section_id),
        seats: seats(labels),
        quantity,
    }
}

/// The fixture sale after these facts.
fn state_after(events: impl IntoIterator<Item = InventoryEvent>) -> EventInventory {
    std::iter::once(opened())
        .chain(events)
        .fold(EventInventory::default(), |state, fact| {
            evolve(state, &fact)
        })
}

#[test]
fn free_named_seats_are_blocked_and_show_as_blocked() {
    let state = on_sale([])
        .when(
            block("b1", "stalls", Selection::Seats(seats(&["A-1", "A-2"]))),
            at(10),
        )
        .then(vec![blocked_stalls("b1", &["A-1", "A-2"])]);
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(10)),
        Some(SeatStatus::Blocked(block_id("b1")))
    );
    let stalls = &state.availability(at(10))[1];
    assert_eq!((stalls.available, stalls.blocked, stalls.held), (28, 2, 0));
}

#[test]
fn seats_can_be_blocked_before_the_sale_opens() {
    on_sale([])
        .when(
            block("b1", "stalls", Selection::Seats(seats(&["C-10"]))),
            at(-3_600),
        )
        .then(vec![blocked_stalls("b1", &["C-10"])]);
}

#[test]
fn held_or_blocked_seats_cannot_be_blocked() {
    let held = held_seats(&alice(), "a", &["A-1"], 0);
    on_sale([held, blocked_stalls("b1", &["A-3"])])
        .when(
            block(
                "b2",
                "stalls",
                Selection::Seats(seats(&["A-1", "A-2", "A-3"])),
            ),
            at(10),
        )
        .then_error(InventoryError::SeatUnavailable(seats(&["A-1", "A-3"])));
}

#[test]
fn a_quantity_is_blocked_from_general_admission_and_best_available_in_a_seated_section() {
    let state = on_sale([])
        .when(block("b1", "floor", Selection::Quantity(4)), at(10))
        .then(vec![blocked("b1", "floor", &[], Selection::Quantity(4))]);
    assert_eq!(state.availability(at(10))[0].available, 6);

    // The best available pair: row Y, which it fills exactly.
    on_sale([])
        .when(block("b2", "boxes", Selection::Quantity(2)), at(10))
        .then(vec![blocked(
            "b2",
            "boxes",
            &["Y-1", "Y-2"],
            Selection::Quantity(2),
        )]);
}

#[test]
fn a_quantity_larger_than_what_is_free_is_refused() {
    on_sale([held_floor(&alice(), "a", 6, 0)])
        .when(block("b1", "floor", Selection::Quantity(5)), at(10))
        .then_error(InventoryError::SoldOut { available: 4 });
}

#[test]
fn a_block_counts_against_no_customer_limit_nor_the_event_s() {
    // Ten seats blocked at once: more than any customer may hold.
    let all = [
        "A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7", "A-8", "A-9", "A-10",
    ];
    let state = on_sale([])
        .when(block("b1", "stalls", Selection::Seats(seats(&all))), at(10))
        .then(vec![blocked_stalls("b1", &all)]);
    assert_eq!(state.customer_tickets(&alice(), at(10)), 0);
}

#[test]
fn a_retried_block_decides_nothing_and_another_request_with_its_key_is_refused() {
    let first = blocked_stalls("b1", &["A-1"]);
    on_sale([first.clone()])
        .when(
            block("b1", "stalls", Selection::Seats(seats(&["A-1"]))),
            at(20),
        )
        .then_nothing();
    on_sale([first])
        .when(
            block("b1", "stalls", Selection::Seats(seats(&["A-2"]))),
            at(20),
        )
        .then_error(InventoryError::IdempotencyKeyReused);
}

#[test]
fn a_hold_cannot_take_blocked_seats_by_name_or_by_quantity() {
    let block_row_x = blocked(
        "b1",
        "boxes",
        &["X-1", "X-2", "X-3"],
        Selection::Quantity(3),
    );
    on_sale([block_row_x.clone()])
        .when(
            place(&alice(), "a", "boxes", Selection::Seats(seats(&["X-2"]))),
            at(10),
        )
        .then_error(InventoryError::SeatUnavailable(seats(&["X-2"])));
    // Only row Y (2 seats) is left: best available goes there, never into row X.
    on_sale([block_row_x.clone()])
        .when(place_quantity(&alice(), "a", "boxes", 2), at(10))
        .then(vec![held(
            &alice(),
            "a",
            "boxes",
            &["Y-1", "Y-2"],
            Selection::Quantity(2),
            10,
        )]);
    on_sale([block_row_x])
        .when(place_quantity(&alice(), "a", "boxes", 3), at(10))
        .then_error(InventoryError::SoldOut { available: 2 });
}

#[test]
fn a_lapsed_hold_whose_seat_was_blocked_meanwhile_is_not_sold() {
    let hold = held_seats(&alice(), "a", &["B-1"], 0);
    on_sale([
        hold.clone(),
        checked_out(&hold, order(1)),
        expired(&hold),
        blocked_stalls("b1", &["B-1"]),
    ])
    .when(sell(&hold, order(1)), at(TTL + 10))
    .then_error(InventoryError::HoldExpired);
}

#[test]
fn releasing_a_block_puts_its_seats_back_on_sale_once() {
    let state = on_sale([blocked_stalls("b1", &["A-1", "A-2"])])
        .when(release_block("b1"), at(30))
        .then(vec![block_released("b1", "stalls", &["A-1", "A-2"], 2)]);
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(30)),
        Some(SeatStatus::Available)
    );
    assert!(state.block(&block_id("b1")).unwrap().released);

    on_sale([
        blocked_stalls("b1", &["A-1", "A-2"]),
        block_released("b1", "stalls", &["A-1", "A-2"], 2),
    ])
    .when(release_block("b1"), at(40))
    .then_nothing();
}

#[test]
fn releasing_an_unknown_block_is_refused() {
    on_sale([])
        .when(release_block("nope"), at(30))
        .then_error(InventoryError::UnknownBlock);
}

#[test]
fn released_seats_go_to_the_waiting_list_before_the_public() {
    // The floor: 4 blocked, 6 held by bob; carol waits for 3.
    let entry = waitlist_id(&carol(), "w");
    let offered_hold = HoldId::offered_to(entry);
    let state = on_sale([
        blocked("b1", "floor", &[], Selection::Quantity(4)),
        held_floor(&bob(), "b", 6, 0),
        InventoryEvent::WaitlistJoined {
            waitlist_id: entry,
            customer_id: carol(),
            section_id: section("floor"),
            quantity: 3,
            adjacent: false,
        },
    ])
    .when(release_block("b1"), at(30))
    .then(vec![
        block_released("b1", "floor", &[], 4),
        InventoryEvent::SeatsHeld {
            hold_id: offered_hold,
            customer_id: carol(),
            section_id: section("floor"),
            seats: Vec::new(),
            quantity: 3,
            expires_at: at(30 + TTL),
            request: Selection::Quantity(3),
        },
        InventoryEvent::WaitlistOffered {
            waitlist_id: entry,
            customer_id: carol(),
            hold_id: offered_hold,
        },
    ]);
    assert_eq!(state.availability(at(30))[0].available, 1);
}

#[test]
fn a_fully_blocked_section_is_sold_out_for_the_waiting_list() {
    on_sale([blocked("b1", "floor", &[], Selection::Quantity(10))])
        .when(
            InventoryCommand::JoinWaitlist {
                waitlist_id: waitlist_id(&carol(), "w"),
                customer_id: carol(),
                section_id: section("floor"),
                quantity: 1,
                adjacent: false,
            },
            at(10),
        )
        .then(vec![InventoryEvent::WaitlistJoined {
            waitlist_id: waitlist_id(&carol(), "w"),
            customer_id: carol(),
            section_id: section("floor"),
            quantity: 1,
            adjacent: false,
        }]);
}

#[test]
fn cancelling_the_event_leaves_blocks_alone_and_a_later_release_offers_nothing() {
    let hold = held_seats(&alice(), "a", &["A-5"], 0);
    let state = on_sale([blocked_stalls("b1", &["A-1"]), hold.clone()])
        .when(InventoryCommand::CancelSale, at(100))
        .then(vec![
            InventoryEvent::SaleCancelled {
                cancelled_at: at(100),
            },
            released(&hold),
        ]);
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), at(100)),
        Some(SeatStatus::Blocked(block_id("b1")))
    );
    let entry = InventoryEvent::WaitlistJoined {
        waitlist_id: waitlist_id(&carol(), "w"),
        customer_id: carol(),
        section_id: section("stalls"),
        quantity: 1,
        adjacent: false,
    };
    on_sale([
        blocked_stalls("b1", &["A-1"]),
        entry,
        InventoryEvent::SaleCancelled {
            cancelled_at: at(100),
        },
    ])
    .when(release_block("b1"), at(200))
    .then(vec![block_released("b1", "stalls", &["A-1"], 1)]);
}

#[test]
fn a_block_cannot_be_checked_out_as_a_hold() {
    let block = block_id("b1");
    let as_hold: HoldId = block.to_string().parse().unwrap();
    on_sale([blocked_stalls("b1", &["A-1"])])
        .when(
            InventoryCommand::CheckoutHold {
                hold_id: as_hold,
                order_id: order(1),
                customer_id: alice(),
            },
            at(10),
        )
        .then_error(InventoryError::UnknownHold);
}

#[test]
fn blocks_survive_a_snapshot_and_a_fold_of_finished_holds() {
    let hold = held_seats(&alice(), "a", &["B-1"], 0);
    let mut state = state_after([
        blocked_stalls("b1", &["A-1", "A-2"]),
        blocked("b2", "floor", &[], Selection::Quantity(3)),
        hold.clone(),
        released(&hold),
    ]);
    state.fold_finished();
    let json = serde_json::to_value(&state).unwrap();
    assert_eq!(json["version"], 8);
    let back: EventInventory = serde_json::from_value(json).unwrap();
    assert_eq!(back, state);
    for restored in [&state, &back] {
        assert_eq!(
            restored.seat_status(&section("stalls"), &seat("A-2"), at(10)),
            Some(SeatStatus::Blocked(block_id("b1")))
        );
        assert_eq!(restored.availability(at(10))[0].available, 7);
        assert_eq!(restored.availability(at(10))[1].available, 28);
    }
}

#[test]
fn a_snapshot_with_a_hold_on_a_blocked_seat_is_refused() {
    let state = state_after([blocked_stalls("b1", &["A-1"])]);
    let mut json = serde_json::to_value(&state).unwrap();
    let hold = state_after([held_seats(&alice(), "a", &["A-1"], 0)]);
    json["holds"] = serde_json::to_value(&hold).unwrap()["holds"].clone();
    let refused = serde_json::from_value::<EventInventory>(json).unwrap_err();
    assert!(
        refused.to_string().contains("held and blocked"),
        "{refused}"
    );
}

#[test]
fn a_reason_is_short_visible_text() {
    assert_eq!(BlockReason::parse("  press ").unwrap().as_str(), "press");
    assert!(BlockReason::parse("").is_err());
    assert!(BlockReason::parse("a\u{7}b").is_err());
    assert!(BlockReason::parse(&"x".repeat(201)).is_err());
}
