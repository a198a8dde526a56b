//! Rule 13: ticket types. A hold is of one type of its section: the one it names, or the
//! section's first; a section without types has one, at its price. A type of another section is
//! refused and decides nothing. What a hold's tickets cost is its type's price, so an order's
//! total is the sum of its tickets' prices. Types share the section's seats.

use super::*;
use crate::catalog::{TicketType, DEFAULT_TYPE_ID};
use crate::ids::TicketTypeId;
use crate::inventory::{evolve, EventInventory, InventoryError};
use crate::ordering::{self, OrderCommand, OrderEvent, Preparation};

fn type_id(id: &str) -> TicketTypeId {
    TicketTypeId::parse(id).unwrap()
}

fn ticket_type(id: &str, price_minor: i64) -> TicketType {
    TicketType {
        type_id: type_id(id),
        name: id.to_uppercase(),
        price_minor,
    }
}

/// The fixture sale with types on the floor (adult 3 000, child 1 500) and the boxes (vip 12 000);
/// the stalls list none.
fn typed_opened() -> InventoryEvent {
    let mut sections = sections();
    sections[0].ticket_types = vec![ticket_type("adult", 3_000), ticket_type("child", 1_500)];
    sections[2].ticket_types = vec![ticket_type("vip", 12_000)];
    match opened() {
        InventoryEvent::InventoryOpened {
            currency,
            hold_ttl_seconds,
            max_tickets_per_customer,
            sale_opens_at,
            sale_closes_at,
            waiting_room,
            presales,
            ..
        } => InventoryEvent::InventoryOpened {
            sections,
            currency,
            hold_ttl_seconds,
            max_tickets_per_customer,
            sale_opens_at,
            sale_closes_at,
            waiting_room,
            presales,
        },
        other => other,
    }
}

fn typed_sale() -> crate::test_support::Given<crate::test_support::Inventory> {
    crate::test_support::given([typed_opened()])
}

fn place_typed(
    who: &CustomerId,
    key: &str,
    section_id: &str,
    quantity: u32,
    ty: Option<&str>,
) -> InventoryCommand {
    InventoryCommand::PlaceHold(HoldRequest {
        hold_id: hold_id(who, key),
        customer_id: who.clone(),
        section_id: section(section_id),
        selection: Selection::Quantity(quantity),
        admission: None,
        access_code: None,
        type_id: ty.map(type_id),
    })
}

fn typed(who: &CustomerId, key: &str, ty: &str) -> InventoryEvent {
    InventoryEvent::HoldTyped {
        hold_id: hold_id(who, key),
        type_id: type_id(ty),
    }
}

fn state_after(facts: &[InventoryEvent]) -> EventInventory {
    std::iter::once(typed_opened())
        .chain(facts.iter().cloned())
        .fold(EventInventory::default(), |state, fact| {
            evolve(state, &fact)
        })
}

#[test]
fn a_hold_that_names_no_type_is_of_the_section_s_first_type() {
    let facts = vec![
        held_floor(&alice(), "a", 2, 10),
        typed(&alice(), "a", "adult"),
    ];
    let state = typed_sale()
        .when(place_typed(&alice(), "a", "floor", 2, None), at(10))
        .then(facts);
    let hold = state.hold(&hold_id(&alice(), "a")).unwrap();
    assert_eq!(state.ticket_type_of(&hold).unwrap().price_minor, 3_000);
}

#[test]
fn a_hold_of_a_named_type_costs_that_type_s_price() {
    let facts = vec![
        held_floor(&alice(), "a", 3, 10),
        typed(&alice(), "a", "child"),
    ];
    let state = typed_sale()
        .when(
            place_typed(&alice(), "a", "floor", 3, Some("child")),
            at(10),
        )
        .then(facts);
    let hold = state.hold(&hold_id(&alice(), "a")).unwrap();
    assert_eq!(hold.type_id, Some(type_id("child")));
    assert_eq!(state.ticket_type_of(&hold).unwrap().price_minor, 1_500);
    // Types share the section's seats: one number of available tickets.
    assert_eq!(state.availability(at(10))[0].available, 7);
}

