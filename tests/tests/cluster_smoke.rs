//! TicketView on a three-node NATS cluster with replicated streams, in a few hundred holds.
//!
//! The streams are first created with one replica: command-svc, told to want three
//! (`TV_STREAM_REPLICAS=3`), serves but its `/readyz` says the replication is short. Raised to three
//! replicas (as tv-provision does), it is ready. Then buyers hold seats through it while the node
//! leading the inventory stream is killed with SIGKILL mid-sale: the holds go on after a leader
//! election, and the stream read back afterwards has every acknowledged hold, none twice, no seat
//! in two holds, and no hold nobody was told about. The killed node, started again, catches up
//! (before the read: a replay consumer is placed by the meta group, which may have lost its leader
//! with the same node).
//!
//! The cluster is the test's own (`e2e::cluster`); command-svc runs as a real process on its seed
//! list. Skipped, saying so, only when the pinned nats-server is not installed.

use e2e::cluster::NatsCluster;
use e2e::process::{
    assert_holds_match_stream, fault_event, fault_http_client, hold_until_answered, hold_wishes,
    HoldOutcome, ScratchDir, ServiceProcess, COMMAND_SVC,
};
use e2e::{Api, InventoryLog};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tv_nats::{EventStore, Naming, Snapshots, Stream, StreamSettings};

const BUYERS: usize = 16;
const HOLDS_PER_BUYER: usize = 25;
const SECTIONS: usize = 8;
/// The inventory stream's leader is killed once this many holds were acknowledged.
const KILL_AFTER_ACKS: usize = 100;

fn replicas(replicas: usize, rescale: bool) -> StreamSettings {
    StreamSettings { replicas, rescale }
}

