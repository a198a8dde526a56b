//! Two command-svc instances with event ownership: the instance that opened an event holds its
//! lease and runs its writer; the other forwards the event's commands to it by NATS request-reply.
//! A client must not be able to tell: the same answers through either instance, idempotent retries
//! and refusals included, and a race through both never sells a ticket twice.

use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use e2e::{GA_SECTION, SEATED_SECTION};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forwarded_command_is_answered_as_the_owner_answers_it() {
    scenario(|env: TestEnv| async move {
        let owner = CommandSvc::spawn(&env.prefix).await;
        let other = CommandSvc::spawn(&env.prefix).await;
        let event = owner
            .api()
            .create_on_sale("forwarded-event", &EventSpec::seated().to_json())
            .await;
        let id = event.parse().expect("an event id");
        assert!(
            owner.app_state.inventories.owns(id),
            "the opener owns the event"
        );
        assert!(!other.app_state.inventories.owns(id));

        // A hold through the other instance; its retries through either instance get the same
        // answer, position included, and append nothing.
        let body = HoldBody::seats("alice", SEATED_SECTION, &["A-1", "A-2"]);
        let (status, held) = other.api().hold(&event, "k-alice", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        let end = InventoryLog::read(&env.store, &event).await.last_sequence;
        for instance in [&other, &owner] {
            let (status, again) = instance.api().hold(&event, "k-alice", &body).await;
            assert_eq!((status, &again), (StatusCode::CREATED, &held));
        }
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            end,
            "a retry appended something"
        );

        // Refusals: the same status and body through the other instance as from the owner.
        let refused = [
            HoldBody::seats("bob", SEATED_SECTION, &["A-2", "A-3"]), // taken
            HoldBody::seats("bob", SEATED_SECTION, &["Z-99"]),       // no such seat
            HoldBody::quantity("bob", "balcony", 1),                 // no such section
            HoldBody::quantity("bob", SEATED_SECTION, 1000),         // more than a hold may take
        ];
        for (i, body) in refused.iter().enumerate() {
            let forwarded = other.api().hold(&event, &format!("k-bob-{i}"), body).await;
            let direct = owner.api().hold(&event, &format!("k-bob-{i}"), body).await;
            assert!(forwarded.0.is_client_error(), "{body}: {forwarded:?}");
            assert_eq!(forwarded, direct, "{body}");
        }
        let taken = other.api().hold(&event, "k-bob-0", &refused[0]).await;
        assert_eq!(error_code(&taken.1), Some("seat_unavailable"), "{taken:?}");

        // A release through the other instance, then again through either: the same answer.
        let hold_id = held["hold_id"].as_str().expect("a hold id");
        let released = other.api().release(hold_id, "alice").await;
        assert_eq!(released.0, StatusCode::OK, "{released:?}");
        for instance in [&other, &owner] {
            assert_eq!(instance.api().release(hold_id, "alice").await, released);
        }

        // Only the owner ran a writer for the event.
        assert_eq!(owner.app_state.inventories.writers(), 1);
        assert_eq!(other.app_state.inventories.writers(), 0);
        other.shutdown().await;
        owner.shutdown().await;
    })
    .await;
}

/// Tickets in the race's section, and buyers of one ticket each, half through each instance.
const CAPACITY: u32 = 150;
const BUYERS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_race_through_two_instances_never_oversells() {
    scenario(|env: TestEnv| async move {
        let first = CommandSvc::spawn(&env.prefix).await;
        let second = CommandSvc::spawn(&env.prefix).await;
        let event = first
            .api()
            .create_on_sale("race-event", &EventSpec::ga(CAPACITY).to_json())
            .await;
        let instances = [first.api().clone(), second.api().clone()];
        let buyers: Vec<_> = (0..BUYERS)
            .map(|i| {
                let api = instances[i % 2].clone();
                let event = event.clone();
                tokio::spawn(async move {
                    let customer = format!("buyer-{i}");
                    let body = HoldBody::quantity(&customer, GA_SECTION, 1);
                    api.hold_retrying(&event, &format!("k-{customer}"), &body, 10)
                        .await
                })
            })
            .collect();
        let mut held = 0;
        for answer in futures::future::join_all(buyers).await {
            let (status, body, _) = answer.expect("a buyer task");
            match status {
                StatusCode::CREATED => held += 1,
                StatusCode::CONFLICT => {
                    assert_eq!(error_code(&body), Some("sold_out"), "{body}")
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(held, CAPACITY, "every ticket sold once, none twice");

        // The stream agrees, and only one writer appended: no append lost a race.
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("SeatsHeld"), CAPACITY as usize);
        // Both instances live in this process and share its metrics recorder.
        let metrics = first
            .api()
            .http()
            .get(format!("{}/metrics", first.base_url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        let conflicts = metrics
            .lines()
            .filter(|l| l.starts_with("tv_append_conflicts_total{stream=\"inventory\"}"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>();
        assert_eq!(conflicts, 0, "two writers raced on the stream");
        second.shutdown().await;
        first.shutdown().await;
    })
    .await;
}
