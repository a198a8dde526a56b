//! Two projector partitions (0/2 and 1/2) on one database: together they project exactly what one
//! projector would, each notice covers only its own partition's shards, and `/readyz` says not
//! ready while a partition's oldest unapplied commit is older than the bound.

mod support;

use futures::StreamExt;
use projector::{Partition, ProjectionName, Projector};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tv_nats::{shard_of, INVENTORY_SHARDS};

struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    ops: Option<SocketAddr>,
}

impl Running {
    async fn start(config: projector::Config) -> Running {
        let projector = Projector::build(config).await.expect("projector builds");
        let ops = projector.ops_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(projector.run_until(async {
            let _ = stopped.await;
        }));
        Running {
            stop: Some(stop),
            task,
            ops,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

fn partition_config(env: &TestEnv, partition: &str) -> projector::Config {
    let mut config = env.projector_config();
    config.batch_size = 7;
    config.partition = partition.parse().unwrap();
    config
}

fn partition_of(event: &domain::ids::EventId) -> u16 {
    shard_of(&event.to_string(), INVENTORY_SHARDS) % 2
}

/// Events opened until each of the two partitions has `per_partition` of them (the events opened
/// beyond that are returned second: their opening is in the stream too).
async fn events_in_both_partitions(env: &TestEnv, per_partition: usize) -> (Vec<Sim>, Vec<Sim>) {
    let mut sims = Vec::new();
    let mut extra = Vec::new();
    let mut counts = [0usize; 2];
    let mut seed = 100;
    while counts.iter().any(|c| *c < per_partition) {
        seed += 1;
        let sim = open_event(&env.store, seed).await;
        let partition = usize::from(partition_of(&sim.event_id));
        if counts[partition] < per_partition {
            counts[partition] += 1;
            sims.push(sim);
        } else {
            extra.push(sim);
        }
        assert!(seed < 200, "no spread over the partitions: {counts:?}");
    }
    (sims, extra)
}

/// Waits until `projector status` shows every inventory shard caught up.
async fn wait_until_caught_up(env: &TestEnv) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let statuses = projector::status(&env.projector_config()).await.unwrap();
        let inventory = statuses
            .iter()
            .find(|s| s.projection == ProjectionName::Inventory)
            .unwrap();
        if inventory.lag == 0 {
            assert_eq!(inventory.shards.len(), usize::from(INVENTORY_SHARDS));
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "inventory never caught up: {}",
            projector::StatusTable(&statuses)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_partitions_project_what_one_projector_would() {
    let env = TestEnv::new().await;
    let mut notices = env
        .store
        .client()
        .subscribe(env.store.naming().notice_subject("inventory"))
        .await
        .unwrap();
    let (mut sims, extra) = events_in_both_partitions(&env, 2).await;

    let first = Running::start(partition_config(&env, "0/2")).await;
    let second = Running::start(partition_config(&env, "1/2")).await;
    for _ in 0..5 {
        for sim in sims.iter_mut() {
            sim.run(&env.store, 12).await;
        }
    }
    wait_until_caught_up(&env).await;
    first.stop().await;
    second.stop().await;
    let refs: Vec<&Sim> = sims.iter().chain(&extra).collect();
    let commits = all_commits(&refs);
    let expected = independent_fold(&commits);
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

    // Each notice covers the shards of one partition, and per shard the ranges follow on.
    let mut covered: BTreeMap<u16, u64> = BTreeMap::new();
    let mut per_partition = [0usize; 2];
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(200), notices.next()).await
    {
        let notice: projector::notice::Notice = serde_json::from_slice(&message.payload).unwrap();
        assert!(
            !notice.shards.is_empty(),
            "an inventory notice lists its shards"
        );
        let parity = notice.shards[0].shard % 2;
        assert!(
            notice.shards.iter().all(|r| r.shard % 2 == parity),
            "a notice mixes partitions: {:?}",
            notice.shards
        );
        assert_eq!(notice.shards.len(), usize::from(INVENTORY_SHARDS / 2));
        per_partition[usize::from(parity)] += 1;
        for range in &notice.shards {
            let seen = covered.entry(range.shard).or_insert(0);
            assert_eq!(range.from, *seen, "shard {} skipped a range", range.shard);
            *seen = range.to;
        }
        for row in &notice.availability {
            assert_eq!(
                shard_of(&row.event_id.to_string(), INVENTORY_SHARDS) % 2,
                parity,
                "a row of the other partition"
            );
        }
    }
    assert!(per_partition.iter().all(|n| *n > 0), "{per_partition:?}");
    // The per-shard checkpoints end where the notices said.
    let client = env.client().await;
    for row in client
        .query(
            "SELECT shard, last_sequence FROM projection_checkpoints WHERE projection = 'inventory'",
            &[],
        )
        .await
        .unwrap()
    {
        let shard = row.get::<_, i32>(0) as u16;
        assert_eq!(
            covered.get(&shard).copied().unwrap_or(0),
            row.get::<_, i64>(1) as u64,
            "shard {shard}"
        );
    }
}

async fn get(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (
        status,
        serde_json::from_str(body.trim()).unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_while_a_partition_is_behind_the_bound() {
    let env = TestEnv::new().await;
    let (mut sims, _) = events_in_both_partitions(&env, 1).await;
    let mut config = partition_config(&env, "0/2");
    config.ops_addr = Some("127.0.0.1:0".parse().unwrap());
    config.ready_max_lag_ms = 300;
    let running = Running::start(config).await;
    let ops = running.ops.unwrap();
    let ours = Partition::default().shards(INVENTORY_SHARDS);
    assert_eq!(ours.len(), 16);
    let mine = sims
        .iter_mut()
        .find(|s| partition_of(&s.event_id) == 0)
        .unwrap();

    // Caught up: ready, with the lag in the body.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (status, body) = get(ops, "/readyz").await;
        if status == 200 {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(body["max_lag_ms"], 300);
    assert!(
        body["projections"]["inventory"]["lag_ms"].as_u64().unwrap() <= 300,
        "{body}"
    );
    assert_eq!(
        body["projections"]["inventory"]["shards"]
            .as_array()
            .unwrap()
            .len(),
        8
    );

    // The partition's checkpoint rows locked: its batches wait, its commits age.
    let mut blocker = env.client().await;
    let tx = blocker.transaction().await.unwrap();
    tx.execute(
        "SELECT 1 FROM projection_checkpoints WHERE projection = 'inventory' AND shard % 2 = 0 FOR UPDATE",
        &[],
    )
    .await
    .unwrap();
    let last = mine.run(&env.store, 3).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, body) = get(ops, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    let lag = body["projections"]["inventory"]["lag_ms"].as_u64().unwrap();
    assert!(lag >= 600, "lag {lag} ms: {body}");
    assert!(
        body["projections"]["inventory"]["oldest_unapplied"]
            .as_u64()
            .unwrap()
            <= last
    );

    // Released: it catches up and is ready again.
    tx.rollback().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(ops, "/readyz").await;
        if status == 200 {
            assert_eq!(
                body["projections"]["inventory"]["oldest_unapplied"],
                serde_json::Value::Null
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready again: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.stop().await;
}

/// Every row of the inventory tables, next expiries and waiting lists included, as one string per
/// table (what `scripts/bench-rebuild` compares).
async fn inventory_rows(env: &TestEnv) -> Vec<String> {
    let client = env.client().await;
    let mut tables = Vec::new();
    for (table, order) in [
        ("availability", "event_id, section_id"),
        ("seat_maps", "event_id, section_id"),
        ("holds", "hold_id"),
        ("waitlist", "waitlist_id"),
    ] {
        let row = client
            .query_one(
                &format!(
                    "SELECT coalesce(string_agg(t::text, '|' ORDER BY {order}), '') FROM {table} t"
                ),
                &[],
            )
            .await
            .unwrap();
        tables.push(row.get(0));
    }
    tables
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_applying_shards_on_several_workers_in_small_batches_equals_the_live_projection()
{
    let env = TestEnv::new().await;
    let (mut sims, _) = events_in_both_partitions(&env, 2).await;
    for _ in 0..6 {
        for sim in sims.iter_mut() {
            sim.run(&env.store, 10).await;
        }
    }
    let running = Running::start(env.projector_config()).await;
    wait_until_caught_up(&env).await;
    running.stop().await;
    let live = inventory_rows(&env).await;
    let last = sims.iter().map(|s| s.last_sequence).max().unwrap();

    // Batches of three commits: a hold created in one batch of a worker ends in a later one.
    let reports = projector::rebuild(
        &env.projector_config(),
        &[ProjectionName::Inventory],
        projector::RebuildOptions {
            batch_commits: 3,
            ..projector::RebuildOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(reports[0].checkpoint, last);
    let rebuilt = inventory_rows(&env).await;
    for (table, (live, rebuilt)) in ["availability", "seat_maps", "holds", "waitlist"]
        .iter()
        .zip(live.iter().zip(&rebuilt))
    {
        assert_eq!(rebuilt, live, "{table} differs after the rebuild");
    }
    let client = env.client().await;
    let checkpoints: Vec<i64> = client
        .query(
            "SELECT last_sequence FROM projection_checkpoints WHERE projection = 'inventory'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(checkpoints.len(), usize::from(INVENTORY_SHARDS));
    assert!(
        checkpoints.iter().all(|c| *c as u64 == last),
        "{checkpoints:?}"
    );
}
