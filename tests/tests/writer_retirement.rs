//! Idle writers retire: after `TV_WRITER_IDLE_SECS` without a command, an event's writer saves a
//! snapshot and stops, and the next command restores it from that snapshot. Nothing it knew is
//! lost (a retried hold gets its first answer), the expiries of its holds are still recorded (the
//! timer fires, the expiry reactor starts a writer), and a command that races the retirement is
//! served once, by the retiring writer or by its successor.

use command_svc::inventory::{Decided, Inventories};
use command_svc::Config;
use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, SectionId};
use domain::inventory::{HoldRequest, InventoryCommand, Selection};
use e2e::stream::event_id;
use e2e::{
    eventually, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv, GA_SECTION,
};
use reqwest::StatusCode;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tv_nats::Snapshots;

fn config(env: &TestEnv, idle_secs: f64) -> Config {
    Config {
        writer_idle_secs: idle_secs,
        ..Config::for_test(&e2e::nats_url(), &env.prefix)
    }
}

async fn retired(inventories: &Inventories) -> bool {
    eventually(Duration::from_secs(10), || async {
        (inventories.writers() == 0).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_writer_retires_with_a_snapshot_and_its_successor_answers_retries_the_same() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn_with(config(&env, 0.3), e2e::client::http_client()).await;
        let api = svc.api();
        let event = api
            .create_on_sale("retire", &EventSpec::ga(100).limit(10).to_json())
            .await;
        let kept = HoldBody::quantity("alice", GA_SECTION, 2);
        let (status, first) = api.hold(&event, "alice-1", &kept).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let given_back = HoldBody::quantity("bob", GA_SECTION, 3);
        let (status, bobs) = api.hold(&event, "bob-1", &given_back).await;
        assert_eq!(status, StatusCode::CREATED, "{bobs}");
        let hold_id = bobs["hold_id"].as_str().expect("a hold id");
        let (status, released) = api.release(hold_id, "bob").await;
        assert_eq!(status, StatusCode::OK, "{released}");

        let inventories = svc.app_state.inventories.clone();
        assert!(retired(&inventories).await, "the writer never retired");
        let log = InventoryLog::read(&env.store, &event).await;
        let snapshots = Snapshots::open(&env.store)
            .await
            .expect("the snapshot bucket");
        let (at, _) = snapshots
            .load(&format!("inventory.{event}"))
            .await
            .expect("a snapshot read")
            .expect("a snapshot saved on retirement");
        assert_eq!(at, log.last_sequence, "the snapshot is of the last commit");

        // The successor restores from it and answers retries as the first writer did.
        let (status, again) = api.hold(&event, "alice-1", &kept).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again, first);
        let (status, again) = api.hold(&event, "bob-1", &given_back).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again["status"], "released");
        assert_eq!(again["position"], bobs["position"]);
        let (status, refused) = api
            .hold(&event, "bob-1", &HoldBody::quantity("bob", GA_SECTION, 1))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let (status, new) = api.hold(&event, "carol-1", &kept_for("carol")).await;
        assert_eq!(status, StatusCode::CREATED, "{new}");
        assert_eq!(inventories.writers(), 1);
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("SeatsHeld"), 3);

        svc.shutdown().await;
    })
    .await;
}

fn kept_for(customer: &str) -> serde_json::Value {
    HoldBody::quantity(customer, GA_SECTION, 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_holds_of_a_retired_writer_still_expire() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn_with(config(&env, 0.3), e2e::client::http_client()).await;
        let api = svc.api();
        let event = api
            .create_on_sale("retire-expiry", &EventSpec::ga(100).ttl(5).to_json())
            .await;
        for customer in ["alice", "bob", "carol"] {
            let body = HoldBody::quantity(customer, GA_SECTION, 1);
            let (status, answer) = api.hold(&event, &format!("{customer}-1"), &body).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
        }
        let inventories = svc.app_state.inventories.clone();
        assert!(retired(&inventories).await, "the writer never retired");
        let expired = eventually(Duration::from_secs(20), || async {
            let log = InventoryLog::read(&env.store, &event).await;
            (log.count("HoldExpired") == 3).then_some(())
        })
        .await;
        assert!(
            expired.is_some(),
            "the expiries of a retired writer's holds were not recorded"
        );

        svc.shutdown().await;
    })
    .await;
}

