//! A group commit is bounded in bytes, not only in commands: 512 concurrent holds of 100 named
//! seats each carry about 1.7 MB of facts, more than a NATS server with the default `max_payload`
//! (1 MB) takes in one message. When the whole batch was one commit, the server refused it and all
//! 512 callers got `503` together; now the writer cuts the batch into commits under the budget and
//! every hold succeeds.
//!
//! The project's server allows 8 MB, so the test caps commits at the default 1 MB with
//! `TV_MAX_COMMIT_BYTES` (the writer takes the smaller of that and the server's `max_payload`) and
//! checks every stored commit against 1 MB.

use command_svc::Config;
use domain::ids::{CustomerId, HoldId, IdempotencyKey, SeatLabel, SectionId};
use domain::inventory::{HoldRequest, InventoryCommand, InventoryEvent, Selection};
use e2e::stream::event_id;
use e2e::{scenario, CommandSvc, InventoryLog, TestEnv};
use serde_json::json;
use tv_nats::{EventRecord, Stream};

/// NATS's default `max_payload`.
const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
/// What the store keeps free under `max_payload` for a commit's headers.
const HEADERS: usize = 4096;
const HOLDS: usize = 512;
const SEATS_PER_HOLD: u32 = 100;

fn row(r: usize) -> String {
    format!("ROW{r:05}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_twelve_holds_of_a_hundred_seats_all_succeed_in_commits_under_max_payload() {
    scenario(|env: TestEnv| async move {
        let config = Config {
            expiry_reactor: false,
            max_commit_bytes: DEFAULT_MAX_PAYLOAD,
            ..Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let svc = CommandSvc::spawn_with(config, e2e::client::http_client()).await;
        // 60 rows of 1,000 seats: room for 600 blocks of 100.
        let rows: Vec<_> = (0..60)
            .map(|r| json!({ "row": row(r), "seats": 1000 }))
            .collect();
        let spec = json!({
            "name": "Arena",
            "venue": "Test Hall",
            "starts_at": "2030-06-01T20:00:00Z",
            "currency": "EUR",
            "max_tickets_per_customer": SEATS_PER_HOLD,
            "sections": [{ "section_id": "arena", "name": "Arena", "price_minor": 5000, "rows": rows }],
        });
        let event = svc.api().create_on_sale("commit-bytes", &spec).await;
        let event_uuid = event_id(&event);
        let arena = SectionId::parse("arena").expect("a section id");

        let requests: Vec<HoldRequest> = (0..HOLDS)
            .map(|i| {
                let customer = CustomerId::parse(&format!("{i:0>64}")).expect("id");
                let key = IdempotencyKey::parse(&format!("k{i}")).expect("key");
                let first = (i % 10) as u32 * SEATS_PER_HOLD + 1;
                let seats = (first..first + SEATS_PER_HOLD)
                    .map(|n| SeatLabel::new(row(i / 10).parse().expect("row"), n).expect("seat"))
                    .collect();
                HoldRequest {
                    hold_id: HoldId::derive(event_uuid, &customer, &key),
                    customer_id: customer,
                    section_id: arena.clone(),
                    selection: Selection::Seats(seats),
                    admission: None,
                    access_code: None,
                    type_id: None,
                }
            })
            .collect();

        let inventories = svc.app_state.inventories.clone();
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let inventories = inventories.clone();
                tokio::spawn(async move {
                    inventories
                        .decide(event_uuid, InventoryCommand::PlaceHold(request), None)
                        .await
                })
            })
            .collect();
        let mut failed = Vec::new();
        for (i, placed) in futures::future::join_all(tasks).await.into_iter().enumerate() {
            if let Err(e) = placed.expect("a task") {
                failed.push(format!("hold {i}: {e}"));
            }
        }
        assert!(failed.is_empty(), "{} holds failed: {:?}", failed.len(), &failed[..failed.len().min(3)]);

        // Every commit fits a default server; together the holds would not.
        let subject = env.store.naming().subject(Stream::Inventory, &event);
        let mut replay = env
            .store
            .replay_subjects(Stream::Inventory, vec![subject], 0)
            .await
            .expect("a replay");
        let mut sizes = Vec::new();
        while let Some(commit) = replay.next().await {
            sizes.push(commit.expect("a commit").payload.len());
        }
        let log = InventoryLog::read(&env.store, &event).await;
        let held_bytes: usize = log
            .facts()
            .filter(|f| matches!(f, InventoryEvent::SeatsHeld { .. }))
            .map(|f| EventRecord::new(1, f).encoded_len())
            .sum();
        eprintln!("{} commits of {sizes:?} bytes; {held_bytes} bytes of SeatsHeld", sizes.len());
        assert!(held_bytes > DEFAULT_MAX_PAYLOAD, "the holds fit one default message anyway");
        assert!(
            sizes.iter().all(|&size| size + HEADERS <= DEFAULT_MAX_PAYLOAD),
            "a commit exceeds the default max_payload: {sizes:?}"
        );
        assert_eq!(log.count("SeatsHeld"), HOLDS);
        let state = log.fold();
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(state.availability(now)[0].held, HOLDS as u32 * SEATS_PER_HOLD);

        svc.shutdown().await;
    })
    .await;
}
