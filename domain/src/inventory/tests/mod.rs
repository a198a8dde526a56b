//! Stories of an event's inventory, one file per rule, and property tests over random sales.
//!
//! The fixture sale (see `opened`): sale open from `T0` for one day, holds live 600 s, six tickets
//! per customer, and three sections:
//! - `floor`: general admission, capacity 10;
//! - `stalls`: rows A, B and C of 10 seats;
//! - `boxes`: row X of 3 seats and row Y of 2 (small enough to show best-available choices).

mod abandon;
mod admission;
mod blocks;
mod cancel;
mod checkout;
mod close;
mod compact;
mod expiry;
mod limit;
mod named_seats;
mod open;
mod presale;
mod presale_properties;
mod properties;
mod quantity;
mod release;
mod returns;
mod sell;
mod snapshot;
mod stored_format;
mod ticket_types;
mod waitlist;

use crate::catalog::{Row, SectionLayout};
use crate::ids::{
    CustomerId, EventId, HoldId, IdempotencyKey, OrderId, SeatLabel, SectionId, WaitlistId,
};
use crate::inventory::{
    HoldRequest, InventoryCommand, InventoryEvent, InventorySection, Selection,
};
use crate::test_support::{given, Given, Inventory};
use crate::Timestamp;
use time::macros::datetime;
use time::Duration;
use uuid::Uuid;

/// When the sale opens; fixture times are seconds after it.
pub(super) const T0: Timestamp = datetime!(2030-06-01 18:00 UTC);
pub(super) const TTL: i64 = 600;
pub(super) const MAX: u32 = 6;
/// The sale closes one day after it opens.
pub(super) const CLOSES: i64 = 86_400;

pub(super) fn at(seconds: i64) -> Timestamp {
    T0 + Duration::seconds(seconds)
}

pub(super) fn event_id() -> EventId {
    EventId::from_uuid(Uuid::from_u128(0xe1))
}

pub(super) fn customer(name: &str) -> CustomerId {
    CustomerId::parse(name).unwrap()
}
pub(super) fn alice() -> CustomerId {
    customer("alice")
}
pub(super) fn bob() -> CustomerId {
    customer("bob")
}
pub(super) fn carol() -> CustomerId {
    customer("carol")
}

pub(super) fn section(id: &str) -> SectionId {
    SectionId::parse(id).unwrap()
}

pub(super) fn seat(label: &str) -> SeatLabel {
    label.parse().unwrap()
}

pub(super) fn seats(labels: &[&str]) -> Vec<SeatLabel> {
    labels.iter().map(|l| seat(l)).collect()
}

pub(super) fn hold_id(customer: &CustomerId, key: &str) -> HoldId {
    HoldId::derive(event_id(), customer, &IdempotencyKey::parse(key).unwrap())
}

pub(super) fn waitlist_id(customer: &CustomerId, key: &str) -> WaitlistId {
    WaitlistId::derive(event_id(), customer, &IdempotencyKey::parse(key).unwrap())
}

pub(super) fn order(n: u128) -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(n))
}

fn seated(id: &str, rows: &[(&str, u32)], price_minor: i64) -> InventorySection {
    InventorySection {
        section_id: section(id),
        price_minor,
        layout: SectionLayout::Seated {
            rows: rows
                .iter()
                .map(|(row, seats)| Row {
                    row: row.parse().unwrap(),
                    seats: *seats,
                })
                .collect(),
        },
        ticket_types: Vec::new(),
    }
}

pub(super) fn sections() -> Vec<InventorySection> {
    vec![
        InventorySection {
            section_id: section("floor"),
            price_minor: 3_000,
            layout: SectionLayout::GeneralAdmission { capacity: 10 },
            ticket_types: Vec::new(),
        },
        seated("stalls", &[("A", 10), ("B", 10), ("C", 10)], 4_500),
        seated("boxes", &[("X", 3), ("Y", 2)], 9_000),
    ]
}

pub(super) fn open_command() -> InventoryCommand {
    InventoryCommand::Open {
        sections: sections(),
        currency: "EUR".parse().unwrap(),
        hold_ttl_seconds: TTL as u32,
        max_tickets_per_customer: MAX,
        sale_opens_at: Some(T0),
        sale_closes_at: Some(at(CLOSES)),
        waiting_room: false,
        presales: Vec::new(),
    }
}

pub(super) fn opened() -> InventoryEvent {
    InventoryEvent::InventoryOpened {
        sections: sections(),
        currency: "EUR".parse().unwrap(),
        hold_ttl_seconds: TTL as u32,
        max_tickets_per_customer: MAX,
        sale_opens_at: Some(T0),
        sale_closes_at: Some(at(CLOSES)),
        waiting_room: false,
        presales: Vec::new(),
    }
}

/// A story on the open fixture sale, after these facts.
pub(super) fn on_sale(events: impl IntoIterator<Item = InventoryEvent>) -> Given<Inventory> {
    given::<Inventory>(std::iter::once(opened()).chain(events))
}

