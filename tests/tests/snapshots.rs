//! Snapshots are read while they are rewritten: a writer restoring an event (at start, or after
//! losing an append race to another instance) reads the snapshot another instance may be saving
//! at that very moment. A read must then finish, with the old or the new snapshot or with an error,
//! never hang: the writer waits for it before it answers anything.
//!
//! Writers save snapshots in binary; the JSON ones saved before are still read, and one that
//! cannot be read costs a full replay, never a wrong state.

use command_svc::inventory::{restore_inventory, save_inventory_snapshot};
use domain::catalog::SectionLayout;
use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, SectionId};
use domain::inventory::{EventInventory, InventoryEvent, InventorySection, Selection};
use e2e::{scenario, TestEnv};
use std::time::{Duration, Instant};
use tv_nats::{CommitMeta, EventRecord, EventStore, Snapshots, Stream};

/// Rounds of the race; each one rewrites the snapshot once while it is being read.
const ROUNDS: u64 = 40;
/// A snapshot spanning several object-store chunks (128 KiB each), so a read takes a while.
const SNAPSHOT_BYTES: usize = 600 * 1024;
/// Far longer than a read of a snapshot this size takes on loopback.
const READ_LIMIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_read_during_a_rewrite_finishes() {
    scenario(|env: TestEnv| async move {
        let snapshots = Snapshots::open(&env.store)
            .await
            .expect("the snapshot bucket");
        let key = "inventory.race";
        let state = vec![b'x'; SNAPSHOT_BYTES];
        snapshots
            .save(key, 1, &state)
            .await
            .expect("a first snapshot");

        let saver = {
            let (snapshots, state) = (snapshots.clone(), state.clone());
            tokio::spawn(async move {
                for sequence in 2..2 + ROUNDS {
                    snapshots.save(key, sequence, &state).await.expect("a save");
                }
            })
        };
        let mut hung = 0;
        let mut read = 0;
        let started = Instant::now();
        while !saver.is_finished() && started.elapsed() < Duration::from_secs(30) {
            match tokio::time::timeout(READ_LIMIT, snapshots.load(key)).await {
                Ok(Ok(Some((sequence, bytes)))) => {
                    assert!(sequence >= 1);
                    assert_eq!(bytes.len(), SNAPSHOT_BYTES, "a torn snapshot");
                    read += 1;
                }
                // An error is fine: the caller replays the stream instead.
                Ok(Ok(None)) | Ok(Err(_)) => read += 1,
                Err(_) => hung += 1,
            }
        }
        saver.await.expect("the saver");
        eprintln!("{read} reads finished, {hung} hung for {READ_LIMIT:?} during {ROUNDS} saves");
        assert_eq!(
            hung, 0,
            "Snapshots::load never returned: it read the chunks of an object that the concurrent \
             save purged, and waits for them forever"
        );
    })
    .await;
}

/// Opens a general-admission sale and places `holds` one-ticket holds, one commit each: every
/// fact with its sequence.
async fn sale(store: &EventStore, event: EventId, holds: u32) -> Vec<(u64, InventoryEvent)> {
    let section = SectionId::parse("floor").expect("valid");
    let mut facts = vec![InventoryEvent::InventoryOpened {
        sections: vec![InventorySection {
            section_id: section.clone(),
            price_minor: 100,
            layout: SectionLayout::GeneralAdmission { capacity: 100 },
            ticket_types: Vec::new(),
        }],
        currency: "EUR".parse().expect("valid"),
        hold_ttl_seconds: 600,
        max_tickets_per_customer: 8,
        sale_opens_at: None,
        sale_closes_at: None,
        waiting_room: false,
        presales: Vec::new(),
    }];
    let expires_at = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    for n in 0..holds {
        let customer = CustomerId::parse(&format!("c{n}")).expect("valid");
        facts.push(InventoryEvent::SeatsHeld {
            hold_id: HoldId::derive(
                event,
                &customer,
                &IdempotencyKey::parse("k").expect("valid"),
            ),
            customer_id: customer,
            section_id: section.clone(),
            seats: vec![],
            quantity: 1,
            expires_at,
            request: Selection::Quantity(1),
        });
    }
    let mut stored = Vec::new();
    let mut last = 0;
    for fact in facts {
        last = store
            .append(
                Stream::Inventory,
                &event.to_string(),
                last,
                &CommitMeta::new("EventInventory", "Test"),
                &[EventRecord::new(1, &fact)],
            )
            .await
            .expect("an append")
            .sequence;
        stored.push((last, fact));
    }
    stored
}

fn hold_of(fact: &InventoryEvent) -> HoldId {
    match fact {
        InventoryEvent::SeatsHeld { hold_id, .. } => *hold_id,
        other => panic!("not a hold: {other:?}"),
    }
}

#[tokio::test]
async fn binary_and_json_snapshots_are_read_and_a_damaged_one_is_replayed() {
    scenario(|env: TestEnv| async move {
        let snapshots = Snapshots::open(&env.store)
            .await
            .expect("the snapshot bucket");
        let event = EventId::new_random();
        let facts = sale(&env.store, event, 10).await;
        let last = facts.last().expect("facts").0;
        // A snapshot as of the sixth hold that leaves out the first: a restore that read it lacks
        // that hold, one that replayed has it.
        let (at, _) = facts[6];
        let left_out = hold_of(&facts[1].1);
        let mut state = EventInventory::default();
        for (_, fact) in facts[..=6]
            .iter()
            .filter(|(sequence, _)| *sequence != facts[1].0)
        {
            state.apply(fact);
        }
        let key = format!("inventory.{event}");

        save_inventory_snapshot(&snapshots, event, &state, at)
            .await
            .expect("a binary snapshot");
        let (restored, sequence) = restore_inventory(&env.store, &snapshots, event)
            .await
            .expect("a restore");
        assert_eq!(sequence, last);
        assert_eq!(restored.holds_count(), 9, "the binary snapshot was read");
        assert!(restored.hold(&left_out).is_none());

        // What writers saved before binary snapshots: a JSON document of version 8.
        let json = serde_json::to_vec(&serde_json::json!({
            "state": &state,
            "hold_positions": [],
        }))
        .expect("JSON");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        assert_eq!(value["state"]["version"], 8);
        snapshots
            .save(&key, at, &json)
            .await
            .expect("a JSON snapshot");
        let (restored, sequence) = restore_inventory(&env.store, &snapshots, event)
            .await
            .expect("a restore");
        assert_eq!(sequence, last);
        assert_eq!(restored.holds_count(), 9, "the JSON snapshot was read");

        // A binary document (its first bytes) whose content is damaged: refused, and the whole
        // log replayed.
        let mut damaged = b"\0TVB".to_vec();
        damaged.extend(std::iter::repeat_n(0xa5, 4096));
        snapshots
            .save(&key, at, &damaged)
            .await
            .expect("a damaged snapshot");
        let (restored, sequence) = restore_inventory(&env.store, &snapshots, event)
            .await
            .expect("a restore");
        assert_eq!(sequence, last);
        assert_eq!(restored.holds_count(), 10, "replayed from the start");
        assert!(restored.hold(&left_out).is_some());
    })
    .await;
}
