//! Parsing an operator's draft: every field checked, each problem named by its JSON path.

use super::{details, draft};
use crate::catalog::{
    open_inventory, EventDetails, EventDraft, InvalidEvent, RowDraft, SectionDraft, SectionLayout,
    DEFAULT_HOLD_TTL_SECONDS, DEFAULT_MAX_TICKETS_PER_CUSTOMER, MAX_SECTIONS,
};
use crate::inventory::InventoryCommand;
use crate::waiting_room::WaitingRoomDraft;

/// The field and reason a draft changed by `change` is refused with.
#[track_caller]
fn refused(change: impl FnOnce(&mut EventDraft)) -> InvalidEvent {
    let mut draft = draft();
    change(&mut draft);
    match EventDetails::parse(draft) {
        Ok(details) => panic!("accepted {details:?}"),
        Err(error) => error,
    }
}

#[track_caller]
fn refused_at(field: &str, change: impl FnOnce(&mut EventDraft)) {
    let error = refused(change);
    assert_eq!(error.field, field, "{error}");
    assert!(!error.reason.is_empty());
}

fn seated(id: &str, rows: &[(&str, u32)]) -> SectionDraft {
    SectionDraft {
        section_id: id.into(),
        name: id.into(),
        price_minor: 100,
        rows: Some(
            rows.iter()
                .map(|(row, seats)| RowDraft {
                    row: (*row).into(),
                    seats: *seats,
                })
                .collect(),
        ),
        capacity: None,
        ticket_types: None,
    }
}

#[test]
fn a_valid_draft_gets_defaults_and_keeps_its_layout() {
    let details = details();
    assert_eq!(details.hold_ttl_seconds, DEFAULT_HOLD_TTL_SECONDS);
    assert_eq!(
        details.max_tickets_per_customer,
        DEFAULT_MAX_TICKETS_PER_CUSTOMER
    );
    assert_eq!(details.currency.as_str(), "EUR");
    assert_eq!(details.sections[0].section_id.as_str(), "stalls");
    assert!(
        matches!(&details.sections[0].layout, SectionLayout::Seated { rows } if rows.len() == 2)
    );
    assert_eq!(
        details.sections[1].layout,
        SectionLayout::GeneralAdmission { capacity: 500 }
    );
    assert_eq!(details.total_capacity(), 10 + 12 + 500);
}

#[test]
fn names_must_be_present_and_bounded() {
    refused_at("name", |d| d.name = "   ".into());
    refused_at("name", |d| d.name = "é".repeat(201));
    let mut draft = draft();
    draft.name = "é".repeat(200);
    assert!(
        EventDetails::parse(draft).is_ok(),
        "200 characters, not bytes"
    );
    refused_at("venue", |d| d.venue = String::new());
    refused_at("sections[1].name", |d| d.sections[1].name = String::new());
}

#[test]
fn the_currency_is_an_iso_code() {
    refused_at("currency", |d| d.currency = "euro".into());
}

#[test]
fn sections_are_one_to_the_maximum_with_unique_ids() {
    refused_at("sections", |d| d.sections.clear());
    refused_at("sections", |d| {
        d.sections = (0..=MAX_SECTIONS)
            .map(|i| seated(&format!("s{i}"), &[("A", 1)]))
            .collect()
    });
    refused_at("sections[1].section_id", |d| {
        d.sections[1].section_id = "stalls".into()
    });
    refused_at("sections[0].section_id", |d| {
        d.sections[0].section_id = "no spaces".into()
    });
}

#[test]
fn prices_are_bounded() {
    refused_at("sections[0].price_minor", |d| {
        d.sections[0].price_minor = -1
    });
    refused_at("sections[0].price_minor", |d| {
        d.sections[0].price_minor = crate::money::MAX_PRICE_MINOR + 1
    });
    let mut free = draft();
    free.sections[0].price_minor = 0;
    assert!(
        EventDetails::parse(free).is_ok(),
        "free tickets are allowed"
    );
}

#[test]
fn a_section_has_rows_or_a_capacity_not_both() {
    refused_at("sections[1]", |d| d.sections[1].rows = Some(vec![]));
    refused_at("sections[1]", |d| d.sections[1].capacity = None);
}

