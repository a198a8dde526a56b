//! Ticket types through the whole system: a general-admission section sells adult and child
//! tickets at their own prices, a seated one lists no type and sells its default type at its
//! price. Each order costs the sum of its tickets' prices and its tickets carry their type; a
//! type of another section is refused and appends nothing; the operator's report gives the
//! revenue per section and per type.

use e2e::readside::ReadSide;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use e2e::{GA_SECTION, SEATED_SECTION};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const SETTLED: Duration = Duration::from_secs(30);
const ADULT: i64 = 4_000;
const CHILD: i64 = 2_000;
/// The seated section's price (the fixture's).
const STALLS: i64 = 5_000;

fn typed_hold(customer: &str, section: &str, quantity: u32, type_id: Option<&str>) -> Value {
    let mut body = HoldBody::quantity(customer, section, quantity);
    if let Some(type_id) = type_id {
        body["type_id"] = json!(type_id);
    }
    body
}

/// Holds, orders with `tok_ok`, and waits for the order to be confirmed: the order as read.
async fn buy(
    svc: &CommandSvc,
    read: &ReadSide,
    event: &str,
    customer: &str,
    body: &Value,
    expected: (&str, i64),
) -> Value {
    let (status, hold) = svc.api().hold(event, &format!("h-{customer}"), body).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    assert_eq!(hold["type_id"], expected.0, "{hold}");
    assert_eq!(hold["price_minor"], expected.1, "{hold}");
    let hold_id = hold["hold_id"].as_str().unwrap();
    let (status, placed) = svc
        .api()
        .place_order(&format!("o-{customer}"), hold_id, customer, "tok_ok")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
    let order = placed["order_id"].as_str().unwrap();
    read.get_until(&format!("/orders/{order}"), SETTLED, |_, body| {
        body["status"] == "confirmed"
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_cost_their_tickets_prices_and_the_report_splits_revenue_by_type() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let mut event = EventSpec::ga(50).with_seated(SEATED_SECTION).to_json();
        event["sections"][0]["ticket_types"] = json!([
            {"type_id": "adult", "name": "Adult", "price_minor": ADULT},
            {"type_id": "child", "name": "Child", "price_minor": CHILD},
        ]);
        let event = svc.api().create_on_sale("types", &event).await;

        let alice = typed_hold("alice", GA_SECTION, 2, Some("child"));
        let alice = buy(&svc, &read, &event, "alice", &alice, ("child", CHILD)).await;
        assert_eq!(alice["total_minor"], 2 * CHILD, "{alice}");
        for ticket in alice["tickets"].as_array().unwrap() {
            assert_eq!(ticket["type_id"], "child", "{alice}");
        }
        // No type named: the section's first.
        let bob = typed_hold("bob", GA_SECTION, 3, None);
        let bob = buy(&svc, &read, &event, "bob", &bob, ("adult", ADULT)).await;
        assert_eq!(bob["total_minor"], 3 * ADULT, "{bob}");
        // A section without types: its default type at its price.
        let carol = typed_hold("carol", SEATED_SECTION, 1, None);
        let carol = buy(&svc, &read, &event, "carol", &carol, ("standard", STALLS)).await;
        assert_eq!(carol["total_minor"], STALLS, "{carol}");

        // A type of another section, or of none, is refused and appends nothing.
        let before = InventoryLog::read(&env.store, &event).await.last_sequence;
        for (customer, section, type_id) in [
            ("dave", SEATED_SECTION, "adult"),
            ("erin", GA_SECTION, "standard"),
            ("frank", GA_SECTION, "vip"),
        ] {
            let body = typed_hold(customer, section, 1, Some(type_id));
            let (status, answer) = svc.api().hold(&event, "h", &body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
            assert_eq!(error_code(&answer), Some("unknown_ticket_type"), "{answer}");
        }
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            before
        );

        let report = read
            .get_until(
                &format!("/events/{event}/report"),
                SETTLED,
                |status, body| status == StatusCode::OK && body["totals"]["tickets_confirmed"] == 6,
            )
            .await;
        let sections = report["sections"].as_array().unwrap();
        let of = |id: &str| sections.iter().find(|s| s["section_id"] == id).unwrap();
        assert_eq!(
            of(GA_SECTION)["revenue_minor"],
            3 * ADULT + 2 * CHILD,
            "{report}"
        );
        assert_eq!(
            of(GA_SECTION)["types"],
            json!([
                {"type_id": "adult", "tickets_confirmed": 3, "revenue_minor": 3 * ADULT},
                {"type_id": "child", "tickets_confirmed": 2, "revenue_minor": 2 * CHILD},
            ]),
            "{report}"
        );
        assert_eq!(
            of(SEATED_SECTION)["types"],
            json!([{"type_id": "standard", "tickets_confirmed": 1, "revenue_minor": STALLS}]),
            "{report}"
        );
        assert_eq!(
            report["totals"]["revenue_minor"],
            3 * ADULT + 2 * CHILD + STALLS
        );
        // The event shows every type a section sells, the default one too.
        let (_, detail) = read.get(&format!("/events/{event}")).await;
        let types = |i: usize| {
            detail["sections"][i]["ticket_types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["type_id"].clone(), t["price_minor"].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            types(0),
            [
                (json!("adult"), json!(ADULT)),
                (json!("child"), json!(CHILD))
            ],
            "{detail}"
        );
        assert_eq!(types(1), [(json!("standard"), json!(STALLS))], "{detail}");
        // Availability stays one number per section, whatever the types.
        let (_, availability) = read.get(&format!("/events/{event}/availability")).await;
        let floor = &availability["sections"][0];
        assert_eq!(
            (floor["sold"].clone(), floor["available"].clone()),
            (json!(5), json!(45))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_ticket_types_are_refused_at_creation() {
    scenario(|env: TestEnv| async move {
        let _ = &env.store;
        let svc = CommandSvc::spawn(&env.prefix).await;
        for types in [
            json!([{"type_id": "a", "name": "A", "price_minor": 1}, {"type_id": "a", "name": "B", "price_minor": 2}]),
            json!([{"type_id": "a b", "name": "A", "price_minor": 1}]),
            json!([{"type_id": "a", "name": " ", "price_minor": 1}]),
            json!([{"type_id": "a", "name": "A", "price_minor": -1}]),
        ] {
            let mut event = EventSpec::ga(10).to_json();
            event["sections"][0]["ticket_types"] = types.clone();
            let (status, answer) = svc.api().try_create_event(Some("bad"), &event).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{types}: {answer}");
            assert_eq!(error_code(&answer), Some("invalid_event"), "{answer}");
        }
    })
    .await;
}
