//! command-svc charging through its HTTPS gateway adapter, against a fake gateway the test starts
//! on a loopback port (`e2e::fake_gateway`), on real NATS: a purchase captures once; a charge
//! without an answer, or repeated after a crash, is never made twice (counted at the gateway); a
//! charge the gateway settles later is confirmed by its signed webhook, or found by its reference
//! after a restart; a webhook that is not signed right, or signed too long ago, records nothing;
//! a decline fails the order and puts its seats back on sale; the binary refuses the test gateway
//! in production.
//!
//! The card token is exchanged for the gateway's reference when the order is placed: a retried
//! placement makes one intent; a token the gateway refuses fails the order at once and returns
//! its seats once; a placement the gateway does not answer places nothing, and its retry makes
//! one intent; an order placed with a token before references existed is still charged with it.

use command_svc::fulfilment::HaltPoint;
use command_svc::payments::GatewayConfig;
use command_svc::Config;
use domain::ids::{CustomerId, IdempotencyKey, OrderId};
use domain::inventory::InventoryCommand;
use domain::ordering::{OrderStatus, PaymentMeans};
use domain::payments::PaymentEvent;
use e2e::fake_gateway::{self, FakeGateway};
use e2e::orders::{order_id, wait_for_order, OrderLog};
use e2e::stream::{event_id, hold_id};
use e2e::{
    error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv, SEATED_SECTION,
};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const SETTLED: Duration = Duration::from_secs(20);

/// command-svc's settings for the fake gateway: its URL and secrets, calls timed out after
/// `timeout_ms`, a pending charge looked at again every `poll_secs`.
fn config(env: &TestEnv, fake: &FakeGateway, timeout_ms: u64, poll_secs: u64) -> Config {
    let gateway = GatewayConfig {
        timeout_ms,
        pending_poll_secs: poll_secs,
        ..GatewayConfig::http(
            &fake.base_url,
            fake_gateway::API_KEY,
            fake_gateway::WEBHOOK_SECRET,
        )
    };
    Config {
        gateway,
        ..Config::for_test(&e2e::nats_url(), &env.prefix)
    }
}

async fn spawn(config: Config) -> CommandSvc {
    CommandSvc::spawn_configured(config, e2e::client::http_client()).await
}

