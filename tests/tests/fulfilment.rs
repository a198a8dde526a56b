//! The fulfilment process manager under the faults it is built for: a crash between its steps, a
//! payment that comes after the hold ran out, an order nobody paid in time, a customer cancelling
//! while the reactor confirms, two instances and a flaky gateway doing everything twice. In every
//! case each fact is recorded once and money moves once: checked on the order, payment and
//! inventory streams and in the test gateway's ledger.

use command_svc::cold::Causes;
use command_svc::fulfilment::HaltPoint;
use command_svc::payments::{TestGateway, TestGatewaySettings};
use command_svc::Config;
use domain::ids::OrderId;
use domain::inventory::{HoldStatus, SeatStatus};
use domain::ordering::OrderStatus;
use e2e::orders::{order_id, wait_for_order, OrderLog};
use e2e::stream::{hold_id, section};
use e2e::{scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv, SEATED_SECTION};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const SETTLED: Duration = Duration::from_secs(30);
/// How long a restarted instance may take to finish what a crashed one left: well above the
/// default one-second ack wait, well below the 30 s a crash used to cost.
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

/// The defaults, the reactor's ack wait included.
fn config(env: &TestEnv) -> Config {
    Config::for_test(&e2e::nats_url(), &env.prefix)
}

async fn spawn(config: Config, gateway: &Arc<TestGateway>) -> CommandSvc {
    CommandSvc::spawn_with_gateway(config, e2e::client::http_client(), gateway.clone()).await
}

