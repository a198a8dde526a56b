//! An operator cancels an event with paid orders, unpaid holds and a waiting list, and command-svc
//! is killed with SIGKILL halfway through settling it. After a restart every paid order is
//! cancelled once and refunded once at the gateway, every seat comes back once, every live hold
//! is released once, nothing is held or sold after the cancellation, and the retried
//! cancellation, a late hold and a customer's attempt change nothing.

use domain::ids::OrderId;
use domain::inventory::InventoryEvent;
use domain::ordering::{OrderEvent, OrderStatus};
use e2e::fake_gateway::{self, FakeGateway};
use e2e::orders::{order_id, OrderLog};
use e2e::process::{fault_http_client, CommandSvcProcess};
use e2e::{error_code, scenario, Api, EventSpec, HoldBody, InventoryLog, TestEnv, GA_SECTION};
use futures::StreamExt;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Paid orders of one ticket each.
const PAID: usize = 500;
/// Holds nobody checked out: released by the cancellation itself.
const LIVE_HOLDS: usize = 40;
/// The kill comes once this many refunds were made at the gateway.
const KILL_AFTER_REFUNDS: usize = 150;
const SETTLED: Duration = Duration::from_secs(90);
/// Requests sent at once while setting the sale up.
const CONCURRENCY: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_event_refunds_every_order_once_across_a_kill() {
    scenario(|env: TestEnv| async move {
        let fake = FakeGateway::start().await;
        let log_path =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cancel-{}.log", env.prefix));
        eprintln!("command-svc log: {}", log_path.display());
        let settings = [
            ("TV_PAYMENT_GATEWAY", "http"),
            ("TV_PAYMENT_GATEWAY_URL", fake.base_url.as_str()),
            ("TV_PAYMENT_API_KEY", fake_gateway::API_KEY),
            ("TV_PAYMENT_WEBHOOK_SECRET", fake_gateway::WEBHOOK_SECRET),
        ];
        let mut svc =
            CommandSvcProcess::start_with(&e2e::nats_url(), &env.prefix, &log_path, &settings)
                .await;
        let api = Api::new(fault_http_client(), &svc.base_url);
        let capacity = (PAID + LIVE_HOLDS) as u32;
        let event = api
            .create_on_sale("cancel-me", &EventSpec::ga(capacity).to_json())
            .await;

        // The sale: PAID customers buy one ticket each, LIVE_HOLDS more only hold one.
        let started = Instant::now();
        let orders: Vec<OrderId> = futures::stream::iter(0..PAID)
            .map(|i| buy(&api, &event, format!("buyer-{i}")))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let live: Vec<String> = futures::stream::iter(0..LIVE_HOLDS)
            .map(|i| hold(&api, &event, format!("holder-{i}")))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        wait_until(&env, &orders, |s| s == OrderStatus::Confirmed, "confirmed").await;
        eprintln!("{PAID} orders confirmed in {:?}", started.elapsed());
        let sold_out = InventoryLog::read(&env.store, &event).await;
        assert_eq!(sold_out.count("SeatsSold"), PAID);

        // A customer may not cancel the event.
        let (status, body) = api
            .as_customer("buyer-0")
            .post(
                &format!("/events/{event}/cancel"),
                None,
                &serde_json::Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            sold_out.last_sequence,
            "a refused cancellation appends nothing"
        );

        let (status, cancelled) = api
            .post(
                &format!("/events/{event}/cancel"),
                None,
                &serde_json::Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{cancelled}");
        assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

        // Nothing is held once the answer came.
        let (status, late) = api
            .hold(
                &event,
                "late",
                &HoldBody::quantity("late-comer", GA_SECTION, 1),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{late}");
        assert_eq!(error_code(&late), Some("sale_closed"), "{late}");

        // Kill -9 halfway through the refunds, and start again.
        let waiting = Instant::now();
        while fake.refunds_made() < KILL_AFTER_REFUNDS {
            assert!(
                waiting.elapsed() < SETTLED,
                "only {} refunds after {SETTLED:?}; log:\n{}",
                fake.refunds_made(),
                svc.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        svc.kill();
        let at_kill = fake.refunds_made();
        eprintln!("killed after {at_kill} refunds");
        assert!(at_kill < PAID, "the kill came after every refund");
        tokio::time::sleep(Duration::from_millis(300)).await;
        svc.restart().await;

        let restarted = Instant::now();
        wait_until(&env, &orders, |s| s == OrderStatus::Refunded, "refunded").await;
        eprintln!(
            "every order refunded {:?} after the restart",
            restarted.elapsed()
        );

        // Cancelling again answers the same and appends nothing to the inventory.
        let before = InventoryLog::read(&env.store, &event).await.last_sequence;
        let (status, again) = api
            .post(
                &format!("/events/{event}/cancel"),
                None,
                &serde_json::Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{again}");
        assert_eq!(again["status"], "cancelled");

        // Every order: cancelled for the event once, refunded once, at the gateway once.
        assert_eq!(
            fake.refunds_made(),
            PAID,
            "one refund per order at the gateway"
        );
        for order in &orders {
            let log = OrderLog::read(&env.store, *order).await;
            let cancellations: Vec<_> = log
                .order
                .iter()
                .filter_map(|fact| match fact {
                    OrderEvent::OrderCancelled {
                        refund_due,
                        event_cancelled,
                    } => Some((*refund_due, *event_cancelled)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                cancellations,
                [(true, true)],
                "{order}: {:?}",
                log.order_kinds()
            );
            assert_eq!(log.count("OrderRefunded"), 1, "{order}");
            let placed = log.order_state().order().cloned().unwrap();
            let intent = match &placed.payment_means {
                Some(domain::ordering::PaymentMeans::GatewayRef(r)) => r.clone(),
                other => panic!("{order} was placed with {other:?}"),
            };
            assert_eq!(
                fake.refunded(&intent),
                placed.total_minor,
                "{order} refunded its price once"
            );
        }

        // Every seat back once, every live hold released once, nothing taken after the end.
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            log.last_sequence, before,
            "the retried cancellation appended nothing"
        );
        let mut returned: HashMap<OrderId, usize> = HashMap::new();
        let mut after_cancel = false;
        for fact in log.facts() {
            match fact {
                InventoryEvent::SaleCancelled { .. } => after_cancel = true,
                InventoryEvent::SeatsReturned { order_id, .. } => {
                    *returned.entry(*order_id).or_default() += 1
                }
                InventoryEvent::SeatsHeld { .. }
                | InventoryEvent::SeatsSold { .. }
                | InventoryEvent::HoldCheckedOut { .. } => {
                    assert!(!after_cancel, "{} after the cancellation", fact.kind())
                }
                _ => {}
            }
        }
        assert_eq!(log.count("SaleCancelled"), 1);
        assert_eq!(returned.len(), PAID);
        assert!(returned.values().all(|n| *n == 1), "a seat came back twice");
        for hold in &live {
            let kinds = log.kinds_of_hold(&e2e::stream::hold_id(hold));
            assert_eq!(kinds, ["SeatsHeld", "HoldReleased"], "{hold}");
        }
        let inventory = log.fold();
        let now = time::OffsetDateTime::now_utc();
        let floor = &inventory.availability(now)[0];
        assert_eq!((floor.held, floor.sold), (0, 0), "{floor:?}");
        assert!(inventory.orders_to_settle().is_empty());
        svc.stop();
    })
    .await;
}

/// One customer's purchase of one ticket: the order.
async fn buy(api: &Api, event: &str, customer: String) -> OrderId {
    let hold_id = hold(api, event, customer.clone()).await;
    let (status, placed) = api
        .as_customer(&customer)
        .place_order(
            &format!("o-{customer}"),
            &hold_id,
            &customer,
            fake_gateway::CAPTURE,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
    order_id(placed["order_id"].as_str().unwrap())
}

async fn hold(api: &Api, event: &str, customer: String) -> String {
    let body = HoldBody::quantity(&customer, GA_SECTION, 1);
    let (status, hold) = api
        .as_customer(&customer)
        .hold(event, &format!("h-{customer}"), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    hold["hold_id"].as_str().unwrap().to_owned()
}

/// Waits until every order's status passes `done`.
async fn wait_until(
    env: &TestEnv,
    orders: &[OrderId],
    done: impl Fn(OrderStatus) -> bool,
    what: &str,
) {
    let deadline = Instant::now() + SETTLED;
    for order in orders {
        loop {
            let status = OrderLog::read(&env.store, *order).await.status();
            if status.is_some_and(&done) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "order {order} is {status:?}, not {what}, after {SETTLED:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