/// An event on sale, and a hold of `seats` by `customer`: the event and the hold.
async fn held(svc: &CommandSvc, customer: &str, seats: &[&str]) -> (String, Value) {
    let event = svc
        .api()
        .create_on_sale(customer, &EventSpec::seated().to_json())
        .await;
    let body = HoldBody::seats(customer, SEATED_SECTION, seats);
    let (status, hold) = svc
        .api()
        .hold(&event, &format!("{customer}-h"), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    (event, hold)
}

/// `POST /orders` paying with `token`: the order.
async fn order(svc: &CommandSvc, hold: &Value, customer: &str, token: &str) -> OrderId {
    let (status, placed) = svc
        .api()
        .place_order(
            &format!("order-{customer}"),
            hold["hold_id"].as_str().unwrap(),
            customer,
            token,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
    order_id(placed["order_id"].as_str().unwrap())
}

/// Waits until the order's payment shows these facts.
async fn wait_for_payment(env: &TestEnv, order: OrderId, kinds: &[&str]) -> OrderLog {
    let found = e2e::eventually(SETTLED, || async {
        let log = OrderLog::read(&env.store, order).await;
        (log.payment_kinds() == kinds).then_some(log)
    })
    .await;
    found.unwrap_or_else(|| {
        panic!("the payment of {order} never showed {kinds:?}");
    })
}

fn captured_ref(log: &OrderLog) -> String {
    log.payment
        .iter()
        .find_map(|fact| match fact {
            PaymentEvent::ChargeCaptured { gateway_ref, .. } => Some(gateway_ref.clone()),
            _ => None,
        })
        .expect("a capture on the payment")
}

/// The order a customer's `POST /orders` with this key places (also when it is not answered).
fn order_of(customer: &str, key: &str) -> OrderId {
    OrderId::derive(
        &CustomerId::parse(customer).unwrap(),
        &IdempotencyKey::parse(key).unwrap(),
    )
}

/// The gateway reference the order was placed with.
fn placed_ref(log: &OrderLog) -> String {
    match &log
        .order_state()
        .order()
        .expect("a placed order")
        .payment_means
    {
        Some(PaymentMeans::GatewayRef(reference)) => reference.clone(),
        other => panic!("the order was placed with {other:?}"),
    }
}

fn webhook_url(svc: &CommandSvc) -> String {
    format!("{}/payments/webhook", svc.base_url)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_purchase_through_the_http_gateway_captures_once_and_a_cancellation_refunds_once() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let svc = spawn(config(&env, &fake, 5_000, 5)).await;
        let (_, hold) = held(&svc, "alice", &["A-1", "A-2"]).await;
        let order = order(&svc, &hold, "alice", fake_gateway::CAPTURE).await;
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        assert_eq!(
            log.order_kinds(),
            ["OrderPlaced", "PaymentCaptured", "OrderConfirmed"]
        );
        assert_eq!(log.payment_kinds(), ["ChargeCaptured"]);
        let key = order.to_string();
        assert_eq!(fake.charges(&key), 1);
        assert_eq!(
            fake.intents(&key),
            [captured_ref(&log)],
            "the intent is the reference"
        );

        // Cancelled after confirmation: refunded once at the gateway, under the recorded intent.
        let (status, cancelled) = svc.api().cancel_order(&key, "alice").await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Refunded).await;
        assert_eq!(
            log.payment_kinds(),
            ["ChargeCaptured", "RefundIssued", "RefundSent"]
        );
        assert_eq!(
            fake.refunded(&captured_ref(&log)),
            log.order_state().order().unwrap().total_minor
        );
        assert_eq!(fake.refunds_made(), 1);
        assert_eq!(fake.charges(&key), 1);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_charge_without_an_answer_is_sent_again_with_its_key_and_charged_once() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        // The gateway takes the first request and never answers it: the call times out.
        let svc = spawn(config(&env, &fake, 300, 5)).await;
        let (_, hold) = held(&svc, "bob", &["B-1"]).await;
        let order = order(&svc, &hold, "bob", fake_gateway::NO_ANSWER).await;
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        let key = order.to_string();
        assert!(fake.charge_calls(&key) >= 2, "the charge was sent again");
        assert_eq!(fake.charges(&key), 1, "and charged once");
        assert_eq!(fake.intents(&key), [captured_ref(&log)]);
        assert_eq!(log.count("ChargeCaptured"), 1);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_after_the_gateway_charged_resumes_without_a_second_charge() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let crashing = Config {
            fulfilment_halt: Some(HaltPoint::AfterCharge),
            ..config(&env, &fake, 5_000, 5)
        };
        let svc = spawn(crashing).await;
        let (_, hold) = held(&svc, "carol", &["C-1", "C-2"]).await;
        let order = order(&svc, &hold, "carol", fake_gateway::CAPTURE).await;
        let key = order.to_string();
        let charged = e2e::eventually(SETTLED, || async {
            (fake.charges(&key) == 1).then_some(())
        });
        assert!(charged.await.is_some(), "the gateway charged");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            OrderLog::read(&env.store, order).await.payment.is_empty(),
            "nothing recorded"
        );
        svc.shutdown().await;

        // Restarted: the redelivered order sends the charge again with its key: a replay.
        let svc = spawn(config(&env, &fake, 5_000, 5)).await;
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        assert_eq!(fake.charge_calls(&key), 2);
        assert_eq!(fake.charges(&key), 1);
        assert_eq!(fake.intents(&key), [captured_ref(&log)]);
        assert_eq!(log.payment_kinds(), ["ChargeCaptured"]);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pending_charge_is_found_by_its_reference_after_a_restart_never_charged_again() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let svc = spawn(config(&env, &fake, 5_000, 1)).await;
        let (_, hold) = held(&svc, "dave", &["D-1"]).await;
        let order = order(&svc, &hold, "dave", fake_gateway::PROCESSING).await;
        let key = order.to_string();
        let log = wait_for_payment(&env, order, &["ChargePending"]).await;
        assert_eq!(log.status(), Some(OrderStatus::PendingPayment));
        svc.shutdown().await;

        // Settled while command-svc was down (its webhook lost): the restarted reactor reads the
        // intent by the recorded reference.
        let _lost_webhook = fake.settle(&key, true);
        let svc = spawn(config(&env, &fake, 5_000, 1)).await;
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        assert_eq!(log.payment_kinds(), ["ChargePending", "ChargeCaptured"]);
        assert_eq!(fake.charge_calls(&key), 1, "never sent again");
        assert_eq!(fake.intents(&key), [captured_ref(&log)]);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_asynchronous_success_announced_by_the_webhook_confirms_the_order() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        // Looked at again only after two minutes: within this test, only the webhook settles it.
        let svc = spawn(config(&env, &fake, 5_000, 120)).await;
        let (_, hold) = held(&svc, "erin", &["E-1", "E-2"]).await;
        let order = order(&svc, &hold, "erin", fake_gateway::PROCESSING).await;
        wait_for_payment(&env, order, &["ChargePending"]).await;
        let event = fake.settle(&order.to_string(), true);
        let status = fake
            .send_webhook(
                &webhook_url(&svc),
                &event,
                fake_gateway::WEBHOOK_SECRET,
                now(),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let log = wait_for_order(&env.store, order, Duration::from_secs(5), |s| {
            s == OrderStatus::Confirmed
        })
        .await;
        assert_eq!(log.payment_kinds(), ["ChargePending", "ChargeCaptured"]);
        // The same event again (a gateway retries) changes nothing.
        let again = fake
            .send_webhook(
                &webhook_url(&svc),
                &event,
                fake_gateway::WEBHOOK_SECRET,
                now(),
            )
            .await;
        assert_eq!(again, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = OrderLog::read(&env.store, order).await;
        assert_eq!(after.order.len(), log.order.len());
        assert_eq!(after.payment.len(), 2);
        assert_eq!(fake.charges(&order.to_string()), 1);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_with_a_bad_signature_or_an_old_timestamp_is_refused_and_changes_nothing() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let svc = spawn(config(&env, &fake, 5_000, 120)).await;
        let (_, hold) = held(&svc, "frank", &["F-1"]).await;
        let order = order(&svc, &hold, "frank", fake_gateway::PROCESSING).await;
        wait_for_payment(&env, order, &["ChargePending"]).await;
        let event = fake.settle(&order.to_string(), true);
        // Until the good webhook, a lookup of the charge (a redelivered step on a slow machine)
        // still finds it processing: whatever gets recorded meanwhile came from a webhook.
        fake.reopen(&order.to_string());
        let url = webhook_url(&svc);
        let body = serde_json::to_vec(&event).unwrap();
        let secret = fake_gateway::WEBHOOK_SECRET;

        let forged = fake
            .send_webhook(&url, &event, "whsec_someone_else", now())
            .await;
        let stale = fake.send_webhook(&url, &event, secret, now() - 301).await;
        let ahead = fake.send_webhook(&url, &event, secret, now() + 301).await;
        let unsigned = fake.post_webhook(&url, body.clone(), None).await;
        let mut tampered = event.clone();
        tampered["data"]["object"]["amount"] = Value::from(1);
        let signed_other_body = fake_gateway::signature(secret, now(), &body);
        let altered = fake
            .post_webhook(
                &url,
                serde_json::to_vec(&tampered).unwrap(),
                Some(signed_other_body),
            )
            .await;
        let garbage = fake
            .post_webhook(&url, body.clone(), Some("t=1,v1=zz".into()))
            .await;
        for (what, status) in [
            ("forged", forged),
            ("stale", stale),
            ("ahead", ahead),
            ("unsigned", unsigned),
            ("altered", altered),
            ("garbage", garbage),
        ] {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let log = OrderLog::read(&env.store, order).await;
        assert_eq!(log.payment_kinds(), ["ChargePending"], "nothing recorded");
        assert_eq!(log.order_kinds(), ["OrderPlaced"]);

        // The same event, signed right and now, is taken.
        fake.settle(&order.to_string(), true);
        let status = fake.send_webhook(&url, &event, secret, now()).await;
        assert_eq!(status, StatusCode::OK);
        wait_for_order(&env.store, order, Duration::from_secs(5), |s| {
            s == OrderStatus::Confirmed
        })
        .await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decline_fails_the_order_and_returns_its_seats_at_once_or_by_webhook() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let svc = spawn(config(&env, &fake, 5_000, 120)).await;
        let (event, hold) = held(&svc, "gina", &["G-1", "G-2"]).await;
        let declined = order(&svc, &hold, "gina", fake_gateway::DECLINE).await;
        let log = wait_for_order(&env.store, declined, SETTLED, |s| {
            s == OrderStatus::PaymentFailed
        })
        .await;
        assert_eq!(log.payment_kinds(), ["ChargeDeclined"]);
        assert_eq!(fake.charges(&declined.to_string()), 0);
        let inventory = e2e::eventually(SETTLED, || async {
            let log = InventoryLog::read(&env.store, &event).await;
            let hold = hold_id(hold["hold_id"].as_str().unwrap());
            (log.kinds_of_hold(&hold).last() == Some(&"HoldReleased")).then_some(())
        })
        .await;
        assert!(inventory.is_some(), "the hold was given back");
        // The seats are on sale again.
        let body = HoldBody::seats("hank", SEATED_SECTION, &["G-1", "G-2"]);
        let (status, again) = svc.api().hold(&event, "hank-h", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");

        // A decline announced later by the webhook ends the same way.
        let (_, hold) = held(&svc, "ivy", &["H-1"]).await;
        let late = order(&svc, &hold, "ivy", fake_gateway::PROCESSING).await;
        wait_for_payment(&env, late, &["ChargePending"]).await;
        let failed = fake.settle(&late.to_string(), false);
        let status = fake
            .send_webhook(
                &webhook_url(&svc),
                &failed,
                fake_gateway::WEBHOOK_SECRET,
                now(),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let log = wait_for_order(&env.store, late, Duration::from_secs(5), |s| {
            s == OrderStatus::PaymentFailed
        })
        .await;
        assert_eq!(log.payment_kinds(), ["ChargePending", "ChargeDeclined"]);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_order_prepares_one_intent_and_is_charged_once_by_its_reference() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let svc = spawn(config(&env, &fake, 5_000, 5)).await;
        let (_, hold) = held(&svc, "mia", &["A-5", "A-6"]).await;
        let hold_text = hold["hold_id"].as_str().unwrap();
        let (status, first) = svc
            .api()
            .place_order("buy", hold_text, "mia", fake_gateway::CAPTURE)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        let (status, again) = svc
            .api()
            .place_order("buy", hold_text, "mia", fake_gateway::CAPTURE)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{again}");
        assert_eq!(again, first, "the first answer");
        // Another token under the same key: the gateway keeps the first one.
        let (status, other) = svc
            .api()
            .place_order("buy", hold_text, "mia", fake_gateway::DECLINE)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{other}");
        assert_eq!(error_code(&other), Some("idempotency_key_reused"));

        let order = order_id(first["order_id"].as_str().unwrap());
        let key = order.to_string();
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        assert_eq!(
            fake.create_calls(&key),
            3,
            "every request reached the gateway"
        );
        assert_eq!(fake.intents(&key).len(), 1, "and one intent was made");
        assert_eq!(
            fake.intents(&key),
            [placed_ref(&log)],
            "the order's reference"
        );
        assert_eq!(fake.intents(&key), [captured_ref(&log)], "charged by it");
        assert_eq!(fake.charge_calls(&key), 1);
        assert_eq!(fake.charges(&key), 1);
        assert_eq!(log.count("OrderPlaced"), 1);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_the_gateway_refuses_fails_the_order_at_once_and_returns_its_seats_once() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let svc = spawn(config(&env, &fake, 5_000, 120)).await;
        let (event, hold) = held(&svc, "jack", &["J-1", "J-2"]).await;
        let hold_text = hold["hold_id"].as_str().unwrap();
        let unknown = "pm_card_the_gateway_never_issued";
        let (status, refused) = svc
            .api()
            .place_order("buy", hold_text, "jack", unknown)
            .await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{refused}");
        assert_eq!(error_code(&refused), Some("payment_refused"));
        assert!(!refused.to_string().contains(unknown), "{refused}");

        // The order failed in the commit that placed it, with nothing to charge; no intent.
        let order = order_of("jack", "buy");
        let key = order.to_string();
        let log = OrderLog::read(&env.store, order).await;
        assert_eq!(log.order_kinds(), ["OrderPlaced", "PaymentFailed"]);
        assert_eq!(log.order.len(), 2);
        assert_eq!(log.order_state().order().unwrap().payment_means, None);
        assert!(fake.intents(&key).is_empty());
        // Its hold is back on sale: another customer holds the seats at once.
        let hold = hold_id(hold_text);
        let released = e2e::eventually(Duration::from_secs(5), || async {
            let log = InventoryLog::read(&env.store, &event).await;
            (log.kinds_of_hold(&hold).last() == Some(&"HoldReleased")).then_some(())
        });
        assert!(released.await.is_some(), "the hold was given back");
        let body = HoldBody::seats("kate", SEATED_SECTION, &["J-1", "J-2"]);
        let (status, taken) = svc.api().hold(&event, "kate-h", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{taken}");

        // The same request again: the same answer, and nothing new anywhere.
        let (status, again) = svc
            .api()
            .place_order("buy", hold_text, "jack", unknown)
            .await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{again}");
        assert_eq!(again, refused);
        // Another token under the same key is another request.
        let (status, other) = svc
            .api()
            .place_order("buy", hold_text, "jack", fake_gateway::CAPTURE)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{other}");
        assert_eq!(error_code(&other), Some("idempotency_key_reused"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = OrderLog::read(&env.store, order).await;
        assert_eq!(after.order.len(), 2);
        assert!(after.payment.is_empty());
        let inventory = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            inventory.kinds_of_hold(&hold),
            ["SeatsHeld", "HoldCheckedOut", "HoldReleased"],
            "the seats returned once"
        );
        assert_eq!(fake.charge_calls(&key), 0);
        assert!(fake.intents(&key).is_empty());
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_placement_the_gateway_does_not_answer_places_nothing_and_its_retry_makes_one_intent() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        // The gateway takes the first creation and never answers it: the call times out.
        let svc = spawn(config(&env, &fake, 300, 5)).await;
        let (event, hold) = held(&svc, "lena", &["B-5"]).await;
        let hold_text = hold["hold_id"].as_str().unwrap();
        let token = fake_gateway::NO_ANSWER_AT_PLACEMENT;
        let (status, unanswered) = svc.api().place_order("buy", hold_text, "lena", token).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{unanswered}");
        assert_eq!(error_code(&unanswered), Some("payment_gateway_unavailable"));
        let order = order_of("lena", "buy");
        let key = order.to_string();
        assert!(
            OrderLog::read(&env.store, order).await.order.is_empty(),
            "no order"
        );
        assert_eq!(fake.intents(&key).len(), 1, "the gateway made the intent");

        // The retry with the same key gets the same intent from the gateway, and places it.
        let (status, placed) = svc.api().place_order("buy", hold_text, "lena", token).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        assert_eq!(order_id(placed["order_id"].as_str().unwrap()), order);
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        assert_eq!(fake.create_calls(&key), 2);
        assert_eq!(fake.intents(&key), [placed_ref(&log)], "one intent");
        assert_eq!(fake.charges(&key), 1);
        assert_eq!(log.count("OrderPlaced"), 1);
        let inventory = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            inventory.kinds_of_hold(&hold_id(hold_text)),
            ["SeatsHeld", "HoldCheckedOut", "SeatsSold"]
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_placed_with_a_token_before_references_is_still_charged_with_it() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let svc = spawn(config(&env, &fake, 5_000, 5)).await;
        let (event, hold) = held(&svc, "nina", &["C-5", "C-6"]).await;
        let hold = hold_id(hold["hold_id"].as_str().unwrap());
        let order = order_of("nina", "before-references");
        // What command-svc did then: check the hold out, and append `OrderPlaced` with the token.
        let checkout = InventoryCommand::CheckoutHold {
            hold_id: hold,
            order_id: order,
            customer_id: CustomerId::parse("nina").unwrap(),
        };
        let checked_out = svc
            .app_state
            .inventories
            .decide(event_id(&event), checkout, None)
            .await
            .expect("the hold is checked out");
        let expires_at = checked_out.hold.unwrap().expires_at;
        let placed = serde_json::json!({
            "type": "OrderPlaced",
            "data": {
                "order_id": order, "customer_id": "nina", "hold_id": hold,
                "event_id": event, "section_id": SEATED_SECTION, "seats": ["C-5", "C-6"],
                "quantity": 2, "unit_price_minor": 5000, "total_minor": 10000,
                "currency": "EUR", "payment_token": fake_gateway::CAPTURE,
                "expires_at": expires_at.format(&time::format_description::well_known::Rfc3339).unwrap(),
            },
        });
        let mut meta = tv_nats::CommitMeta::new("Order", "PlaceOrder");
        meta.correlation_id = Some(order.to_string());
        env.store
            .append(
                tv_nats::Stream::Orders,
                &order.to_string(),
                0,
                &meta,
                &[tv_nats::EventRecord::new(1, placed)],
            )
            .await
            .expect("the old OrderPlaced is stored");

        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
        let key = order.to_string();
        assert_eq!(fake.create_calls(&key), 0, "nothing prepared");
        assert_eq!(fake.charge_calls(&key), 1, "charged with its token");
        assert_eq!(fake.charges(&key), 1);
        assert_eq!(fake.intents(&key), [captured_ref(&log)]);
        assert_eq!(
            log.order_kinds(),
            ["OrderPlaced", "PaymentCaptured", "OrderConfirmed"]
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_binary_refuses_the_test_gateway_in_production_and_a_missing_gateway() {
    let binary =
        tokio::task::spawn_blocking(|| e2e::process::service_binary("command-svc", "command-svc"))
            .await
            .unwrap();
    let run = |gateway: Option<&str>, deployment: &str| {
        let mut command = std::process::Command::new(&binary);
        command
            .env_clear()
            .env("TV_JWT_SECRET", auth::testing::SECRET)
            .env("TV_ENV", deployment)
            .env("TV_COMMAND_ADDR", "127.0.0.1:0")
            // Nothing listens here: the gateway is refused before anything is connected.
            .env("NATS_URL", "nats://127.0.0.1:1");
        if let Some(gateway) = gateway {
            command.env("TV_PAYMENT_GATEWAY", gateway);
        }
        command.output().expect("command-svc runs")
    };
    let refused = run(Some("test"), "production");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("refused when TV_ENV=production"),
        "{stderr}"
    );

    let unnamed = run(None, "development");
    let stderr = String::from_utf8_lossy(&unnamed.stderr);
    assert!(!unnamed.status.success());
    assert!(stderr.contains("--payment-gateway"), "{stderr}");
}