#[test]
fn rows_are_listed_labelled_once_and_sized() {
    refused_at("sections[0].rows", |d| d.sections[0].rows = Some(vec![]));
    refused_at("sections[0].rows[1].row", |d| {
        d.sections[0] = seated("stalls", &[("A", 1), ("A", 2)])
    });
    refused_at("sections[0].rows[0].row", |d| {
        d.sections[0] = seated("stalls", &[("A-1", 1)])
    });
    refused_at("sections[0].rows[1].seats", |d| {
        d.sections[0] = seated("stalls", &[("A", 1), ("B", 0)])
    });
    refused_at("sections[0].rows[0].seats", |d| {
        d.sections[0] = seated("stalls", &[("A", 1001)])
    });
}

#[test]
fn an_event_has_a_bounded_number_of_assigned_seats() {
    // 201 rows of 1000 seats: over 200 000 across the event.
    let rows: Vec<(String, u32)> = (0..201).map(|i| (format!("R{i}"), 1000)).collect();
    let rows: Vec<(&str, u32)> = rows.iter().map(|(r, s)| (r.as_str(), *s)).collect();
    refused_at("sections", |d| d.sections[0] = seated("stalls", &rows));
}

#[test]
fn general_admission_capacity_is_bounded() {
    refused_at("sections[1].capacity", |d| d.sections[1].capacity = Some(0));
    refused_at("sections[1].capacity", |d| {
        d.sections[1].capacity = Some(1_000_001)
    });
}

#[test]
fn hold_ttl_and_ticket_limit_are_bounded() {
    refused_at("hold_ttl_seconds", |d| d.hold_ttl_seconds = Some(4));
    refused_at("hold_ttl_seconds", |d| d.hold_ttl_seconds = Some(86_401));
    refused_at("max_tickets_per_customer", |d| {
        d.max_tickets_per_customer = Some(0)
    });
    refused_at("max_tickets_per_customer", |d| {
        d.max_tickets_per_customer = Some(101)
    });
    let mut draft = draft();
    draft.hold_ttl_seconds = Some(5);
    draft.max_tickets_per_customer = Some(100);
    let details = EventDetails::parse(draft).unwrap();
    assert_eq!(
        (details.hold_ttl_seconds, details.max_tickets_per_customer),
        (5, 100)
    );
}

#[test]
fn the_sale_closes_after_it_opens() {
    refused_at("sale_closes_at", |d| d.sale_closes_at = d.sale_opens_at);
    let mut open_ended = draft();
    open_ended.sale_closes_at = None;
    assert!(EventDetails::parse(open_ended).is_ok());
}

#[test]
fn errors_read_as_field_and_reason() {
    let error = refused(|d| d.sections[0] = seated("stalls", &[("A", 0)]));
    assert_eq!(
        error.to_string(),
        "sections[0].rows[0].seats: must be between 1 and 1000"
    );
}

#[test]
fn opening_the_inventory_copies_what_it_decides_with() {
    let details = details();
    let InventoryCommand::Open {
        sections,
        currency,
        hold_ttl_seconds,
        max_tickets_per_customer,
        sale_opens_at,
        sale_closes_at,
        waiting_room,
        presales,
    } = open_inventory(&details)
    else {
        panic!("not an Open command");
    };
    assert_eq!(sections, details.inventory_sections());
    assert_eq!(sections[1].price_minor, 3_000);
    assert_eq!(currency, details.currency);
    assert_eq!(hold_ttl_seconds, details.hold_ttl_seconds);
    assert_eq!(max_tickets_per_customer, details.max_tickets_per_customer);
    assert_eq!(
        (sale_opens_at, sale_closes_at),
        (details.sale_opens_at, details.sale_closes_at)
    );
    assert!(!waiting_room, "no waiting room was described");
    assert_eq!(presales, details.presales);
}

#[test]
fn details_round_trip_through_json() {
    let details = details();
    let json = serde_json::to_string(&details).unwrap();
    assert_eq!(
        serde_json::from_str::<EventDetails>(&json).unwrap(),
        details
    );
}

fn waiting_room(opens_at: crate::Timestamp, admit_per_minute: u32) -> WaitingRoomDraft {
    WaitingRoomDraft {
        opens_at,
        admit_per_minute,
        max_active: Some(500),
        admission_ttl_seconds: None,
    }
}

