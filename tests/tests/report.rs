//! The operator's report through the whole system: a sale with a confirmed order, a refunded one,
//! a declined one and a live hold, read back per section and in total; only an operator may read
//! it.

use e2e::client::customer_authorization;
use e2e::readside::ReadSide;
use e2e::{scenario, CommandSvc, EventSpec, HoldBody, TestEnv, GA_SECTION};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const SETTLED: Duration = Duration::from_secs(30);
const GA_PRICE: i64 = 3_500;

async fn hold(svc: &CommandSvc, event: &str, customer: &str, quantity: u32) -> String {
    let body = HoldBody::quantity(customer, GA_SECTION, quantity);
    let (status, hold) = svc.api().hold(event, &format!("h-{customer}"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    hold["hold_id"].as_str().unwrap().to_owned()
}

async fn order(svc: &CommandSvc, hold: &str, customer: &str, token: &str) -> String {
    let (status, placed) = svc
        .api()
        .place_order(&format!("o-{customer}"), hold, customer, token)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
    placed["order_id"].as_str().unwrap().to_owned()
}

async fn settled(read: &ReadSide, order: &str, status: &str) {
    read.get_until(&format!("/orders/{order}"), SETTLED, |_, body| {
        body["status"] == status
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_report_adds_up_the_sale() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let event = svc
            .api()
            .create_on_sale("report", &EventSpec::ga(50).to_json())
            .await;

        let alice = hold(&svc, &event, "alice", 2).await;
        let alice = order(&svc, &alice, "alice", "tok_ok").await;
        let dave = hold(&svc, &event, "dave", 1).await;
        let dave = order(&svc, &dave, "dave", "tok_ok").await;
        let carol = hold(&svc, &event, "carol", 1).await;
        let carol = order(&svc, &carol, "carol", "tok_decline").await;
        hold(&svc, &event, "bob", 3).await;
        settled(&read, &alice, "confirmed").await;
        settled(&read, &carol, "payment_failed").await;
        settled(&read, &dave, "confirmed").await;
        let (status, cancelled) = svc.api().cancel_order(&dave, "dave").await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        settled(&read, &dave, "refunded").await;

        let path = format!("/events/{event}/report");
        let report = read
            .get_until(&path, SETTLED, |status, body| {
                status == StatusCode::OK && body["totals"]["sold"] == 2
            })
            .await;
        assert_eq!(report["status"], "on_sale");
        assert_eq!(report["currency"], "EUR");
        let sections = report["sections"].as_array().unwrap();
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0]["section_id"], GA_SECTION);
        let expected = serde_json::json!({
            "capacity": 50,
            "available": 45,
            "held": 3,
            "sold": 2,
            "orders_confirmed": 1,
            "tickets_confirmed": 2,
            "revenue_minor": 2 * GA_PRICE,
            "orders_refunded": 1,
            "refunded_minor": GA_PRICE,
            "orders_pending": 0,
        });
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(&report["totals"][field], value, "totals.{field}: {report}");
            assert_eq!(&sections[0][field], value, "section {field}: {report}");
        }

        // Only an operator reads it; an unknown event is 404, a malformed id 400.
        let (status, _) = read
            .get_as(&path, Some(&customer_authorization("alice")))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = read.get_as(&path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = read
            .get("/events/00000000-0000-4000-8000-000000000000/report")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, body): (StatusCode, Value) = read.get("/events/nope/report").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    })
    .await;
}