#[test]
fn a_section_without_types_sells_its_default_type_at_its_price_and_records_nothing_more() {
    let state = typed_sale()
        .when(place_seats(&alice(), "a", &["A-1"]), at(10))
        .then(vec![held_seats(&alice(), "a", &["A-1"], 10)]);
    let hold = state.hold(&hold_id(&alice(), "a")).unwrap();
    let ty = state.ticket_type_of(&hold).unwrap();
    assert_eq!(
        (ty.type_id.as_str(), ty.price_minor),
        (DEFAULT_TYPE_ID, 4_500)
    );
    typed_sale()
        .when(
            place_typed(&alice(), "b", "stalls", 1, Some(DEFAULT_TYPE_ID)),
            at(10),
        )
        .result()
        .expect("the default type by its id");
}

#[test]
fn a_type_of_another_section_is_refused_and_decides_nothing() {
    typed_sale()
        .when(place_typed(&alice(), "a", "floor", 1, Some("vip")), at(10))
        .then_error(InventoryError::UnknownTicketType);
    typed_sale()
        .when(
            place_typed(&alice(), "a", "stalls", 1, Some("adult")),
            at(10),
        )
        .then_error(InventoryError::UnknownTicketType);
}

#[test]
fn a_retry_must_name_the_same_type() {
    let first = [
        held_floor(&alice(), "a", 2, 10),
        typed(&alice(), "a", "child"),
    ];
    crate::test_support::given_state::<crate::test_support::Inventory>(state_after(&first))
        .when(
            place_typed(&alice(), "a", "floor", 2, Some("child")),
            at(20),
        )
        .then_nothing();
    crate::test_support::given_state::<crate::test_support::Inventory>(state_after(&first))
        .when(
            place_typed(&alice(), "a", "floor", 2, Some("adult")),
            at(20),
        )
        .then_error(InventoryError::IdempotencyKeyReused);
}

#[test]
fn a_typed_hold_keeps_its_type_through_a_fold_and_a_snapshot() {
    let hold = held_floor(&alice(), "a", 2, 10);
    let mut state = state_after(&[
        hold.clone(),
        typed(&alice(), "a", "child"),
        checked_out(&hold, order(1)),
        expired(&hold),
    ]);
    state.fold_finished();
    let json = serde_json::to_value(&state).unwrap();
    let back: EventInventory = serde_json::from_value(json).unwrap();
    for restored in [&state, &back] {
        let hold = restored.hold(&hold_id(&alice(), "a")).unwrap();
        assert_eq!(hold.type_id, Some(type_id("child")));
    }
}

#[test]
fn an_order_s_total_is_the_sum_of_its_tickets_prices() {
    let state = state_after(&[
        held_floor(&alice(), "a", 3, 10),
        typed(&alice(), "a", "child"),
    ]);
    let hold = state.hold(&hold_id(&alice(), "a")).unwrap().into_owned();
    let unit = state.ticket_type_of(&hold).unwrap().price_minor;
    let place = OrderCommand::Place {
        order_id: order(1),
        customer_id: alice(),
        hold_id: hold.hold_id,
        event_id: event_id(),
        section_id: hold.section_id.clone(),
        seats: hold.seats.clone(),
        quantity: hold.quantity,
        unit_price_minor: unit,
        currency: "EUR".parse().unwrap(),
        payment: Preparation::Prepared {
            gateway_ref: "pi_1".into(),
        },
        expires_at: hold.expires_at,
    };
    let facts = ordering::decide(&ordering::OrderState::default(), &place, at(20)).unwrap();
    let Some(OrderEvent::OrderPlaced { total_minor, .. }) = facts.first() else {
        panic!("{facts:?}");
    };
    let prices: i64 = (0..hold.quantity)
        .map(|_| state.ticket_type_of(&hold).unwrap().price_minor)
        .sum();
    assert_eq!(*total_minor, prices);
    assert_eq!(*total_minor, 4_500);
}