/// A hold of `seats` in the stalls of `event`, for `customer`: its answer.
async fn hold(svc: &CommandSvc, event: &str, customer: &str, seats: &[&str]) -> Value {
    let body = HoldBody::seats(customer, SEATED_SECTION, seats);
    let (status, hold) = svc
        .api()
        .hold(event, &format!("{customer}-{}", seats.join("+")), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    hold
}

/// `POST /orders` for a hold, which must be accepted: the order.
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

fn expires_at(hold: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(hold["expires_at"].as_str().unwrap(), &Rfc3339).unwrap()
}

async fn sleep_past(at: OffsetDateTime, margin: Duration) {
    let wait = (at - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
    tokio::time::sleep(Duration::try_from(wait).unwrap() + margin).await;
}

/// Every fact of an order and its payment, exactly once each.
fn assert_once(log: &OrderLog, order: &[&str], payment: &[&str]) {
    assert_eq!(log.order_kinds(), order, "order facts");
    assert_eq!(log.payment_kinds(), payment, "payment facts");
}

async fn crash_then_restart(halt: HaltPoint, recorded: &'static [&'static str]) {
    scenario(move |env: TestEnv| async move {
        let gateway = Arc::new(TestGateway::default());
        let crashing = Config {
            fulfilment_halt: Some(halt),
            ..config(&env)
        };
        let svc = spawn(crashing, &gateway).await;
        let event = svc
            .api()
            .create_on_sale("crash", &EventSpec::seated().to_json())
            .await;
        let held = hold(&svc, &event, "alice", &["E-1", "E-2"]).await;
        let order = order(&svc, &held, "alice", "tok_ok").await;

        // The reactor stops at the hook: the money is taken, the order is not confirmed.
        let stopped = e2e::eventually(SETTLED, || {
            let gateway = gateway.clone();
            let store = env.store.clone();
            async move {
                let log = OrderLog::read(&store, order).await;
                (gateway.charges_captured(order) == 1 && log.order_kinds() == recorded)
                    .then_some(log)
            }
        })
        .await;
        assert!(stopped.is_some(), "the reactor reached the hook");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let log = OrderLog::read(&env.store, order).await;
        assert_eq!(log.order_kinds(), recorded, "nothing after the hook");
        svc.shutdown().await;

        // A new instance, same gateway: the unacked commit comes back and the order completes,
        // within seconds of the restart.
        let restarted = std::time::Instant::now();
        let svc = spawn(config(&env), &gateway).await;
        let log = wait_for_order(&env.store, order, RECOVERY_LIMIT, |s| {
            s == OrderStatus::Confirmed
        })
        .await;
        eprintln!("confirmed {:?} after the restart", restarted.elapsed());
        assert_once(
            &log,
            &["OrderPlaced", "PaymentCaptured", "OrderConfirmed"],
            &["ChargeCaptured"],
        );
        assert_eq!(gateway.charges_captured(order), 1);
        let inventory = InventoryLog::read(&env.store, &event).await;
        let hold = hold_id(held["hold_id"].as_str().unwrap());
        assert_eq!(
            inventory.kinds_of_hold(&hold),
            ["SeatsHeld", "HoldCheckedOut", "SeatsSold"]
        );
        // Whatever is delivered again later changes nothing.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(OrderLog::read(&env.store, order).await.order.len(), 3);
        assert_eq!(
            InventoryLog::read(&env.store, &event)
                .await
                .count("SeatsSold"),
            1
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_between_the_capture_and_the_seat_sale_completes_once_after_a_restart() {
    crash_then_restart(HaltPoint::AfterCapture, &["OrderPlaced", "PaymentCaptured"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_between_the_charge_and_its_record_charges_once_after_a_restart() {
    crash_then_restart(HaltPoint::AfterCharge, &["OrderPlaced"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_nobody_paid_before_its_deadline_expires_without_a_charge() {
    scenario(|env: TestEnv| async move {
        let gateway = Arc::new(TestGateway::default());
        let asleep = Config {
            fulfilment_reactor: false,
            ..config(&env)
        };
        let svc = spawn(asleep, &gateway).await;
        let event = svc
            .api()
            .create_on_sale("late", &EventSpec::seated().ttl(5).to_json())
            .await;
        let held = hold(&svc, &event, "dave", &["F-1"]).await;
        let order = order(&svc, &held, "dave", "tok_ok").await;
        sleep_past(expires_at(&held), Duration::from_millis(500)).await;
        svc.shutdown().await;

        // The reactor wakes up after the deadline: the gateway never saw the order, so it expires.
        let svc = spawn(config(&env), &gateway).await;
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Expired).await;
        assert_once(&log, &["OrderPlaced", "OrderExpired"], &[]);
        assert_eq!(gateway.charge_calls(order), 0);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_after_the_hold_ran_out_is_sold_if_the_seats_are_free_else_refunded() {
    scenario(|env: TestEnv| async move {
        // Charges take 7 s; holds live 5 s.
        let gateway = Arc::new(TestGateway::new(TestGatewaySettings {
            slow_delay: Duration::from_secs(7),
            ..TestGatewaySettings::default()
        }));
        let svc = spawn(config(&env), &gateway).await;
        let event = svc
            .api()
            .create_on_sale("slow", &EventSpec::seated().ttl(5).to_json())
            .await;
        let alice_hold = hold(&svc, &event, "alice", &["A-1", "A-2"]).await;
        let bob_hold = hold(&svc, &event, "bob", &["B-1", "B-2"]).await;
        let alice = order(&svc, &alice_hold, "alice", "tok_slow").await;
        let bob = order(&svc, &bob_hold, "bob", "tok_slow").await;

        // Bob's hold runs out while his payment is under way; carol takes one of his seats.
        sleep_past(expires_at(&bob_hold), Duration::from_millis(300)).await;
        hold(&svc, &event, "carol", &["B-1"]).await;

        // Alice's seats are still free: sold to her late payment.
        let log = wait_for_order(&env.store, alice, SETTLED, |s| s == OrderStatus::Confirmed).await;
        assert_once(
            &log,
            &["OrderPlaced", "PaymentCaptured", "OrderConfirmed"],
            &["ChargeCaptured"],
        );
        // Bob's are not: his order expires and his money goes back, once.
        let log = wait_for_order(&env.store, bob, SETTLED, |s| s == OrderStatus::Refunded).await;
        assert_once(
            &log,
            &[
                "OrderPlaced",
                "PaymentCaptured",
                "OrderExpired",
                "OrderRefunded",
            ],
            &["ChargeCaptured", "RefundIssued", "RefundSent"],
        );
        assert_eq!(gateway.refunded_minor(bob), gateway.captured_minor(bob));
        assert_eq!(gateway.refunds_made(bob), 1);
        assert_eq!(gateway.refunds_made(alice), 0);

        let inventory = InventoryLog::read(&env.store, &event).await;
        inventory.seat_owners();
        let state = inventory.fold();
        let alice_hold_id = hold_id(alice_hold["hold_id"].as_str().unwrap());
        assert_eq!(
            state.hold(&alice_hold_id).unwrap().status,
            HoldStatus::Sold { order_id: alice }
        );
        let bob_hold_id = hold_id(bob_hold["hold_id"].as_str().unwrap());
        assert_eq!(
            inventory.kinds_of_hold(&bob_hold_id),
            ["SeatsHeld", "HoldCheckedOut", "HoldExpired"]
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelling_gives_the_seats_and_the_money_back_once() {
    scenario(|env: TestEnv| async move {
        let gateway = Arc::new(TestGateway::new(TestGatewaySettings {
            slow_delay: Duration::from_millis(1_500),
            ..TestGatewaySettings::default()
        }));
        let svc = spawn(config(&env), &gateway).await;
        let event = svc
            .api()
            .create_on_sale("cancel", &EventSpec::seated().to_json())
            .await;

        // A confirmed order, cancelled: refunded and its seats back on sale.
        let held = hold(&svc, &event, "alice", &["G-1", "G-2"]).await;
        let confirmed = order(&svc, &held, "alice", "tok_ok").await;
        wait_for_order(&env.store, confirmed, SETTLED, |s| {
            s == OrderStatus::Confirmed
        })
        .await;
        // Someone else's order is answered as one that does not exist.
        let (status, refused) = svc
            .api()
            .cancel_order(&confirmed.to_string(), "mallory")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
        assert_eq!(
            e2e::error_code(&refused),
            Some("unknown_order"),
            "{refused}"
        );
        let (status, cancelled) = svc
            .api()
            .cancel_order(&confirmed.to_string(), "alice")
            .await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "refunded", "{cancelled}");
        let (status, again) = svc
            .api()
            .cancel_order(&confirmed.to_string(), "alice")
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["status"], "refunded");
        let log = OrderLog::read(&env.store, confirmed).await;
        assert_once(
            &log,
            &[
                "OrderPlaced",
                "PaymentCaptured",
                "OrderConfirmed",
                "OrderCancelled",
                "OrderRefunded",
            ],
            &["ChargeCaptured", "RefundIssued", "RefundSent"],
        );
        assert_eq!(gateway.refunded_minor(confirmed), 10_000);
        assert_eq!(gateway.refunds_made(confirmed), 1);
        hold(&svc, &event, "bob", &["G-1", "G-2"]).await;

        // A pending order, cancelled while its charge is under way: the charge that lands is
        // refunded, and the hold goes back.
        let held = hold(&svc, &event, "carol", &["H-1"]).await;
        let pending = order(&svc, &held, "carol", "tok_slow").await;
        // Cancel only once the (slow) charge has reached the gateway: under load the reactor may
        // not have started it yet, and an order cancelled before its charge is simply cancelled.
        let charging = e2e::eventually(SETTLED, || {
            let gateway = gateway.clone();
            async move { (gateway.charge_calls(pending) > 0).then_some(()) }
        })
        .await;
        assert!(charging.is_some(), "the reactor starts charging the order");
        let (status, cancelled) = svc.api().cancel_order(&pending.to_string(), "carol").await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        let log =
            wait_for_order(&env.store, pending, SETTLED, |s| s == OrderStatus::Refunded).await;
        assert_once(
            &log,
            &[
                "OrderPlaced",
                "OrderCancelled",
                "PaymentCaptured",
                "OrderRefunded",
            ],
            &["ChargeCaptured", "RefundIssued", "RefundSent"],
        );
        assert_eq!(
            gateway.refunded_minor(pending),
            gateway.captured_minor(pending)
        );
        let hold = hold_id(held["hold_id"].as_str().unwrap());
        let released = e2e::eventually(SETTLED, || {
            let store = env.store.clone();
            let event = event.clone();
            async move {
                let log = InventoryLog::read(&store, &event).await;
                (log.kinds_of_hold(&hold).last() == Some(&"HoldReleased")).then_some(())
            }
        })
        .await;
        assert!(
            released.is_some(),
            "the cancelled order's hold is given back"
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_racing_the_confirmation_ends_consistent() {
    scenario(|env: TestEnv| async move {
        let seed = e2e::seed(11);
        // Gateway calls take a little while, so that cancels land at every stage.
        let gateway = Arc::new(TestGateway::new(TestGatewaySettings {
            latency: Duration::from_millis(25),
            ..TestGatewaySettings::default()
        }));
        let svc = spawn(config(&env), &gateway).await;
        let event = svc
            .api()
            .create_on_sale("race", &EventSpec::seated().limit(20).to_json())
            .await;
        let rows = ["A", "B", "C", "D", "E", "F", "G", "H"];
        let mut holds = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let customer = format!("racer-{i}");
            let seats = [format!("{row}-1"), format!("{row}-2")];
            let seats: Vec<&str> = seats.iter().map(String::as_str).collect();
            holds.push((
                customer.clone(),
                hold(&svc, &event, &customer, &seats).await,
            ));
        }
        let api = svc.api().clone();
        let races = holds.iter().enumerate().map(|(i, (customer, held))| {
            let api = api.clone();
            let customer = customer.clone();
            let hold_id = held["hold_id"].as_str().unwrap().to_owned();
            async move {
                let (status, placed) = api
                    .place_order(&format!("o-{customer}"), &hold_id, &customer, "tok_ok")
                    .await;
                assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
                let order = placed["order_id"].as_str().unwrap().to_owned();
                // A different head start for each racer.
                tokio::time::sleep(Duration::from_millis((seed + i as u64 * 17) % 90)).await;
                for _ in 0..200 {
                    let (status, answer) = api.cancel_order(&order, &customer).await;
                    match status {
                        StatusCode::OK => return order_id(&order),
                        // Paid, tickets not issued yet: try again once confirmed.
                        StatusCode::CONFLICT => tokio::time::sleep(Duration::from_millis(25)).await,
                        other => panic!("cancel answered {other}: {answer}"),
                    }
                }
                panic!("order {order} could never be cancelled");
            }
        });
        let orders = futures::future::join_all(races).await;

        let mut refunded = 0;
        for order in &orders {
            let log = wait_for_order(&env.store, *order, SETTLED, |s| {
                matches!(s, OrderStatus::Cancelled | OrderStatus::Refunded)
            })
            .await;
            // Let the reactor and any late charge finish, then read the final facts.
            let log = if gateway.charges_captured(*order) == 1 {
                wait_for_order(&env.store, *order, SETTLED, |s| s == OrderStatus::Refunded).await
            } else {
                log
            };
            assert!(log.count("OrderCancelled") == 1, "{:?}", log.order_kinds());
            assert!(log.count("OrderRefunded") <= 1, "{:?}", log.order_kinds());
            assert!(log.count("RefundIssued") <= 1, "{:?}", log.payment_kinds());
            assert_eq!(
                gateway.refunded_minor(*order),
                gateway.captured_minor(*order)
            );
            assert!(gateway.refunds_made(*order) <= 1);
            if log.count("OrderConfirmed") == 1 {
                refunded += 1;
                assert_eq!(log.status(), Some(OrderStatus::Refunded));
            }
        }
        eprintln!(
            "{refunded} of {} orders were confirmed before their cancel",
            orders.len()
        );

        // Every seat is back on sale, and no seat was returned twice.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let inventory = InventoryLog::read(&env.store, &event).await;
        inventory.seat_owners();
        let state = inventory.fold();
        let now = OffsetDateTime::now_utc();
        for row in rows {
            for n in 1..=2 {
                let seat = format!("{row}-{n}").parse().unwrap();
                assert_eq!(
                    state.seat_status(&section(SEATED_SECTION), &seat, now),
                    Some(SeatStatus::Available),
                    "{seat}"
                );
            }
        }
        assert_eq!(
            inventory.count("SeatsReturned"),
            inventory.count("SeatsSold")
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_commands_and_gateway_answers_never_charge_refund_or_ticket_twice() {
    scenario(|env: TestEnv| async move {
        // One flaky gateway behind two instances: a third of the calls lose the request or the
        // answer, so every step is retried, by both reactors and by the test itself.
        let gateway = Arc::new(TestGateway::new(TestGatewaySettings {
            failure_rate: 0.3,
            ..TestGatewaySettings::default()
        }));
        let first = spawn(config(&env), &gateway).await;
        let second = spawn(config(&env), &gateway).await;
        let event = first
            .api()
            .create_on_sale("twice", &EventSpec::seated().to_json())
            .await;
        let mut orders = Vec::new();
        for (i, row) in ["A", "B", "C", "D", "E", "F"].iter().enumerate() {
            let customer = format!("twin-{i}");
            let seats = [format!("{row}-5"), format!("{row}-6")];
            let seats: Vec<&str> = seats.iter().map(String::as_str).collect();
            let held = hold(&first, &event, &customer, &seats).await;
            // The same request four times at once, through both instances: one order.
            let hold_id = held["hold_id"].as_str().unwrap().to_owned();
            let requests = (0..4).map(|n| {
                let api = if n % 2 == 0 {
                    first.api()
                } else {
                    second.api()
                }
                .clone();
                let (hold_id, customer) = (hold_id.clone(), customer.clone());
                async move {
                    api.place_order("same-key", &hold_id, &customer, "tok_ok")
                        .await
                }
            });
            let answers = futures::future::join_all(requests).await;
            for (status, answer) in &answers {
                assert_eq!(*status, StatusCode::ACCEPTED, "{answer}");
                assert_eq!(answer, &answers[0].1, "every retry gets the first answer");
            }
            orders.push((order_id(answers[0].1["order_id"].as_str().unwrap()), held));
        }
        // Both instances' process managers advance every order again, concurrently with the
        // reactors: duplicate deliveries and duplicate gateway answers.
        let pushes = orders.iter().flat_map(|(order, _)| {
            [&first, &second].map(|svc| {
                let fulfilment = svc.app_state.orders.fulfilment().clone();
                let order = *order;
                async move {
                    for _ in 0..3 {
                        let _ = fulfilment.advance(order, &Causes::default()).await;
                    }
                }
            })
        });
        futures::future::join_all(pushes).await;

        let mut codes = HashSet::new();
        for (order, held) in &orders {
            let log =
                wait_for_order(&env.store, *order, SETTLED, |s| s == OrderStatus::Confirmed).await;
            assert_once(
                &log,
                &["OrderPlaced", "PaymentCaptured", "OrderConfirmed"],
                &["ChargeCaptured"],
            );
            assert_eq!(gateway.charges_captured(*order), 1);
            let state = log.order_state();
            for ticket in &state.order().unwrap().tickets {
                assert!(
                    codes.insert(ticket.code.clone()),
                    "ticket {} twice",
                    ticket.code
                );
            }
            let hold = hold_id(held["hold_id"].as_str().unwrap());
            let inventory = InventoryLog::read(&env.store, &event).await;
            assert_eq!(
                inventory.kinds_of_hold(&hold),
                ["SeatsHeld", "HoldCheckedOut", "SeatsSold"]
            );
        }
        assert_eq!(codes.len(), 12);

        // Cancelled through both instances at once, and advanced again: one refund, one return.
        let (order, _) = orders[0];
        let customer = "twin-0";
        let cancels = [first.api().clone(), second.api().clone()]
            .map(|api| async move { api.cancel_order(&order.to_string(), customer).await });
        for (status, answer) in futures::future::join_all(cancels).await {
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        for _ in 0..3 {
            let _ = first
                .app_state
                .orders
                .fulfilment()
                .advance(order, &Causes::default())
                .await;
        }
        let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Refunded).await;
        assert_once(
            &log,
            &[
                "OrderPlaced",
                "PaymentCaptured",
                "OrderConfirmed",
                "OrderCancelled",
                "OrderRefunded",
            ],
            &["ChargeCaptured", "RefundIssued", "RefundSent"],
        );
        assert_eq!(gateway.refunds_made(order), 1);
        assert_eq!(gateway.refunded_minor(order), gateway.captured_minor(order));
        let inventory = InventoryLog::read(&env.store, &event).await;
        assert_eq!(inventory.count("SeatsReturned"), 1);
        let retried: u32 = orders.iter().map(|(o, _)| gateway.charge_calls(*o)).sum();
        eprintln!("{retried} charge calls for {} orders", orders.len());
        first.shutdown().await;
        second.shutdown().await;
    })
    .await;
}