#[test]
fn a_waiting_room_is_kept_and_makes_the_inventory_sell_through_it() {
    let mut draft = draft();
    let opens_at = draft.sale_opens_at.unwrap() - time::Duration::hours(1);
    draft.waiting_room = Some(waiting_room(opens_at, 600));
    let details = EventDetails::parse(draft).unwrap();
    let room = details.waiting_room.expect("the waiting room");
    assert_eq!(room.admit_per_minute(), 600);
    assert_eq!(room.opens_at(), opens_at);
    let InventoryCommand::Open { waiting_room, .. } = open_inventory(&details) else {
        panic!("not an Open command");
    };
    assert!(waiting_room);
}

#[test]
fn a_waiting_room_must_open_before_the_sale_and_admit_someone() {
    refused_at("waiting_room.opens_at", |d| {
        d.waiting_room = Some(waiting_room(d.sale_opens_at.unwrap(), 600));
    });
    refused_at("waiting_room.admit_per_minute", |d| {
        let opens_at = d.sale_opens_at.unwrap() - time::Duration::hours(1);
        d.waiting_room = Some(waiting_room(opens_at, 0));
    });
    refused_at("sale_opens_at", |d| {
        let opens_at = d.sale_opens_at.unwrap() - time::Duration::hours(1);
        d.sale_opens_at = None;
        d.waiting_room = Some(waiting_room(opens_at, 600));
    });
}

#[test]
fn details_stored_before_waiting_rooms_existed_still_load() {
    let mut stored = serde_json::to_value(details()).unwrap();
    stored.as_object_mut().unwrap().remove("waiting_room");
    let loaded: EventDetails = serde_json::from_value(stored).unwrap();
    assert_eq!(loaded.waiting_room, None);
}

fn ticket_types(types: &[(&str, &str, i64)]) -> Option<Vec<crate::catalog::TicketTypeDraft>> {
    Some(
        types
            .iter()
            .map(|(id, name, price)| crate::catalog::TicketTypeDraft {
                type_id: (*id).into(),
                name: (*name).into(),
                price_minor: *price,
            })
            .collect(),
    )
}

#[test]
fn ticket_types_are_kept_in_order_and_reach_the_inventory() {
    let mut draft = draft();
    draft.sections[1].ticket_types =
        ticket_types(&[("adult", "Adult", 3_000), ("child", "Child", 1_500)]);
    let details = EventDetails::parse(draft).unwrap();
    let types = &details.sections[1].ticket_types;
    assert_eq!(types.len(), 2);
    assert_eq!(
        (types[1].type_id.as_str(), types[1].price_minor),
        ("child", 1_500)
    );
    // A section that lists none sells one type at its price.
    let default = crate::catalog::effective_types(
        &details.sections[0].ticket_types,
        details.sections[0].price_minor,
    );
    assert_eq!(default.len(), 1);
    assert_eq!(default[0].type_id.as_str(), crate::catalog::DEFAULT_TYPE_ID);
    assert_eq!(default[0].price_minor, details.sections[0].price_minor);
    match open_inventory(&details) {
        InventoryCommand::Open { sections, .. } => assert_eq!(&sections[1].ticket_types, types),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_ticket_types_are_named_by_their_path() {
    refused_at("sections[1].ticket_types[1].type_id", |d| {
        d.sections[1].ticket_types = ticket_types(&[("a", "A", 1), ("a", "B", 2)])
    });
    refused_at("sections[1].ticket_types[0].type_id", |d| {
        d.sections[1].ticket_types = ticket_types(&[("a b", "A", 1)])
    });
    refused_at("sections[1].ticket_types[0].name", |d| {
        d.sections[1].ticket_types = ticket_types(&[("a", " ", 1)])
    });
    refused_at("sections[1].ticket_types[0].price_minor", |d| {
        d.sections[1].ticket_types = ticket_types(&[("a", "A", -1)])
    });
    refused_at("sections[1].ticket_types", |d| {
        let many: Vec<(String, i64)> = (0..21).map(|i| (format!("t{i}"), 1)).collect();
        let many: Vec<(&str, &str, i64)> =
            many.iter().map(|(id, p)| (id.as_str(), "T", *p)).collect();
        d.sections[1].ticket_types = ticket_types(&many)
    });
}
