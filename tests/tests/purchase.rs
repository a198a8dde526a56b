//! A purchase through the whole system: command-svc (holds, orders, the fulfilment reactor, the
//! test gateway), the projector, query-svc and the notifier, each in-process on the real NATS
//! server and PostgreSQL. What a customer sees on the read side, and what the notifier tells them,
//! once per fact, across redeliveries.

use e2e::readside::{forget_consumer, ReadSide};
use e2e::{scenario, CommandSvc, EventSpec, HoldBody, TestEnv, GA_SECTION, SEATED_SECTION};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const SETTLED: Duration = Duration::from_secs(30);

/// Creates a seated event with a general-admission floor, and a hold of `seats` in the stalls.
async fn held(svc: &CommandSvc, customer: &str, seats: &[&str]) -> (String, Value) {
    let spec = EventSpec::seated().with_ga(GA_SECTION, 50);
    let event = svc
        .api()
        .create_on_sale(&format!("show-{customer}"), &spec.to_json())
        .await;
    let body = HoldBody::seats(customer, SEATED_SECTION, seats);
    let (status, hold) = svc
        .api()
        .hold(&event, &format!("h-{customer}"), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    (event, hold)
}

fn section<'a>(availability: &'a Value, id: &str) -> &'a Value {
    availability["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["section_id"] == id))
        .unwrap_or_else(|| panic!("no section {id} in {availability}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_purchase_shows_on_the_read_side_and_is_notified_once() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let mut read = ReadSide::spawn(&env.prefix).await;
        let (event, hold) = held(&svc, "alice", &["B-3", "B-4"]).await;
        let hold_id = hold["hold_id"].as_str().unwrap();

        let (status, placed) = svc
            .api()
            .place_order("order-1", hold_id, "alice", "tok_ok")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = placed["order_id"].as_str().unwrap().to_owned();

        // Read your write: the order is there as soon as the projection reached its position.
        let position = placed["position"].as_str().unwrap();
        let first = read
            .get_until(
                &format!("/orders/{order}?after={position}"),
                SETTLED,
                |s, _| s == StatusCode::OK,
            )
            .await;
        assert_eq!(first["customer_id"], "alice");
        assert_eq!(first["total_minor"], 10_000);
        assert_eq!(first["currency"], "EUR");

        let confirmed = read
            .get_until(&format!("/orders/{order}"), SETTLED, |_, body| {
                body["status"] == "confirmed"
            })
            .await;
        let tickets = confirmed["tickets"].as_array().expect("tickets");
        assert_eq!(tickets.len(), 2, "{confirmed}");
        let seats: Vec<&str> = tickets
            .iter()
            .map(|t| t["seat"].as_str().unwrap())
            .collect();
        assert_eq!(seats, ["B-3", "B-4"]);
        assert!(tickets
            .iter()
            .all(|t| t["code"].as_str().unwrap().starts_with("TV-")
                && t["section_id"] == SEATED_SECTION));
        assert_ne!(tickets[0]["code"], tickets[1]["code"]);

        let (status, mine) = read.get("/customers/alice/orders").await;
        assert_eq!(status, StatusCode::OK);
        let mine = mine.as_array().expect("a list");
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["order_id"], order.as_str());
        assert_eq!(mine[0]["status"], "confirmed");

        // The inventory read side: the hold is ordered, its seats are sold.
        let hold_view = read
            .get_until(&format!("/holds/{hold_id}"), SETTLED, |_, body| {
                body["status"] == "ordered" && body["order_id"] == order.as_str()
            })
            .await;
        assert_eq!(hold_view["quantity"], 2);
        let availability = read
            .get_until(
                &format!("/events/{event}/availability"),
                SETTLED,
                |_, body| {
                    body["sections"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|s| s["sold"] == 2))
                },
            )
            .await;
        let stalls = section(&availability, SEATED_SECTION);
        assert_eq!(
            (&stalls["held"], &stalls["sold"], &stalls["available"]),
            (&Value::from(0), &Value::from(2), &Value::from(98))
        );

        // One confirmation in the outbox...
        let deadline = tokio::time::Instant::now() + SETTLED;
        while read.notifications(&order).await.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no notice");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let expected = vec![(
            format!("{order}:order_confirmed"),
            "order_confirmed".to_owned(),
        )];
        assert_eq!(read.notifications(&order).await, expected);

        // ... and still one after every order fact is delivered to the notifier again.
        read.stop_notifier().await;
        forget_consumer(&env.store, "notifier")
            .await
            .expect("the notifier's consumer is deleted");
        read.restart_notifier().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(read.notifications(&order).await, expected);

        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_declined_order_shows_as_failed_and_its_seats_as_available() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let spec = EventSpec::ga(40);
        let event = svc.api().create_on_sale("ga-show", &spec.to_json()).await;
        let body = HoldBody::quantity("bob", GA_SECTION, 3);
        let (status, hold) = svc.api().hold(&event, "h-bob", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        let hold_id = hold["hold_id"].as_str().unwrap();

        let (status, placed) = svc
            .api()
            .place_order("order-1", hold_id, "bob", "tok_decline")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = placed["order_id"].as_str().unwrap().to_owned();

        let failed = read
            .get_until(&format!("/orders/{order}"), SETTLED, |_, body| {
                body["status"] == "payment_failed"
            })
            .await;
        assert_eq!(failed["tickets"], Value::Array(vec![]));
        read.get_until(&format!("/holds/{hold_id}"), SETTLED, |_, body| {
            body["status"] == "released"
        })
        .await;
        let availability = read
            .get_until(
                &format!("/events/{event}/availability"),
                SETTLED,
                |_, body| body["sections"][0]["available"] == 40,
            )
            .await;
        let floor = section(&availability, GA_SECTION);
        assert_eq!(
            (&floor["held"], &floor["sold"]),
            (&Value::from(0), &Value::from(0))
        );

        let deadline = tokio::time::Instant::now() + SETTLED;
        while read.notifications(&order).await.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no notice");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            read.notifications(&order).await,
            vec![(
                format!("{order}:payment_failed"),
                "payment_failed".to_owned()
            )]
        );
        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}