pub(super) fn place(
    customer: &CustomerId,
    key: &str,
    section_id: &str,
    selection: Selection,
) -> InventoryCommand {
    InventoryCommand::PlaceHold(HoldRequest {
        hold_id: hold_id(customer, key),
        customer_id: customer.clone(),
        section_id: section(section_id),
        selection,
        admission: None,
        access_code: None,
        type_id: None,
    })
}

/// Named seats in the stalls.
pub(super) fn place_seats(customer: &CustomerId, key: &str, labels: &[&str]) -> InventoryCommand {
    place(customer, key, "stalls", Selection::Seats(seats(labels)))
}

pub(super) fn place_quantity(
    customer: &CustomerId,
    key: &str,
    section_id: &str,
    quantity: u32,
) -> InventoryCommand {
    place(customer, key, section_id, Selection::Quantity(quantity))
}

/// The `SeatsHeld` of a hold placed `placed_at` seconds after `T0`.
pub(super) fn held(
    customer: &CustomerId,
    key: &str,
    section_id: &str,
    labels: &[&str],
    request: Selection,
    placed_at: i64,
) -> InventoryEvent {
    let quantity = match &request {
        Selection::Seats(named) => named.len() as u32,
        Selection::Quantity(quantity) => *quantity,
    };
    InventoryEvent::SeatsHeld {
        hold_id: hold_id(customer, key),
        customer_id: customer.clone(),
        section_id: section(section_id),
        seats: seats(labels),
        quantity,
        expires_at: at(placed_at + TTL),
        request,
    }
}

/// Named seats held in the stalls.
pub(super) fn held_seats(
    customer: &CustomerId,
    key: &str,
    labels: &[&str],
    placed_at: i64,
) -> InventoryEvent {
    held(
        customer,
        key,
        "stalls",
        labels,
        Selection::Seats(seats(labels)),
        placed_at,
    )
}

/// A quantity held on the floor.
pub(super) fn held_floor(
    customer: &CustomerId,
    key: &str,
    quantity: u32,
    placed_at: i64,
) -> InventoryEvent {
    held(
        customer,
        key,
        "floor",
        &[],
        Selection::Quantity(quantity),
        placed_at,
    )
}

/// The parts every fact about an existing hold repeats.
fn parts(held: &InventoryEvent) -> (HoldId, CustomerId, SectionId, Vec<SeatLabel>, u32) {
    match held {
        InventoryEvent::SeatsHeld {
            hold_id,
            customer_id,
            section_id,
            seats,
            quantity,
            ..
        } => (
            *hold_id,
            customer_id.clone(),
            section_id.clone(),
            seats.clone(),
            *quantity,
        ),
        other => panic!("not a SeatsHeld: {other:?}"),
    }
}

pub(super) fn released(held: &InventoryEvent) -> InventoryEvent {
    let (hold_id, customer_id, section_id, seats, quantity) = parts(held);
    InventoryEvent::HoldReleased {
        hold_id,
        customer_id,
        section_id,
        seats,
        quantity,
    }
}

pub(super) fn expired(held: &InventoryEvent) -> InventoryEvent {
    let (hold_id, customer_id, section_id, seats, quantity) = parts(held);
    InventoryEvent::HoldExpired {
        hold_id,
        customer_id,
        section_id,
        seats,
        quantity,
    }
}

pub(super) fn checked_out(held: &InventoryEvent, order_id: OrderId) -> InventoryEvent {
    let (hold_id, customer_id, section_id, seats, quantity) = parts(held);
    InventoryEvent::HoldCheckedOut {
        hold_id,
        order_id,
        customer_id,
        section_id,
        seats,
        quantity,
    }
}

pub(super) fn sold(held: &InventoryEvent, order_id: OrderId) -> InventoryEvent {
    let (hold_id, customer_id, section_id, seats, quantity) = parts(held);
    InventoryEvent::SeatsSold {
        hold_id,
        order_id,
        customer_id,
        section_id,
        seats,
        quantity,
    }
}

pub(super) fn returned(held: &InventoryEvent, order_id: OrderId) -> InventoryEvent {
    let (_, customer_id, section_id, seats, quantity) = parts(held);
    InventoryEvent::SeatsReturned {
        order_id,
        customer_id,
        section_id,
        seats,
        quantity,
    }
}

pub(super) fn hold_of(held: &InventoryEvent) -> HoldId {
    parts(held).0
}

pub(super) fn release(held: &InventoryEvent, by: &CustomerId) -> InventoryCommand {
    InventoryCommand::ReleaseHold {
        hold_id: hold_of(held),
        customer_id: by.clone(),
    }
}

/// The holder checks the hold out into an order.
pub(super) fn checkout(held: &InventoryEvent, order_id: OrderId) -> InventoryCommand {
    checkout_by(held, order_id, &parts(held).1)
}

pub(super) fn checkout_by(
    held: &InventoryEvent,
    order_id: OrderId,
    by: &CustomerId,
) -> InventoryCommand {
    InventoryCommand::CheckoutHold {
        hold_id: hold_of(held),
        order_id,
        customer_id: by.clone(),
    }
}

pub(super) fn sell(held: &InventoryEvent, order_id: OrderId) -> InventoryCommand {
    InventoryCommand::SellHold {
        hold_id: hold_of(held),
        order_id,
    }
}
