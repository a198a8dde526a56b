//! Holds that run out: their seats go back on sale at `expires_at` (lazily, with no timer at all),
//! the expiry reactor records `HoldExpired` on its own soon after, and a hold that was sold is
//! never expired.

use command_svc::Config;
use domain::ids::{CustomerId, EventId, OrderId};
use domain::inventory::{HoldStatus, InventoryCommand, InventoryEvent, SeatStatus};
use e2e::stream::{event_id, hold_id, section};
use e2e::SEATED_SECTION;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The shortest time to live an event accepts.
const TTL_SECONDS: u32 = 5;
/// How long after `expires_at` the reactor may take to record the expiry (timer rounding to the
/// second, the consumer's fetch, the append).
const REACTOR_GRACE: Duration = Duration::from_secs(15);

fn expires_at(hold: &Value) -> OffsetDateTime {
    let text = hold["expires_at"]
        .as_str()
        .expect("expires_at in a hold answer");
    OffsetDateTime::parse(text, &Rfc3339).expect("expires_at is RFC 3339")
}

/// Sleeps until `at` plus `margin` (wall clock).
async fn sleep_past(at: OffsetDateTime, margin: Duration) {
    let wait = (at - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
    tokio::time::sleep(Duration::try_from(wait).expect("a positive wait") + margin).await;
}

async fn place(
    svc: &CommandSvc,
    event: &str,
    customer: &str,
    seats: &[&str],
) -> (StatusCode, Value) {
    let body = HoldBody::seats(customer, SEATED_SECTION, seats);
    svc.api()
        .hold(event, &format!("{customer}-{}", seats.join("+")), &body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_hold_frees_its_seats_without_any_timer() {
    scenario(|env: TestEnv| async move {
        // No reactor: only the next decision can notice the expiry.
        let config = Config {
            expiry_reactor: false,
            ..Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let svc = CommandSvc::spawn_with(config, e2e::client::http_client()).await;
        let spec = EventSpec::seated().ttl(TTL_SECONDS);
        let event = svc
            .api()
            .create_on_sale("lazy-event", &spec.to_json())
            .await;

        let (status, alice) = place(&svc, &event, "alice", &["A-1", "A-2"]).await;
        assert_eq!(status, StatusCode::CREATED, "{alice}");
        let (status, early) = place(&svc, &event, "bob", &["A-2", "A-3"]).await;
        assert_eq!(status, StatusCode::CONFLICT, "A-2 is held: {early}");
        assert_eq!(error_code(&early), Some("seat_unavailable"));

        sleep_past(expires_at(&alice), Duration::from_millis(500)).await;
        let (status, bob) = place(&svc, &event, "bob", &["A-2", "A-3"]).await;
        assert_eq!(status, StatusCode::CREATED, "alice's hold ran out: {bob}");

        // The expiry is recorded by bob's decision, in the same commit and before his hold.
        let alice_hold = hold_id(alice["hold_id"].as_str().expect("hold_id"));
        let log = InventoryLog::read(&env.store, &event).await;
        let (_, commit) = log
            .commits
            .iter()
            .find(|(_, facts)| facts.iter().any(|f| f.kind() == "HoldExpired"))
            .expect("a HoldExpired for alice's hold");
        let kinds: Vec<_> = commit.iter().map(InventoryEvent::kind).collect();
        assert_eq!(kinds, ["HoldExpired", "SeatsHeld"]);
        assert_eq!(log.kinds_of_hold(&alice_hold), ["SeatsHeld", "HoldExpired"]);
        log.seat_owners();
        let state = log.fold();
        assert_eq!(
            state.hold(&alice_hold).expect("alice's hold").status,
            HoldStatus::Expired
        );

        // An expired hold cannot be released any more; the answer says why.
        let (status, refused) = svc
            .api()
            .release(alice["hold_id"].as_str().expect("hold_id"), "alice")
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(error_code(&refused), Some("invalid_state"));

        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reactor_expires_holds_but_never_sold_ones() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let spec = EventSpec::seated().ttl(TTL_SECONDS);
        let event = svc
            .api()
            .create_on_sale("timer-event", &spec.to_json())
            .await;
        let event_uuid: EventId = event_id(&event);

        let (status, alice) = place(&svc, &event, "alice", &["A-1", "A-2"]).await;
        assert_eq!(status, StatusCode::CREATED, "{alice}");
        let (status, carol) = place(&svc, &event, "carol", &["B-1", "B-2"]).await;
        assert_eq!(status, StatusCode::CREATED, "{carol}");
        let alice_hold = hold_id(alice["hold_id"].as_str().expect("hold_id"));
        let carol_hold = hold_id(carol["hold_id"].as_str().expect("hold_id"));

        // Carol checks out and pays: her hold is sold (the ordering saga sends these commands).
        let order = OrderId::new_random();
        let inventories = &svc.app_state.inventories;
        let checkout = InventoryCommand::CheckoutHold {
            hold_id: carol_hold,
            order_id: order,
            customer_id: CustomerId::parse("carol").expect("a customer id"),
        };
        inventories
            .decide(event_uuid, checkout, None)
            .await
            .expect("checking a live hold out");
        let sell = InventoryCommand::SellHold {
            hold_id: carol_hold,
            order_id: order,
        };
        let sold = inventories
            .decide(event_uuid, sell, None)
            .await
            .expect("selling a checked-out hold");
        assert_eq!(
            sold.hold.expect("the sold hold").status,
            HoldStatus::Sold { order_id: order }
        );

        // Nothing else is sent to the event: only the reactor can record alice's expiry.
        let deadline = expires_at(&alice) + REACTOR_GRACE;
        let found = e2e::eventually(
            REACTOR_GRACE + Duration::from_secs(TTL_SECONDS.into()),
            || {
                let store = env.store.clone();
                let event = event.clone();
                async move {
                    let log = InventoryLog::read(&store, &event).await;
                    (log.count("HoldExpired") > 0).then_some((log, OffsetDateTime::now_utc()))
                }
            },
        )
        .await;
        let (log, seen_at) = found.unwrap_or_else(|| {
            panic!("no HoldExpired within {REACTOR_GRACE:?} of alice's expiry (by {deadline})")
        });
        eprintln!(
            "HoldExpired seen {:.1} s after expires_at",
            (seen_at - expires_at(&alice)).as_seconds_f64()
        );
        let (_, commit) = log
            .commits
            .iter()
            .find(|(_, facts)| facts.iter().any(|f| f.kind() == "HoldExpired"))
            .expect("the expiry commit");
        assert!(
            commit.iter().all(|f| f.kind() == "HoldExpired"),
            "the reactor's commit records expiries only: {commit:?}"
        );
        assert_eq!(log.kinds_of_hold(&alice_hold), ["SeatsHeld", "HoldExpired"]);

        // Once carol's expiry time has passed too, a new decision expires whatever is due: her
        // sold hold is not among it, and her seats stay sold.
        sleep_past(expires_at(&carol), Duration::from_millis(500)).await;
        let (status, bob) = place(&svc, &event, "bob", &["A-1", "A-2"]).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "alice's seats are free again: {bob}"
        );
        let (status, dave) = place(&svc, &event, "dave", &["B-2", "B-3"]).await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "carol's seats are sold: {dave}"
        );
        assert_eq!(error_code(&dave), Some("seat_unavailable"));

        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            log.kinds_of_hold(&carol_hold),
            ["SeatsHeld", "HoldCheckedOut", "SeatsSold"]
        );
        assert_eq!(log.count("HoldExpired"), 1, "only alice's hold expired");
        log.seat_owners();
        let state = log.fold();
        let stalls = section(SEATED_SECTION);
        let now = OffsetDateTime::now_utc();
        for seat in ["B-1", "B-2"] {
            assert_eq!(
                state.seat_status(&stalls, &seat.parse().expect("label"), now),
                Some(SeatStatus::Sold(order)),
                "seat {seat}"
            );
        }
        assert_eq!(
            state.hold(&carol_hold).expect("carol's hold").status,
            HoldStatus::Sold { order_id: order }
        );

        // The timer is armed again for the next expiry: bob's hold runs out on its own too.
        let bob_hold = hold_id(bob["hold_id"].as_str().expect("hold_id"));
        let limit = REACTOR_GRACE + Duration::from_secs(TTL_SECONDS.into());
        let expired = e2e::eventually(limit, || {
            let store = env.store.clone();
            let event = event.clone();
            async move {
                let log = InventoryLog::read(&store, &event).await;
                (log.kinds_of_hold(&bob_hold).contains(&"HoldExpired")).then_some(())
            }
        })
        .await;
        assert!(
            expired.is_some(),
            "no HoldExpired for the second hold: the timer was not set again after firing"
        );
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            log.kinds_of_hold(&carol_hold),
            ["SeatsHeld", "HoldCheckedOut", "SeatsSold"]
        );

        svc.shutdown().await;
    })
    .await;
}

