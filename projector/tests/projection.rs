//! The projector against real NATS and PostgreSQL: its fold equals an independent one, and stays
//! equal across crashes, re-deliveries and rebuilds.

mod support;

use domain::inventory::InventoryEvent;
use projector::{Consumption, ProjectionName, Projector, RebuildOptions};
use std::collections::BTreeMap;
use std::time::Duration;
use support::*;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tv_nats::Stream;
use uuid::Uuid;

/// Runs a projector in the background; `stop()` ends it gracefully.
struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn start(config: projector::Config) -> Running {
        let projector = Projector::build(config).await.expect("projector builds");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(projector.run_until(async {
            let _ = stopped.await;
        }));
        Running {
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

/// The earliest expiry of each section's active holds, from the facts.
fn expected_next_expiries(commits: &[Appended]) -> BTreeMap<(String, String), Option<i64>> {
    let mut active: BTreeMap<String, ((String, String), OffsetDateTime)> = BTreeMap::new();
    let mut sections = BTreeMap::new();
    for commit in commits {
        let event = commit.event_id.to_string();
        for fact in &commit.events {
            match fact {
                InventoryEvent::InventoryOpened {
                    sections: opened, ..
                } => {
                    for s in opened {
                        sections.insert((event.clone(), s.section_id.to_string()), None);
                    }
                }
                InventoryEvent::SeatsHeld {
                    hold_id,
                    section_id,
                    expires_at,
                    ..
                } => {
                    active.insert(
                        hold_id.to_string(),
                        ((event.clone(), section_id.to_string()), *expires_at),
                    );
                }
                InventoryEvent::HoldReleased { hold_id, .. }
                | InventoryEvent::HoldExpired { hold_id, .. }
                | InventoryEvent::SeatsSold { hold_id, .. } => {
                    active.remove(&hold_id.to_string());
                }
                _ => {}
            }
        }
    }
    for (key, at) in active.into_values() {
        let micros = (at.unix_timestamp_nanos() / 1_000) as i64;
        let slot = sections.get_mut(&key).unwrap();
        *slot = Some(slot.map_or(micros, |m: i64| m.min(micros)));
    }
    sections
}

async fn assert_projected(env: &TestEnv, commits: &[Appended]) {
    let expected = independent_fold(commits);
    let actual = env.dump_inventory().await;
    assert_eq!(
        actual.availability, expected.availability,
        "availability differs"
    );
    assert_eq!(actual.holds, expected.holds, "holds differ");
    assert_eq!(actual.seats, expected.seats, "seats differ");
    assert_eq!(
        actual.seat_maps, expected.seat_maps,
        "seat map versions differ"
    );
    let next: BTreeMap<_, _> = env
        .next_expiries()
        .await
        .into_iter()
        .map(|(k, v)| (k, v.map(|t| (t.unix_timestamp_nanos() / 1_000) as i64)))
        .collect();
    assert_eq!(next, expected_next_expiries(commits), "next_expiry differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projection_equals_an_independent_fold_of_the_stream() {
    let env = TestEnv::new().await;
    let mut a = open_event(&env.store, 1).await;
    let mut b = open_event(&env.store, 2).await;
    // Small batches: many transactions, facts of one hold spread over several.
    let mut config = env.projector_config();
    config.batch_size = 7;
    let running = Running::start(config).await;
    for _ in 0..4 {
        a.run(&env.store, 40).await;
        b.run(&env.store, 30).await;
    }
    let last = env.store.last_sequence(Stream::Inventory).await.unwrap();
    env.wait_for_checkpoint("inventory", last).await;
    env.wait_for_checkpoint(
        "catalog",
        env.store.last_sequence(Stream::Catalog).await.unwrap(),
    )
    .await;
    running.stop().await;
    assert_projected(&env, &all_commits(&[&a, &b])).await;

    let client = env.client().await;
    let rows = client
        .query("SELECT status, sections FROM events ORDER BY name", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, String>(0), "on_sale");
    let sections: serde_json::Value = rows[0].get(1);
    assert_eq!(sections[0]["section_id"], "stalls");
    assert_eq!(sections[0]["capacity"], 14);
    assert_eq!(sections[1]["kind"], "general_admission");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_delivered_commits_are_applied_exactly_once() {
    let env = TestEnv::new().await;
    let mut sim = open_event(&env.store, 3).await;
    sim.run(&env.store, 120).await;
    // Migrations, without running the live loop.
    drop(Projector::build(env.projector_config()).await.unwrap());

    let mut replay = env.store.replay(Stream::Inventory, 0).await.unwrap();
    let mut raws = Vec::new();
    while let Some(raw) = replay.next().await {
        raws.push(raw.unwrap());
    }
    let pool = projector::db::pool(&env.database_url, 1).unwrap();
    let mut client = pool.get().await.unwrap();
    // Overlapping, shuffled batches: every commit arrives two or three times.
    let mut start = 0;
    while start < raws.len() {
        let end = (start + 25).min(raws.len());
        let mut batch: Vec<_> = raws[start.saturating_sub(10)..end].to_vec();
        batch.extend(raws[start..end].iter().rev().cloned());
        let outcome = projector::apply_batch(
            &mut client,
            "public",
            ProjectionName::Inventory,
            batch,
            None,
        )
        .await
        .unwrap();
        assert_eq!(outcome.to, raws[end - 1].sequence);
        start = end;
    }
    // The whole stream once more: nothing changes.
    let again = projector::apply_batch(
        &mut client,
        "public",
        ProjectionName::Inventory,
        raws.clone(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (again.commits, again.from, again.to),
        (
            0,
            raws.last().unwrap().sequence,
            raws.last().unwrap().sequence
        )
    );
    assert!(again.notice.is_none());
    assert_projected(&env, &sim.appended).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_ack_then_a_restart_equals_a_clean_rebuild() {
    let env = TestEnv::new().await;
    let mut sim = open_event(&env.store, 4).await;
    sim.run(&env.store, 60).await;

    // Commits two batches, then stops without notice or ack, as a kill there would.
    let mut config = env.projector_config();
    config.batch_size = 10;
    config.crash_after_batches = Some(2);
    let crashed = Projector::build(config).await.unwrap();
    crashed.run_until(std::future::pending()).await.unwrap();
    let checkpoint = env.checkpoint("inventory").await;
    assert!(
        checkpoint > 0 && checkpoint < sim.last_sequence,
        "stopped mid-stream at {checkpoint}"
    );

    let mut config = env.projector_config();
    config.batch_size = 10;
    let running = Running::start(config).await;
    let last = sim.run(&env.store, 40).await;
    env.wait_for_checkpoint("inventory", last).await;
    running.stop().await;
    assert_projected(&env, &sim.appended).await;
    let live = env.dump_inventory().await;

    let reports = projector::rebuild(
        &env.projector_config(),
        &[ProjectionName::Inventory],
        RebuildOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(reports[0].checkpoint, last);
    assert_eq!(
        env.dump_inventory().await,
        live,
        "a clean rebuild equals the restarted projection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_projector_at_random_points_converges_to_the_same_tables() {
    let env = TestEnv::new().await;
    let mut sim = open_event(&env.store, 5).await;
    let mut config = env.projector_config();
    config.batch_size = 5;
    // Kill points drawn from a seed (printed; TV_TEST_SEED replays a run).
    let seed = std::env::var("TV_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("seed {seed}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    for _round in 0..8 {
        let projector = Projector::build(config.clone()).await.unwrap();
        let task = tokio::spawn(projector.run_until(std::future::pending()));
        sim.run(&env.store, rand::Rng::random_range(&mut rng, 5..40))
            .await;
        let alive = rand::Rng::random_range(&mut rng, 0..60);
        tokio::time::sleep(Duration::from_millis(alive)).await;
        // Dropped at whatever await it is at: fetch, transaction, notice or ack.
        task.abort();
        let _ = task.await;
    }
    // No traffic after the last kill: whatever a killed run had fetched is not waited for.
    let running = Running::start(config).await;
    env.wait_for_checkpoint_within("inventory", sim.last_sequence, RESUME_LIMIT)
        .await;
    running.stop().await;
    assert_projected(&env, &sim.appended).await;

    // And the tables equal a clean rebuild of the same stream.
    let live = env.dump_inventory().await;
    projector::rebuild(
        &env.projector_config(),
        &[ProjectionName::Inventory],
        RebuildOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(env.dump_inventory().await, live, "seed {seed}");
}

/// How long a restarted projector may take to reach the end of a quiet stream: well above a
/// resume from the checkpoint, well below the 30 s ack wait of a delivery to a dead process.
const RESUME_LIMIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_after_a_crash_with_a_batch_in_hand_catches_up_at_once_without_new_traffic() {
    let env = TestEnv::new().await;
    let mut sim = open_event(&env.store, 7).await;
    sim.run(&env.store, 30).await;
    let running = Running::start(env.projector_config()).await;
    env.wait_for_checkpoint("inventory", sim.last_sequence)
        .await;
    running.stop().await;

    // The projector is killed with the next commits fetched and not applied: the server counts
    // them delivered to a process that is gone.
    sim.run(&env.store, 20).await;
    let name = ProjectionName::Inventory.durable_name(projector::Partition::WHOLE);
    {
        let dead = tv_nats::Durable::ensure(&env.store, Stream::Inventory, &name, None)
            .await
            .unwrap();
        let mut in_hand = Vec::new();
        while in_hand.last().map(|d: &tv_nats::Delivery| d.raw.sequence) != Some(sim.last_sequence)
        {
            let batch = dead.fetch(100, Duration::from_secs(5)).await.unwrap();
            assert!(!batch.is_empty(), "the commits are delivered");
            in_hand.extend(batch);
        }
    }

    // Restarted, with no new traffic: it reads from its checkpoint at once.
    let running = Running::start(env.projector_config()).await;
    let took = env
        .wait_for_checkpoint_within("inventory", sim.last_sequence, RESUME_LIMIT)
        .await;
    eprintln!("caught up {took:?} after the restart");
    running.stop().await;
    assert_projected(&env, &sim.appended).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_during_live_traffic_equals_the_live_projection() {
    let env = TestEnv::new().await;
    let mut sim = open_event(&env.store, 6).await;
    sim.run(&env.store, 150).await;
    let mut config = env.projector_config();
    config.batch_size = 20;
    let running = Running::start(config).await;

    let rebuild_config = env.projector_config();
    let rebuild = tokio::spawn(async move {
        projector::rebuild(&rebuild_config, &[], RebuildOptions::default()).await
    });
    // Traffic while it replays and swaps.
    let store = env.store.clone();
    let mut appended = 0;
    while !rebuild.is_finished() && appended < 400 {
        sim.run(&store, 5).await;
        appended += 5;
    }
    let reports = rebuild.await.unwrap().unwrap();
    assert_eq!(reports.len(), ProjectionName::ALL.len());
    sim.run(&env.store, 20).await;
    env.wait_for_checkpoint("inventory", sim.last_sequence)
        .await;
    running.stop().await;
    assert_projected(&env, &sim.appended).await;

    let client = env.client().await;
    let leftovers: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tv_rebuild_%' OR nspname LIKE 'tv_retired_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0, "scratch schemas are dropped");

    // The rebuilt tables have every index of the migrations, the ones built after the bulk too.
    let indexes: Vec<String> = client
        .query(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    for index in [
        "availability_pkey",
        "events_listing_idx",
        "holds_customer_idx",
        "holds_pending_expiry_idx",
        "holds_pkey",
        "orders_customer_idx",
        "orders_status_idx",
        "seat_maps_pkey",
    ] {
        assert!(indexes.iter().any(|i| i == index), "{index} in {indexes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_checkpoints_and_lag() {
    let env = TestEnv::new().await;
    let mut sim = open_event(&env.store, 7).await;
    sim.run(&env.store, 10).await;
    drop(Projector::build(env.projector_config()).await.unwrap());
    let statuses = projector::status(&env.projector_config()).await.unwrap();
    let inventory = statuses
        .iter()
        .find(|s| s.projection == ProjectionName::Inventory)
        .unwrap();
    assert_eq!(inventory.stream, env.stream_name(Stream::Inventory));
    assert_eq!(
        (inventory.checkpoint, inventory.lag),
        (0, sim.last_sequence)
    );

    let running = Running::start(env.projector_config()).await;
    env.wait_for_checkpoint("inventory", sim.last_sequence)
        .await;
    running.stop().await;
    let statuses = projector::status(&env.projector_config()).await.unwrap();
    assert!(statuses.iter().all(|s| s.lag == 0), "{statuses:?}");
    let table = projector::StatusTable(&statuses).to_string();
    assert!(
        table.contains("inventory") && table.contains("LAG"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once() {
    let env = TestEnv::new().await;
    let pool = projector::db::pool(&env.database_url, 2).unwrap();
    assert_eq!(
        projector::db::migrate(&pool).await.unwrap(),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert!(projector::db::migrate(&pool).await.unwrap().is_empty());
}

/// A database as a build that knew only the first `count` migrations left it.
async fn apply_first_migrations(client: &tokio_postgres::Client, count: usize) {
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (
                 version integer PRIMARY KEY, name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .unwrap();
    for migration in &projector::db::MIGRATIONS[..count] {
        client.batch_execute(migration.sql).await.unwrap();
        client
            .execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&migration.version, &migration.name],
            )
            .await
            .unwrap();
    }
}

/// Migration 7 gives every ticket of the orders projected before it a row of its own, found by its
/// code (the old, unsigned codes included): valid while its order is confirmed, void otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_orders_gives_each_of_their_tickets_a_row() {
    let env = TestEnv::new().await;
    let client = env.client().await;
    apply_first_migrations(&client, 6).await;
    let event = Uuid::from_u128(9);
    let orders = [
        (
            Uuid::from_u128(1),
            "alice",
            "confirmed",
            serde_json::json!([
            {"code": "TV-7K3M9Q2X0BFE", "section_id": "stalls", "seat": "A-1"},
            {"code": "TV-8K3M9Q2X0BFE", "section_id": "stalls", "seat": "A-2"}]),
        ),
        (
            Uuid::from_u128(2),
            "bob",
            "refunded",
            serde_json::json!([
            {"code": "TV-9K3M9Q2X0BFE", "section_id": "floor", "seat": null}]),
        ),
        (
            Uuid::from_u128(3),
            "carol",
            "pending_payment",
            serde_json::json!([]),
        ),
    ];
    for (order, customer, status, tickets) in &orders {
        client
            .execute(
                "INSERT INTO orders (order_id, customer_id, event_id, hold_id, status, tickets,
                     total_minor, currency, created_at, updated_at, version)
                 VALUES ($1, $2, $3, 'h', $4, $5, 100, 'EUR', now(), now(), 4)",
                &[order, customer, &event, status, tickets],
            )
            .await
            .unwrap();
    }
    let pool = projector::db::pool(&env.database_url, 2).unwrap();
    assert_eq!(projector::db::migrate(&pool).await.unwrap(), vec![7, 8, 9]);
    // code, order, index, customer, event, section, seat, status, not checked in
    let rows = client
        .query(
            "SELECT concat_ws(' ', code, order_id, ticket_index, customer_id, event_id = $1,
                              section_id, COALESCE(seat, '-'), status, checked_in_at IS NULL)
             FROM tickets ORDER BY code",
            &[&event],
        )
        .await
        .unwrap();
    let read: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
    assert_eq!(
        read,
        vec![
            format!("TV-7K3M9Q2X0BFE {alice} 0 alice t stalls A-1 valid t"),
            format!("TV-8K3M9Q2X0BFE {alice} 1 alice t stalls A-2 valid t"),
            format!("TV-9K3M9Q2X0BFE {bob} 0 bob t floor - void t"),
        ]
    );
}

/// Migration 6 packs the seat rows of a database written before it into one seat map per section,
/// which reads back as the same seats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_seat_rows_to_seat_maps_keeps_every_seat() {
    use read_model::seat_map::{seat_rows, Cells, Layout};
    let env = TestEnv::new().await;
    let client = env.client().await;
    apply_first_migrations(&client, 5).await;
    let event = Uuid::from_u128(9);
    let expires = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
        + time::Duration::microseconds(123_456);
    // Row A with numbers of two digits (text order is not seat order), and row BB.
    // seat, row ordinal, number, status, hold expiry, version
    type SeatRow<'a> = (&'a str, i32, i32, &'a str, Option<OffsetDateTime>, i64);
    let seats: Vec<SeatRow> = vec![
        ("A-1", 0, 1, "available", None, 3),
        ("A-2", 0, 2, "held", Some(expires), 7),
        ("A-10", 0, 10, "sold", None, 5),
        ("A-11", 0, 11, "available", None, 3),
        ("BB-1", 1, 1, "held", Some(expires), 9),
    ];
    for n in 3..10 {
        client
            .execute(
                "INSERT INTO seats (event_id, section_id, seat, row_ordinal, number, status, version)
                 VALUES ($1, 'stalls', $2, 0, $3, 'available', 3)",
                &[&event, &format!("A-{n}"), &n],
            )
            .await
            .unwrap();
    }
    for (seat, row, number, status, hold_expires_at, version) in &seats {
        client
            .execute(
                "INSERT INTO seats (event_id, section_id, seat, row_ordinal, number, status,
                     hold_expires_at, version)
                 VALUES ($1, 'stalls', $2, $3, $4, $5, $6, $7)",
                &[&event, seat, row, number, status, hold_expires_at, version],
            )
            .await
            .unwrap();
    }
    let pool = projector::db::pool(&env.database_url, 2).unwrap();
    assert_eq!(
        projector::db::migrate(&pool).await.unwrap(),
        vec![6, 7, 8, 9]
    );

    let row = client
        .query_one(
            "SELECT row_labels, row_seats, statuses, hold_expiries, version FROM seat_maps
             WHERE event_id = $1 AND section_id = 'stalls'",
            &[&event],
        )
        .await
        .unwrap();
    let layout = Layout {
        row_labels: row.get(0),
        row_seats: row.get(1),
    };
    assert_eq!(layout.row_labels, ["A", "BB"]);
    assert_eq!(layout.row_seats, [11, 1]);
    assert_eq!(row.get::<_, i64>(4), 9);
    let cells = Cells::decode(row.get(2), row.get(3)).unwrap();
    let read: Vec<(String, &str, Option<OffsetDateTime>)> = seat_rows(&layout, &cells)
        .unwrap()
        .into_iter()
        .map(|s| (s.seat.to_string(), s.status.as_str(), s.hold_expires_at))
        .collect();
    let mut expected: Vec<(String, &str, Option<OffsetDateTime>)> = (1..=11)
        .map(|n| (format!("A-{n}"), "available", None))
        .collect();
    expected[1] = ("A-2".into(), "held", Some(expires));
    expected[9] = ("A-10".into(), "sold", None);
    expected.push(("BB-1".into(), "held", Some(expires)));
    assert_eq!(read, expected);
    let seats_left: bool = client
        .query_one("SELECT to_regclass('seats') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!seats_left, "the seat rows are dropped");
}

/// The facts of one order, as the ordering context appends them, ending as `ending` says.
fn order_facts(
    order_id: domain::ids::OrderId,
    customer: &str,
    ending: &str,
) -> Vec<Vec<domain::ordering::OrderEvent>> {
    use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, PaymentId, SectionId};
    use domain::ordering::{tickets_for, OrderEvent};
    let event = EventId::new_random();
    let customer = CustomerId::parse(customer).unwrap();
    let section = SectionId::parse("stalls").unwrap();
    let seats: Vec<domain::ids::SeatLabel> = vec!["A-1".parse().unwrap(), "A-2".parse().unwrap()];
    let placed = OrderEvent::OrderPlaced {
        order_id,
        customer_id: customer.clone(),
        hold_id: HoldId::derive(event, &customer, &IdempotencyKey::parse("k").unwrap()),
        event_id: event,
        section_id: section.clone(),
        seats: seats.clone(),
        quantity: 2,
        unit_price_minor: 4_500,
        total_minor: 9_000,
        currency: "EUR".parse().unwrap(),
        payment_ref: Some("pi_test_1".into()),
        payment_token: None,
        expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(10),
    };
    let captured = OrderEvent::PaymentCaptured {
        payment_id: PaymentId::for_order(order_id),
        amount_minor: 9_000,
    };
    let confirmed = OrderEvent::OrderConfirmed {
        tickets: tickets_for(order_id, &section, &seats, 2),
    };
    match ending {
        "confirmed" => vec![vec![placed], vec![captured], vec![confirmed]],
        "refunded" => vec![
            vec![placed],
            vec![captured, confirmed],
            vec![OrderEvent::OrderCancelled {
                refund_due: true,
                event_cancelled: false,
            }],
            vec![OrderEvent::OrderRefunded {
                amount_minor: 9_000,
            }],
        ],
        "payment_failed" => vec![
            vec![placed],
            vec![OrderEvent::PaymentFailed {
                reason: "card_declined".into(),
            }],
        ],
        _ => vec![vec![placed]],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orders_projection_shows_each_orders_status_tickets_and_total() {
    use domain::ids::OrderId;
    let env = TestEnv::new().await;
    let endings = ["confirmed", "refunded", "payment_failed", "pending_payment"];
    let orders: Vec<(OrderId, &str)> = endings
        .iter()
        .map(|ending| (OrderId::new_random(), *ending))
        .collect();
    // Interleaved, as a busy stream has them: one commit of each order in turn.
    let facts: Vec<_> = orders
        .iter()
        .map(|(id, ending)| (*id, order_facts(*id, "alice", ending)))
        .collect();
    let mut expected_sequence = vec![0u64; facts.len()];
    for round in 0..4 {
        for (i, (id, commits)) in facts.iter().enumerate() {
            let Some(commit) = commits.get(round) else {
                continue;
            };
            let records: Vec<_> = commit
                .iter()
                .map(|e| tv_nats::EventRecord::new(1, e))
                .collect();
            let position = env
                .store
                .append(
                    Stream::Orders,
                    &id.to_string(),
                    expected_sequence[i],
                    &tv_nats::CommitMeta::new("Order", "test"),
                    &records,
                )
                .await
                .unwrap();
            expected_sequence[i] = position.sequence;
        }
    }
    let mut config = env.projector_config();
    config.batch_size = 3;
    let running = Running::start(config).await;
    let last = env.store.last_sequence(Stream::Orders).await.unwrap();
    env.wait_for_checkpoint("orders", last).await;
    running.stop().await;

    let dump = |client: tokio_postgres::Client| async move {
        client
            .query(
                "SELECT order_id::text, customer_id, status, tickets, total_minor, currency, version
                 FROM orders ORDER BY order_id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, String>(2),
                    r.get::<_, serde_json::Value>(3),
                    r.get::<_, i64>(4),
                    r.get::<_, String>(5),
                    r.get::<_, i64>(6),
                )
            })
            .collect::<Vec<_>>()
    };
    let live = dump(env.client().await).await;
    assert_eq!(live.len(), 4);
    for (id, ending) in &orders {
        let row = live.iter().find(|r| r.0 == id.to_string()).unwrap();
        assert_eq!(row.2, *ending, "{row:?}");
        assert_eq!(
            (row.1.as_str(), row.4, row.5.as_str()),
            ("alice", 9_000, "EUR")
        );
        let tickets = row.3.as_array().unwrap();
        match *ending {
            "confirmed" | "refunded" => {
                assert_eq!(tickets.len(), 2, "{row:?}");
                assert_eq!(tickets[0]["seat"], "A-1");
                assert_eq!(tickets[0]["section_id"], "stalls");
                assert!(tickets[0]["code"].as_str().unwrap().starts_with("TV-"));
            }
            _ => assert!(tickets.is_empty(), "{row:?}"),
        }
    }
    // A rebuild from the stream gives the same rows.
    projector::rebuild(
        &env.projector_config(),
        &[ProjectionName::Orders],
        RebuildOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(dump(env.client().await).await, live);
}

/// A commit from a newer build: a fact type this build does not know, and a known type at a
/// schema newer than it reads, next to a fact it does read. The projection applies what it can
/// read, skips the rest, and goes on with the commits after it: never a stall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_a_newer_build_wrote_are_skipped_without_stalling() {
    let env = TestEnv::new().await;
    let mut sim = open_event(&env.store, 7).await;
    let running = Running::start(env.projector_config()).await;
    sim.run(&env.store, 20).await;

    let known = loop {
        if let Some(fact) = sim.random_fact() {
            break fact;
        }
    };
    let mut newer_hold = serde_json::to_value(&known).unwrap();
    newer_hold["data"]["renamed_in_schema_2"] = true.into();
    let records = vec![
        tv_nats::EventRecord::new(
            1,
            serde_json::json!({"type": "SeatsTeleported", "data": {"to": "the moon"}}),
        ),
        tv_nats::EventRecord::new(
            domain::schema::WRITTEN,
            serde_json::to_value(&known).unwrap(),
        ),
        tv_nats::EventRecord::new(domain::schema::WRITTEN + 1, newer_hold),
    ];
    let position = env
        .store
        .append(
            Stream::Inventory,
            &sim.event_id.to_string(),
            sim.last_sequence,
            &tv_nats::CommitMeta::new("inventory", "newer-build"),
            &records,
        )
        .await
        .unwrap();
    sim.last_sequence = position.sequence;
    sim.appended.push(Appended {
        sequence: position.sequence,
        event_id: sim.event_id,
        events: vec![known],
    });
    sim.run(&env.store, 20).await;

    let last = env.store.last_sequence(Stream::Inventory).await.unwrap();
    env.wait_for_checkpoint("inventory", last).await;
    running.stop().await;
    assert_projected(&env, &all_commits(&[&sim])).await;
}
