//! How long a cold writer takes to restore a long-lived event: full replay against snapshot plus
//! tail. `cargo bench -p command-svc --bench restore` (NATS_URL, default the project's server).
//!
//! Appends `COMMITS` one-hold commits to one inventory subject (as a busy sale would, minus the
//! group commit), then restores it without a snapshot, saves a snapshot 1,000 commits before the
//! end, and restores again; then times the parts of that restore one by one, and the same
//! snapshot's state read from JSON, the form snapshots had before they were binary.

use command_svc::inventory::{restore_inventory, save_inventory_snapshot};
use domain::catalog::SectionLayout;
use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, SectionId};
use domain::inventory::{
    EventInventory, InventoryEvent, InventorySection, InventorySnapshot, Selection,
};
use std::time::Instant;
use tv_nats::{CommitMeta, EventRecord, EventStore, Naming, Snapshots, Stream};

const COMMITS: u64 = 100_000;

#[tokio::main]
async fn main() {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:14222".into());
    let prefix = format!("restore{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let store = EventStore::connect(&url, Naming::new(&prefix))
        .await
        .expect("NATS");
    store.provision().await.expect("provision");
    let snapshots = Snapshots::open(&store).await.expect("snapshots");
    let event = EventId::new_random();
    let id = event.to_string();
    let section = SectionId::parse("floor").expect("valid");
    let opened = InventoryEvent::InventoryOpened {
        sections: vec![InventorySection {
            section_id: section.clone(),
            price_minor: 100,
            layout: SectionLayout::GeneralAdmission {
                capacity: 1_000_000,
            },
            ticket_types: Vec::new(),
        }],
        currency: "EUR".parse().expect("valid"),
        hold_ttl_seconds: 86_400,
        max_tickets_per_customer: 8,
        sale_opens_at: None,
        sale_closes_at: None,
        waiting_room: false,
        presales: Vec::new(),
    };
    let meta = CommitMeta::new("EventInventory", "Bench");
    let mut last = store
        .append(
            Stream::Inventory,
            &id,
            0,
            &meta,
            &[EventRecord::new(1, &opened)],
        )
        .await
        .expect("open")
        .sequence;
    let expires_at = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let started = Instant::now();
    let mut snapshot_state = None;
    let mut state = EventInventory::default();
    state.apply(&opened);
    for n in 1..COMMITS {
        let customer = CustomerId::parse(&format!("c{n}")).expect("valid");
        let key = IdempotencyKey::parse("k").expect("valid");
        let held = InventoryEvent::SeatsHeld {
            hold_id: HoldId::derive(event, &customer, &key),
            customer_id: customer,
            section_id: section.clone(),
            seats: vec![],
            quantity: 1,
            expires_at,
            request: Selection::Quantity(1),
        };
        last = store
            .append(
                Stream::Inventory,
                &id,
                last,
                &CommitMeta::new("EventInventory", "PlaceHold"),
                &[EventRecord::new(1, &held)],
            )
            .await
            .expect("append")
            .sequence;
        state.apply(&held);
        if n == COMMITS - 1_000 {
            snapshot_state = Some((state.clone(), last));
        }
    }
    println!(
        "appended {COMMITS} commits in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let (restored, sequence) = restore_inventory(&store, &snapshots, event)
        .await
        .expect("restore");
    println!(
        "restore by full replay:      {:>7.0} ms ({} holds, last sequence {sequence})",
        t.elapsed().as_secs_f64() * 1e3,
        restored.holds_count()
    );

    let (state, at) = snapshot_state.expect("a snapshot point");
    let t = Instant::now();
    save_inventory_snapshot(&snapshots, event, &state, at)
        .await
        .expect("save");
    println!(
        "snapshot save:               {:>7.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let (restored, sequence) = restore_inventory(&store, &snapshots, event)
        .await
        .expect("restore");
    println!(
        "restore by snapshot + 1,000: {:>7.0} ms ({} holds, last sequence {sequence})",
        t.elapsed().as_secs_f64() * 1e3,
        restored.holds_count()
    );

    // Where that time goes: reading the snapshot's bytes, decoding them into the aggregate
    // (indexes included), and reading and applying the commits after it. Restoring does the
    // decoding and the tail's reading at once; here they are timed one after the other.
    let t = Instant::now();
    let (_, bytes) = snapshots
        .load(&format!("inventory.{event}"))
        .await
        .expect("load")
        .expect("a snapshot");
    let read = t.elapsed();
    // Parsing (typed holds, not checked) and building (checks and indexes) apart.
    #[derive(serde::Deserialize)]
    struct Doc {
        state: InventorySnapshot,
        #[allow(dead_code)]
        hold_positions: Vec<(HoldId, u64)>,
    }
    let binary = bytes.strip_prefix(b"\0TVB").expect("a binary snapshot");
    let t = Instant::now();
    let doc = postcard::from_bytes::<Doc>(binary).expect("a snapshot");
    let parsed = t.elapsed();
    let t = Instant::now();
    let state = EventInventory::try_from(doc.state).expect("a snapshot's state");
    let built = t.elapsed();
    // The same document as JSON, as snapshots were saved before: its size, parsing and building.
    let json = serde_json::to_vec(&serde_json::json!({
        "state": &state,
        "hold_positions": [],
    }))
    .expect("JSON");
    let t = Instant::now();
    let doc = serde_json::from_slice::<Doc>(&json).expect("a JSON snapshot");
    let json_parsed = t.elapsed();
    let t = Instant::now();
    let from_json = EventInventory::try_from(doc.state).expect("a JSON snapshot's state");
    let json_built = t.elapsed();
    assert!(from_json == state, "both forms give the same state");
    let t = Instant::now();
    let tail = store
        .load::<InventoryEvent>(Stream::Inventory, &id, at)
        .await
        .expect("tail");
    let mut state = state;
    for commit in &tail.commits {
        for fact in &commit.events {
            state.apply(fact);
        }
    }
    let caught_up = t.elapsed();
    println!(
        "  of which: read {:.0} ms ({:.1} MB); parse {:.0} ms; checks and indexes {:.0} ms; \
         {} commits after it {:.0} ms",
        read.as_secs_f64() * 1e3,
        bytes.len() as f64 / 1e6,
        parsed.as_secs_f64() * 1e3,
        built.as_secs_f64() * 1e3,
        tail.commits.len(),
        caught_up.as_secs_f64() * 1e3,
    );
    println!(
        "  the same state as JSON: {:.1} MB; parse {:.0} ms; checks and indexes {:.0} ms",
        json.len() as f64 / 1e6,
        json_parsed.as_secs_f64() * 1e3,
        json_built.as_secs_f64() * 1e3,
    );
    for stream in Stream::ALL {
        let _ = store
            .jetstream()
            .delete_stream(store.naming().stream(stream))
            .await;
    }
    let _ = store
        .jetstream()
        .delete_object_store(store.naming().snapshot_bucket())
        .await;
}