/// How long a restarted reactor may take to record an expiry whose fired timer a crashed one had
/// in hand: well above the reactor's one-second ack wait, well below the 30 s it used to cost.
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timer_in_the_hands_of_a_crashed_reactor_is_recorded_within_seconds_of_a_restart() {
    scenario(|env: TestEnv| async move {
        // No reactor yet: the timer fires into the consumer and waits there.
        let asleep = Config {
            expiry_reactor: false,
            ..Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let svc = CommandSvc::spawn_with(asleep, e2e::client::http_client()).await;
        let spec = EventSpec::seated().ttl(TTL_SECONDS);
        let event = svc
            .api()
            .create_on_sale("crash-timer", &spec.to_json())
            .await;
        let (status, alice) = place(&svc, &event, "alice", &["A-1", "A-2"]).await;
        assert_eq!(status, StatusCode::CREATED, "{alice}");
        sleep_past(expires_at(&alice), Duration::from_millis(200)).await;
        svc.shutdown().await;

        // The crashed reactor: the fired timer delivered to it, never acked.
        {
            let timers = tv_nats::Timers::new(env.store.clone());
            let options = tv_nats::DurableOptions {
                explicit_acks: false,
                ack_wait: command_svc::expiry::ACK_WAIT,
            };
            let dead = tv_nats::Durable::ensure_with(
                &env.store,
                tv_nats::Stream::Timers,
                "expiry-reactor",
                Some(timers.fired_wildcard()),
                options,
            )
            .await
            .expect("the reactor's consumer");
            let in_hand = dead.fetch(10, Duration::from_secs(10)).await.unwrap();
            assert_eq!(in_hand.len(), 1, "the timer fired");
        }
        assert_eq!(
            InventoryLog::read(&env.store, &event)
                .await
                .count("HoldExpired"),
            0
        );

        let restarted = std::time::Instant::now();
        let svc = CommandSvc::spawn(&env.prefix).await;
        let recorded = e2e::eventually(RECOVERY_LIMIT, || {
            let store = env.store.clone();
            let event = event.clone();
            async move {
                (InventoryLog::read(&store, &event)
                    .await
                    .count("HoldExpired")
                    > 0)
                .then_some(())
            }
        })
        .await;
        assert!(
            recorded.is_some(),
            "no HoldExpired within {RECOVERY_LIMIT:?} of the restart"
        );
        eprintln!(
            "HoldExpired recorded {:?} after the restart",
            restarted.elapsed()
        );
        let alice_hold = hold_id(alice["hold_id"].as_str().expect("hold_id"));
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.kinds_of_hold(&alice_hold), ["SeatsHeld", "HoldExpired"]);
        svc.shutdown().await;
    })
    .await;
}