async fn readyz(http: &reqwest::Client, base_url: &str) -> (u16, serde_json::Value) {
    match http.get(format!("{base_url}/readyz")).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or_default())
        }
        Err(_) => (0, serde_json::Value::Null),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_survive_the_loss_of_the_inventory_leader_on_a_three_node_cluster() {
    let Some(mut cluster) = NatsCluster::start(3).await else {
        eprintln!(
            "SKIPPED: the pinned nats-server is not installed at .tools/nats-{}/bin/nats-server; \
             ./scripts/test installs it (scripts/lib/infra.sh)",
            e2e::process::NATS_SERVER_VERSION
        );
        return;
    };
    let started = Instant::now();
    let prefix = e2e::unique_prefix();
    let admin = EventStore::connect(&cluster.url(), Naming::new(&prefix))
        .await
        .expect("connecting to the cluster")
        .with_stream_settings(replicas(3, true));
    // The snapshot bucket as it should be; the streams, wrongly, with one replica.
    Snapshots::open(&admin).await.expect("the snapshot bucket");
    admin
        .provision_with(replicas(1, true))
        .await
        .expect("R1 streams on the cluster");

    let scratch = ScratchDir::new("cluster-smoke");
    let mut svc = ServiceProcess::start_service(
        COMMAND_SVC,
        &cluster.url(),
        &prefix,
        &scratch.path().join("command-svc.log"),
        &[("TV_STREAM_REPLICAS", "3")],
    )
    .await;
    let http = fault_http_client();
    let (status, body) = readyz(&http, &svc.base_url).await;
    assert_eq!(status, 503, "R1 streams on a cluster wanting R3: {body}");
    let problem = body["replication"]["problem"].as_str().unwrap_or_default();
    assert!(
        problem.contains("fewer replicas than TV_STREAM_REPLICAS=3"),
        "{body}"
    );
    assert!(
        body["replication"]["streams"]
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["replicas"] == 1)),
        "{body}"
    );

    admin
        .provision_with(replicas(3, true))
        .await
        .expect("raising the streams to three replicas");
    let ready = e2e::eventually(Duration::from_secs(20), || {
        let (http, base_url) = (http.clone(), svc.base_url.clone());
        async move {
            let (status, body) = readyz(&http, &base_url).await;
            (status == 200).then_some(body)
        }
    })
    .await;
    let Some(ready) = ready else {
        panic!(
            "command-svc not ready within 20 s of the streams reaching three replicas: {}",
            readyz(&http, &svc.base_url).await.1
        )
    };
    assert_eq!(ready["replication"]["meets_wanted"], true, "{ready}");

    let api = Api::new(http.clone(), &svc.base_url);
    let event = api
        .create_on_sale("cluster-event", &fault_event(SECTIONS).to_json())
        .await;
    let inventory_stream = admin.naming().stream(Stream::Inventory);

    let mut rng = StdRng::seed_from_u64(e2e::seed(0xC1_0573));
    let acks = Arc::new(AtomicUsize::new(0));
    let ack_times = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let deadline = Instant::now() + Duration::from_secs(45);
    let buyers: Vec<_> = hold_wishes(&mut rng, "cluster", BUYERS, HOLDS_PER_BUYER, SECTIONS)
        .into_iter()
        .map(|list| {
            let (http, base_url, event) = (http.clone(), svc.base_url.clone(), event.clone());
            let (acks, ack_times) = (acks.clone(), ack_times.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for wish in list {
                    let outcome =
                        hold_until_answered(&http, &base_url, &event, wish, deadline).await;
                    if outcome.hold_id().is_some() {
                        acks.fetch_add(1, Ordering::SeqCst);
                        ack_times.lock().unwrap().push(Instant::now());
                    }
                    outcomes.push(outcome);
                }
                outcomes
            })
        })
        .collect();

    let waiting = Instant::now();
    while acks.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "only {} holds acknowledged in 30 s",
            acks.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let leader = cluster
        .stream_leader(&inventory_stream)
        .await
        .expect("the inventory stream has a leader");
    let victim = cluster.index_of(&leader).expect("a node of the cluster");
    cluster.kill_node(victim);
    let killed_at = Instant::now();
    let acked_at_kill = acks.load(Ordering::SeqCst);

    let outcomes: Vec<HoldOutcome> = futures::future::join_all(buyers)
        .await
        .into_iter()
        .flat_map(|b| b.expect("a buyer task"))
        .collect();
    let unanswered = outcomes.iter().filter(|o| o.answer.is_none()).count();
    assert_eq!(
        unanswered,
        0,
        "buyers got no final answer by the deadline; command-svc's log:\n{}",
        svc.log_tail(30)
    );
    for outcome in &outcomes {
        let (status, body) = outcome.answer.as_ref().expect("answered");
        match *status {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => assert_eq!(
                e2e::error_code(body),
                Some("seat_unavailable"),
                "{outcome:?}"
            ),
            other => panic!("key {}: unexpected {other}: {body}", outcome.wish.key),
        }
    }
    let created = outcomes.iter().filter(|o| o.hold_id().is_some()).count();
    let after_kill = outcomes
        .iter()
        .filter(|o| o.hold_id().is_some() && o.answered_at.is_some_and(|t| t > killed_at))
        .count();
    let mut times = ack_times.lock().unwrap().clone();
    times.sort();
    let pause = times
        .windows(2)
        .filter(|w| w[1] > killed_at)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    let retried: u32 = outcomes
        .iter()
        .map(|o| o.unavailable_answers + o.lost_attempts)
        .sum();
    eprintln!(
        "{} holds: {created} acknowledged ({acked_at_kill} before {leader}, the inventory \
         stream's leader, was killed; {after_kill} after); {retried} attempts answered 503 or \
         not at all were retried with the same key; the longest gap between acknowledgements \
         after the kill was {pause:.2?}",
        outcomes.len()
    );
    assert!(
        after_kill > 0,
        "no hold was acknowledged after the leader was killed"
    );

    // The killed node comes back and catches up from its peers.
    cluster.start_node(victim).await;
    let last = admin
        .last_sequence(Stream::Inventory)
        .await
        .expect("the inventory stream's last sequence");
    let caught_up = e2e::eventually(Duration::from_secs(20), || {
        let cluster = &cluster;
        let stream = inventory_stream.clone();
        async move {
            let seen = cluster.stream_last_sequence(victim, &stream).await?;
            (seen >= last).then_some(seen)
        }
    })
    .await;
    assert!(
        caught_up.is_some(),
        "{leader} did not catch up to sequence {last} of {inventory_stream} within 20 s; its \
         log:\n{}",
        cluster.log_tail(victim, 20)
    );

    // The stream as the cluster has it: every acknowledged hold, none twice, none unannounced.
    // A replay consumer created while the cluster still re-places consumers can time out
    // (OPERATIONS.md, "Known gaps on a cluster"): the read is retried, the stream is not.
    let mut readable = false;
    for _ in 0..4 {
        match admin
            .load::<domain::inventory::InventoryEvent>(Stream::Inventory, &event, 0)
            .await
        {
            Ok(_) => {
                readable = true;
                break;
            }
            Err(e) => eprintln!("reading the inventory: {e}; again"),
        }
    }
    assert!(
        readable,
        "the inventory stream could not be read in four attempts"
    );
    let log = InventoryLog::read(&admin, &event).await;
    let recorded = assert_holds_match_stream(&log, &inventory_stream, &outcomes);
    assert_eq!(recorded, created);

    svc.stop();
    eprintln!("cluster_smoke took {:.1?}", started.elapsed());
}
