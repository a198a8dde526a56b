//! Rule 2: an inventory opens once; nothing else is decided before it is open.

use super::*;
use crate::catalog::open_inventory;
use crate::inventory::{EventInventory, InventoryError};

#[test]
fn publishing_opens_the_inventory_with_the_catalogs_sale() {
    let state = given::<Inventory>([])
        .when(open_command(), T0)
        .then(vec![opened()]);
    assert!(state.is_open());
    assert_eq!(state.sections(), sections().as_slice());
    assert_eq!(state.currency().map(|c| c.to_string()), Some("EUR".into()));
    assert_eq!(state.hold_ttl_seconds(), 600);
    assert_eq!(state.max_tickets_per_customer(), MAX);
    assert_eq!(state.price_of(&section("stalls")), Some(4_500));
    assert_eq!(state.price_of(&section("nowhere")), None);
    assert_eq!(
        (state.sale_opens_at(), state.sale_closes_at()),
        (Some(T0), Some(at(CLOSES)))
    );
    assert_eq!(state.holds_count(), 0);
    assert_eq!(state.next_expiry(), None);
}

#[test]
fn opening_again_with_the_same_sale_is_a_retry() {
    on_sale([]).when(open_command(), at(5)).then_nothing();
}

#[test]
fn opening_again_with_another_sale_is_refused() {
    let InventoryCommand::Open {
        sections,
        currency,
        hold_ttl_seconds,
        sale_opens_at,
        sale_closes_at,
        ..
    } = open_command()
    else {
        unreachable!()
    };
    let other = InventoryCommand::Open {
        sections,
        currency,
        hold_ttl_seconds,
        max_tickets_per_customer: MAX + 1,
        sale_opens_at,
        sale_closes_at,
        waiting_room: false,
        presales: Vec::new(),
    };
    on_sale([])
        .when(other, at(5))
        .then_error(InventoryError::AlreadyOpen);
}

#[test]
fn nothing_is_decided_before_the_inventory_opens() {
    let h = held_seats(&alice(), "k", &["A-1"], 0);
    for command in [
        place_seats(&alice(), "k", &["A-1"]),
        release(&h, &alice()),
        InventoryCommand::ExpireDue,
        sell(&h, order(1)),
        InventoryCommand::ReturnSeats { order_id: order(1) },
    ] {
        given::<Inventory>([])
            .when(command, at(1))
            .then_error(InventoryError::NotOpen);
    }
    let closed = EventInventory::default();
    assert!(!closed.is_open());
    assert!(closed.availability(T0).is_empty());
    assert_eq!(
        (closed.hold_ttl_seconds(), closed.max_tickets_per_customer()),
        (0, 0)
    );
}

#[test]
fn the_catalog_opens_what_it_described() {
    let details = crate::catalog::EventDetails::parse(crate::catalog::EventDraft {
        name: "Gig".into(),
        venue: "Hall".into(),
        starts_at: at(CLOSES),
        currency: "EUR".into(),
        sections: vec![crate::catalog::SectionDraft {
            section_id: "floor".into(),
            name: "Floor".into(),
            price_minor: 3_000,
            rows: None,
            capacity: Some(10),
            ticket_types: None,
        }],
        sale_opens_at: None,
        sale_closes_at: None,
        hold_ttl_seconds: None,
        max_tickets_per_customer: None,
        waiting_room: None,
        presales: Vec::new(),
    })
    .unwrap();
    let state = given::<Inventory>([])
        .when(open_inventory(&details), T0)
        .then(vec![InventoryEvent::InventoryOpened {
            sections: details.inventory_sections(),
            currency: details.currency,
            hold_ttl_seconds: 600,
            max_tickets_per_customer: 8,
            sale_opens_at: None,
            sale_closes_at: None,
            waiting_room: false,
            presales: Vec::new(),
        }]);
    let floor = &state.availability(T0)[0];
    assert_eq!((floor.capacity, floor.available), (10, 10));
}
