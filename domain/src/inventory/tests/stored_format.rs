//! The stored format of today's facts, frozen: `stream_v1.json` holds commits as this build's
//! writers stored them (schema 1). Whatever later builds change, these must still decode through
//! the upcasters (domain::schema) and fold to the same sale.

use super::*;
use crate::inventory::{evolve, EventInventory, SeatStatus};
use crate::schema;

/// The facts of one stored commit, as a reader decodes them.
fn decode(commit: &serde_json::Value) -> Vec<InventoryEvent> {
    commit["events"]
        .as_array()
        .expect("a commit has events")
        .iter()
        .map(|record| {
            let kind = record["type"].as_str().unwrap();
            let stored = record["schema"].as_u64().unwrap() as u16;
            let mut data = record["data"].clone();
            schema::upcast(kind, stored, &mut data).unwrap();
            serde_json::from_value(serde_json::json!({"type": kind, "data": data}))
                .unwrap_or_else(|e| panic!("{kind} schema {stored} no longer decodes: {e}"))
        })
        .collect()
}

fn stored() -> Vec<serde_json::Value> {
    serde_json::from_str(include_str!("stream_v1.json")).unwrap()
}

#[test]
fn todays_stream_still_decodes_and_folds_to_the_same_sale() {
    let facts: Vec<InventoryEvent> = stored().iter().flat_map(decode).collect();
    assert_eq!(facts, written(), "the facts as they were written");
    let state = facts.iter().fold(EventInventory::default(), evolve);
    let now = at(60);
    assert_eq!(state.sale_closes_at(), Some(at(50)));
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("A-1"), now),
        Some(SeatStatus::Available),
        "sold, then returned"
    );
    assert_eq!(
        state.seat_status(&section("stalls"), &seat("B-1"), now),
        Some(SeatStatus::Held(hold_id(&carol(), "c")))
    );
    assert_eq!(state.customer_tickets(&bob(), now), 0, "released");
}

/// What `stream_v1.json` was written from, one commit per line.
fn commits() -> Vec<Vec<InventoryEvent>> {
    let a = held_seats(&alice(), "a", &["A-1", "A-2"], 0);
    let b = held_floor(&bob(), "b", 3, 10);
    let c = held_seats(&carol(), "c", &["B-1"], 20);
    vec![
        vec![opened()],
        vec![a.clone(), b.clone()],
        vec![checked_out(&a, order(1))],
        vec![sold(&a, order(1))],
        vec![released(&b), c],
        vec![returned(&a, order(1))],
        vec![InventoryEvent::SaleClosed { closed_at: at(50) }],
    ]
}

fn written() -> Vec<InventoryEvent> {
    commits().into_iter().flatten().collect()
}

/// Prints the stored form of `commits()`: run with `--ignored --nocapture` to write a new fixture
/// for a new schema, never to overwrite `stream_v1.json`.
#[test]
#[ignore]
fn print_the_stored_form() {
    let stored: Vec<serde_json::Value> = commits()
        .into_iter()
        .map(|facts| {
            let records: Vec<serde_json::Value> = facts
                .into_iter()
                .map(|fact| {
                    let mut record = serde_json::to_value(fact).unwrap();
                    record["schema"] = schema::WRITTEN.into();
                    record
                })
                .collect();
            serde_json::json!({"recorded_at": "2030-06-01T18:01:00Z", "events": records})
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&stored).unwrap());
}