fn place(event: EventId, customer: &str, key: &str) -> InventoryCommand {
    let customer = CustomerId::parse(customer).expect("a customer id");
    let key = IdempotencyKey::parse(key).expect("a key");
    InventoryCommand::PlaceHold(HoldRequest {
        hold_id: HoldId::derive(event, &customer, &key),
        customer_id: customer,
        section_id: SectionId::parse(GA_SECTION).expect("a section"),
        selection: Selection::Quantity(1),
        admission: None,
        access_code: None,
        type_id: None,
    })
}

/// Bursts of holds (and retries of earlier ones) separated by pauses around the idle time, so that
/// many of them arrive while the writer retires.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_racing_a_retiring_writer_are_each_served_once() {
    const ROUNDS: usize = 40;
    const PER_ROUND: usize = 10;
    scenario(|env: TestEnv| async move {
        let config = Config {
            expiry_reactor: false,
            ..config(&env, 0.05)
        };
        let svc = CommandSvc::spawn_with(config, e2e::client::http_client()).await;
        let event = svc
            .api()
            .create_on_sale("retire-race", &EventSpec::ga(1_000).to_json())
            .await;
        let event_uuid = event_id(&event);
        let inventories = svc.app_state.inventories.clone();

        // Count the retirements seen while the bursts run.
        let running = Arc::new(AtomicBool::new(true));
        let retirements = Arc::new(AtomicUsize::new(0));
        let watcher = {
            let (inventories, running, retirements) =
                (inventories.clone(), running.clone(), retirements.clone());
            tokio::spawn(async move {
                let mut had_one = false;
                while running.load(Ordering::Relaxed) {
                    let has_one = inventories.writers() > 0;
                    if had_one && !has_one {
                        retirements.fetch_add(1, Ordering::Relaxed);
                    }
                    had_one = has_one;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        };

        let mut firsts: Vec<(String, Decided)> = Vec::new();
        for round in 0..ROUNDS {
            let mut commands: Vec<(String, InventoryCommand)> = (0..PER_ROUND)
                .map(|i| {
                    let customer = format!("c{round}-{i}");
                    (customer.clone(), place(event_uuid, &customer, "k"))
                })
                .collect();
            if let Some((customer, _)) = firsts.get(round * 3 % firsts.len().max(1)) {
                commands.push((customer.clone(), place(event_uuid, customer, "k")));
            }
            let tasks: Vec<_> = commands
                .into_iter()
                .map(|(customer, command)| {
                    let inventories = inventories.clone();
                    tokio::spawn(async move {
                        (
                            customer,
                            inventories.decide(event_uuid, command, None).await,
                        )
                    })
                })
                .collect();
            for task in futures::future::join_all(tasks).await {
                let (customer, decided) = task.expect("a task");
                let decided = decided.unwrap_or_else(|e| panic!("round {round}, {customer}: {e}"));
                match firsts.iter().find(|(c, _)| *c == customer) {
                    Some((_, first)) => {
                        assert_eq!(decided.position, first.position, "a retry of {customer}");
                        assert_eq!(decided.hold, first.hold, "a retry of {customer}");
                    }
                    None => firsts.push((customer, decided)),
                }
            }
            // Around the idle time: sometimes the writer is still there, sometimes retiring.
            tokio::time::sleep(Duration::from_millis(30 + (round as u64 * 7) % 50)).await;
        }
        running.store(false, Ordering::Relaxed);
        watcher.await.expect("the watcher");

        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            log.count("SeatsHeld"),
            ROUNDS * PER_ROUND,
            "one hold per request"
        );
        let stored: HashSet<u64> = log.commits.iter().map(|(seq, _)| *seq).collect();
        for (customer, first) in &firsts {
            assert!(
                stored.contains(&first.position.sequence),
                "{customer}'s position"
            );
        }
        let state = log.fold();
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(state.availability(now)[0].held, (ROUNDS * PER_ROUND) as u32);
        let retired = retirements.load(Ordering::Relaxed);
        eprintln!("{retired} retirements during {ROUNDS} rounds");
        assert!(
            retired >= ROUNDS / 4,
            "only {retired} retirements: the race was not exercised"
        );

        svc.shutdown().await;
    })
    .await;
}
