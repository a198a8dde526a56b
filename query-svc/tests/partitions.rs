//! query-svc over two projector partitions: coherence is kept per inventory shard, so a query
//! about one event waits for its own shard's partition only, and a partition's notices never make
//! another partition's shards look covered.

mod common;

use common::support::*;
use common::*;
use std::time::Duration;
use tokio::sync::oneshot;
use tv_nats::{shard_of, INVENTORY_SHARDS};

struct Projector {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start_partition(env: &TestEnv, partition: &str) -> Projector {
    let mut config = env.projector_config();
    config.partition = partition.parse().unwrap();
    let projector = projector::Projector::build(config).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(projector.run_until(async {
        let _ = stopped.await;
    }));
    Projector { stop, task }
}

fn partition_of(sim: &Sim) -> u16 {
    shard_of(&sim.event_id.to_string(), INVENTORY_SHARDS) % 2
}

/// The section versions the stream says an event's availability must show.
fn versions(sims: &[&Sim], event: &Sim) -> Vec<(String, u64)> {
    let fold = independent_fold(&all_commits(sims));
    fold.availability
        .iter()
        .filter(|((e, _), _)| *e == event.event_id.to_string())
        .map(|((_, section), (.., version))| (section.clone(), *version))
        .collect()
}

fn answered_versions(availability: &serde_json::Value) -> Vec<(String, u64)> {
    let mut versions: Vec<(String, u64)> = availability["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["section_id"].as_str().unwrap().to_owned(),
                s["version"].as_u64().unwrap(),
            )
        })
        .collect();
    versions.sort();
    versions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_waits_for_its_own_shard_and_no_other_partition_covers_it() {
    let env = TestEnv::new().await;
    // One event in each partition (events opened beyond those stay in the stream too).
    let mut opened = Vec::new();
    let mut seed = 300;
    while !(opened.iter().any(|s| partition_of(s) == 0)
        && opened.iter().any(|s| partition_of(s) == 1))
    {
        seed += 1;
        opened.push(open_event(&env.store, seed).await);
    }
    let a = opened.iter().position(|s| partition_of(s) == 0).unwrap();
    let b = opened.iter().position(|s| partition_of(s) == 1).unwrap();

    // Only partition 0/2 runs.
    let first = start_partition(&env, "0/2").await;
    let mut config = query_svc::Config::for_test(&nats_url(), &env.database_url, &env.prefix);
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.after_wait_ms = 400;
    let app = query_svc::build(config).await.unwrap();
    let addr = app.local_addr();
    let (stop_query, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let a_last = opened[a].run(&env.store, 20).await;
    let b_last = opened[b].run(&env.store, 20).await;
    let a_id = opened[a].event_id;
    let b_id = opened[b].event_id;
    let position = |seq: u64| format!("{}:{}", env.stream_name(tv_nats::Stream::Inventory), seq);

    // Event A at its own position: its partition runs.
    let (status, body) = get_json(
        addr,
        &format!("/events/{a_id}/availability?after={}", position(a_last)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let sims: Vec<&Sim> = opened.iter().collect();
    assert_eq!(answered_versions(&body), versions(&sims, &opened[a]));

    // Event A at B's later position: A's shard has nothing up to there, so A answers at once,
    // although B's partition has not applied B's commits.
    assert!(b_last > a_last);
    let (status, body) = get_json(
        addr,
        &format!("/events/{a_id}/availability?after={}", position(b_last)),
    )
    .await;
    assert_eq!(status, 200, "A waits for its own shard only: {body}");
    assert_eq!(answered_versions(&body), versions(&sims, &opened[a]));

    // Event B: partition 0's notices never cover B's shard, however many of them arrive.
    let (status, body) = get_json(
        addr,
        &format!("/events/{b_id}/availability?after={}", position(b_last)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("not_caught_up")),
        "B's partition is not running: {body}"
    );
    let (status, body) = get_json(addr, "/readyz").await;
    assert_eq!(
        status, 200,
        "B's commits are younger than the readiness bound: {body}"
    );
    assert!(
        body["projections"]["inventory"]["oldest_unapplied"]
            .as_u64()
            .is_some(),
        "{body}"
    );

    // Partition 1/2 starts: B answers, exactly as the stream says.
    let second = start_partition(&env, "1/2").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (status, body) = get_json(
            addr,
            &format!("/events/{b_id}/availability?after={}", position(b_last)),
        )
        .await;
        if status == 200 {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "B never caught up: {body}"
        );
    };
    assert_eq!(answered_versions(&body), versions(&sims, &opened[b]));
    let (status, body) = get_json(addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");

    let _ = stop_query.send(());
    for projector in [first, second] {
        let _ = projector.stop.send(());
        projector.task.await.unwrap().unwrap();
    }
}
