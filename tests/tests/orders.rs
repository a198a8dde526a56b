//! Orders on the command side: placing an order for a hold, paying it, confirming it with its
//! tickets, or failing it and giving the seats back; retries of `POST /orders`; refusals. Checked
//! from the HTTP answers and from the order, payment and inventory streams.

use command_svc::payments::{TestGateway, TestGatewaySettings};
use command_svc::Config;
use domain::inventory::{HoldStatus, SeatStatus};
use domain::ordering::OrderStatus;
use e2e::orders::{order_id, wait_for_order};
use e2e::stream::{hold_id, section};
use e2e::SEATED_SECTION;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How long fulfilment may take in these tests (a local gateway answers at once).
const SETTLED: Duration = Duration::from_secs(20);

async fn spawn(env: &TestEnv) -> (CommandSvc, Arc<TestGateway>) {
    let gateway = Arc::new(TestGateway::new(TestGatewaySettings::default()));
    let config = Config::for_test(&e2e::nats_url(), &env.prefix);
    let svc =
        CommandSvc::spawn_with_gateway(config, e2e::client::http_client(), gateway.clone()).await;
    (svc, gateway)
}

/// A seated event on sale and a hold of `seats` for `customer`: (event id, the hold's answer).
async fn held(svc: &CommandSvc, customer: &str, seats: &[&str]) -> (String, Value) {
    let event = svc
        .api()
        .create_on_sale(&format!("event-{customer}"), &EventSpec::seated().to_json())
        .await;
    let body = HoldBody::seats(customer, SEATED_SECTION, seats);
    let (status, hold) = svc
        .api()
        .hold(&event, &format!("hold-{customer}"), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    (event, hold)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paid_order_is_confirmed_with_its_tickets_and_a_retry_changes_nothing() {
    scenario(|env: TestEnv| async move {
        let (svc, gateway) = spawn(&env).await;
        let (event, hold) = held(&svc, "alice", &["A-1", "A-2"]).await;
        let hold_text = hold["hold_id"].as_str().unwrap();

        let (status, placed) = svc
            .api()
            .place_order("buy-1", hold_text, "alice", "tok_ok")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        assert_eq!(placed["status"], "pending_payment");
        let position = placed["position"].as_str().unwrap().to_owned();
        let orders_stream = env.store.naming().stream(tv_nats::Stream::Orders);
        assert!(
            position.starts_with(&format!("{orders_stream}:")),
            "{position}"
        );
        let order = order_id(placed["order_id"].as_str().unwrap());

        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        assert_eq!(
            log.order_kinds(),
            ["OrderPlaced", "PaymentCaptured", "OrderConfirmed"]
        );
        assert_eq!(log.payment_kinds(), ["ChargeCaptured"]);
        let state = log.order_state();
        let confirmed = state.order().unwrap();
        assert_eq!(confirmed.total_minor, 10_000, "two seats at 50.00");
        assert_eq!(confirmed.tickets.len(), 2);
        let seats: Vec<String> = confirmed
            .tickets
            .iter()
            .map(|t| t.seat.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(seats, ["A-1", "A-2"]);
        assert_ne!(confirmed.tickets[0].code, confirmed.tickets[1].code);
        assert_eq!(gateway.charges_captured(order), 1);
        assert_eq!(gateway.captured_minor(order), 10_000);

        // The seats are sold to the order, once.
        let inventory = InventoryLog::read(&env.store, &event).await;
        let hold = hold_id(hold_text);
        assert_eq!(
            inventory.kinds_of_hold(&hold),
            ["SeatsHeld", "HoldCheckedOut", "SeatsSold"]
        );
        inventory.seat_owners();
        let state = inventory.fold();
        assert_eq!(
            state.hold(&hold).unwrap().status,
            HoldStatus::Sold { order_id: order }
        );

        // The same request again: the first answer, nothing appended.
        let (status, again) = svc
            .api()
            .place_order("buy-1", hold_text, "alice", "tok_ok")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{again}");
        assert_eq!(again, placed);
        // The same key with another body: refused.
        let (status, other) = svc
            .api()
            .place_order("buy-1", hold_text, "alice", "tok_decline")
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{other}");
        assert_eq!(error_code(&other), Some("idempotency_key_reused"));
        // Another key for the same hold: the hold is this order's already.
        let (status, second) = svc
            .api()
            .place_order("buy-2", hold_text, "alice", "tok_ok")
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{second}");
        assert_eq!(error_code(&second), Some("invalid_state"));

        tokio::time::sleep(Duration::from_millis(500)).await;
        let log = e2e::orders::OrderLog::read(&env.store, order).await;
        assert_eq!(log.order.len(), 3, "{:?}", log.order_kinds());
        assert_eq!(log.payment.len(), 1);
        assert_eq!(gateway.charges_captured(order), 1);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_declined_payment_fails_the_order_and_puts_its_seats_back_on_sale() {
    scenario(|env: TestEnv| async move {
        let (svc, gateway) = spawn(&env).await;
        let (event, hold) = held(&svc, "bob", &["C-5", "C-6"]).await;
        let hold_text = hold["hold_id"].as_str().unwrap();
        let (status, placed) = svc
            .api()
            .place_order("buy", hold_text, "bob", "tok_decline")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = order_id(placed["order_id"].as_str().unwrap());

        let log = wait_for_order(&env.store, order, SETTLED, |s| {
            s == OrderStatus::PaymentFailed
        })
        .await;
        assert_eq!(log.order_kinds(), ["OrderPlaced", "PaymentFailed"]);
        assert_eq!(log.payment_kinds(), ["ChargeDeclined"]);
        assert_eq!(gateway.charges_captured(order), 0);

        // The hold is given back (not left to run out), and someone else may take the seats.
        let hold = hold_id(hold_text);
        let released = e2e::eventually(SETTLED, || {
            let store = env.store.clone();
            let event = event.clone();
            async move {
                let log = InventoryLog::read(&store, &event).await;
                (log.kinds_of_hold(&hold).last() == Some(&"HoldReleased")).then_some(log)
            }
        })
        .await
        .expect("the declined order's hold is released");
        let state = released.fold();
        assert_eq!(
            state.seat_status(
                &section(SEATED_SECTION),
                &"C-5".parse().unwrap(),
                time::OffsetDateTime::now_utc()
            ),
            Some(SeatStatus::Available)
        );
        let body = HoldBody::seats("carol", SEATED_SECTION, &["C-5", "C-6"]);
        let (status, taken) = svc.api().hold(&event, "carol-1", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{taken}");
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_refuse_what_they_cannot_do() {
    scenario(|env: TestEnv| async move {
        let (svc, _gateway) = spawn(&env).await;
        let (event, hold) = held(&svc, "dave", &["D-1"]).await;
        let hold_text = hold["hold_id"].as_str().unwrap();
        let api = svc.api();

        // No idempotency key, a malformed hold id, an empty token, an unknown field.
        let body = serde_json::json!({"hold_id": hold_text, "customer_id": "dave", "payment": {"token": "tok_ok"}});
        let (status, answer) = api.post("/orders", None, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(error_code(&answer), Some("missing_idempotency_key"));
        let (status, answer) = api.place_order("k", "nonsense", "dave", "tok_ok").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(error_code(&answer), Some("invalid_hold_id"));
        let (status, answer) = api.place_order("k", hold_text, "dave", "").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        let extra = serde_json::json!({"hold_id": hold_text, "customer_id": "dave", "payment": {"token": "tok_ok", "cvv": "123"}});
        let (status, answer) = api.post("/orders", Some("k"), &extra).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");

        // Someone else's hold; a hold that does not exist (in an event that does, or does not).
        // Someone else's is answered exactly as one that does not exist.
        let (status, not_yours) = api.place_order("k", hold_text, "mallory", "tok_ok").await;
        let unknown = format!("{event}.{}", uuid::Uuid::new_v4());
        let (unknown_status, answer) = api.place_order("k", &unknown, "dave", "tok_ok").await;
        assert_eq!(unknown_status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(error_code(&answer), Some("unknown_hold"));
        assert_eq!((status, &not_yours), (unknown_status, &answer));
        let elsewhere = format!("{}.{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let (status, answer) = api.place_order("k", &elsewhere, "dave", "tok_ok").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(error_code(&answer), Some("unknown_hold"));

        // A released hold cannot be ordered.
        let (status, _) = api.release(hold_text, "dave").await;
        assert_eq!(status, StatusCode::OK);
        let (status, answer) = api.place_order("k", hold_text, "dave", "tok_ok").await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert_eq!(error_code(&answer), Some("invalid_state"));

        // Cancelling: unknown order, someone else's order, a malformed id.
        let (status, answer) = api
            .cancel_order(&uuid::Uuid::new_v4().to_string(), "dave")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(error_code(&answer), Some("unknown_order"));
        let (status, answer) = api.cancel_order("nonsense", "dave").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(error_code(&answer), Some("invalid_order_id"));
        svc.shutdown().await;
    })
    .await;
}
