//! A decision records due expiries before anything else. When more holds fall due at once than one
//! NATS message can carry, the writer records them in several commits first, and the event keeps
//! selling instead of failing every command with an oversized commit.

use command_svc::Config;
use domain::ids::{CustomerId, HoldId, IdempotencyKey, SectionId};
use domain::inventory::{HoldRequest, InventoryCommand, InventoryEvent, Selection};
use e2e::stream::event_id;
use e2e::{scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv, GA_SECTION};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

/// The longest customer id: the largest `HoldExpired` fact, the fewest holds to fill a message.
fn customer(n: usize) -> String {
    format!("{n:0>64}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_due_expiries_than_fit_in_one_message_do_not_block_the_event() {
    scenario(|env: TestEnv| async move {
        let config = Config {
            expiry_reactor: false,
            ..Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let svc = CommandSvc::spawn_with(config, e2e::client::http_client()).await;
        let spec = EventSpec::ga(1_000_000).limit(100).ttl(5);
        let event = svc
            .api()
            .create_on_sale("big-expiry", &spec.to_json())
            .await;
        let event_uuid = event_id(&event);
        let floor = SectionId::parse(GA_SECTION).expect("a section id");

        // Enough one-ticket holds that their HoldExpired facts together exceed the server's
        // max_payload (1 MB by default; the project's server allows 8 MB).
        let max_payload = env.store.client().server_info().max_payload;
        let sample = InventoryEvent::HoldExpired {
            hold_id: HoldId::derive(
                event_uuid,
                &CustomerId::parse(&customer(0)).expect("id"),
                &IdempotencyKey::parse("k").expect("key"),
            ),
            customer_id: CustomerId::parse(&customer(0)).expect("id"),
            section_id: floor.clone(),
            seats: vec![],
            quantity: 1,
        };
        let fact_bytes = serde_json::to_vec(&sample).expect("json").len() + 12;
        let holds = max_payload / fact_bytes + 500;
        eprintln!("max_payload {max_payload} B, {fact_bytes} B per HoldExpired: {holds} holds");

        let started = Instant::now();
        let inventories = svc.app_state.inventories.clone();
        for wave in (0..holds).collect::<Vec<_>>().chunks(4_000) {
            let tasks: Vec<_> = wave
                .iter()
                .map(|&i| {
                    let inventories = inventories.clone();
                    let floor = floor.clone();
                    tokio::spawn(async move {
                        let customer = CustomerId::parse(&customer(i / 100)).expect("id");
                        let key = IdempotencyKey::parse(&format!("k{i}")).expect("key");
                        let request = HoldRequest {
                            hold_id: HoldId::derive(event_uuid, &customer, &key),
                            customer_id: customer,
                            section_id: floor,
                            selection: Selection::Quantity(1),
                            admission: None,
                            access_code: None,
                            type_id: None,
                        };
                        inventories
                            .decide(event_uuid, InventoryCommand::PlaceHold(request), None)
                            .await
                    })
                })
                .collect();
            for placed in futures::future::join_all(tasks).await {
                placed.expect("a task").expect("a hold is placed");
            }
        }
        eprintln!("{holds} holds placed in {:?}", started.elapsed());

        // Let them all run out, with no timer: the next decision records every expiry.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let body = HoldBody::quantity("latecomer", GA_SECTION, 2);
        let mut statuses = Vec::new();
        for attempt in 0..2 {
            let started = Instant::now();
            let (status, answer) = svc
                .api()
                .hold(&event, &format!("late-{attempt}"), &body)
                .await;
            eprintln!(
                "attempt {attempt}: {status} in {:?}: {answer}",
                started.elapsed()
            );
            statuses.push(status);
        }
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CREATED],
            "the event's writer cannot store any commit: each starts with {holds} HoldExpired \
             facts (~{} KB) and the server takes at most {} KB per message",
            holds * fact_bytes / 1024,
            max_payload / 1024
        );
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("HoldExpired"), holds);

        svc.shutdown().await;
    })
    .await;
}
