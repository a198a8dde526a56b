//! Append micro-benchmark against a real nats-server (`NATS_URL`, default the project's server).
//!
//! `cargo bench -p tv-nats --bench append` prints appends/s and latency percentiles for: one
//! append in flight; 64 in flight over 10k subjects; commits of 1, 10 and 100 events. Bounded by count; loopback only.

use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tv_nats::{CommitMeta, EventRecord, EventStore, Naming, Stream};

#[derive(Serialize, Clone)]
#[serde(tag = "type", content = "data")]
enum Sample {
    SeatsHeld { hold: u64, seats: [&'static str; 2] },
}

fn commit(size: usize) -> Vec<EventRecord<Sample>> {
    (0..size as u64)
        .map(|hold| {
            EventRecord::new(
                1,
                Sample::SeatsHeld {
                    hold,
                    seats: ["A-1", "A-2"],
                },
            )
        })
        .collect()
}

fn report(name: &str, count: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    println!(
        "{name:<44} {:>9.0}/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        count as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99)
    );
}

async fn sequential(store: &EventStore, name: &str, count: usize, size: usize) {
    let events = commit(size);
    let id = format!("seq-{size}");
    let mut expected = 0;
    let mut latencies = Vec::with_capacity(count);
    let start = Instant::now();
    for _ in 0..count {
        let t = Instant::now();
        let position = store
            .append(
                Stream::Inventory,
                &id,
                expected,
                &CommitMeta::new("Bench", "Hold"),
                &events,
            )
            .await
            .expect("append");
        expected = position.sequence;
        latencies.push(t.elapsed());
    }
    report(name, count, start.elapsed(), latencies);
}

async fn concurrent(store: &EventStore, count: usize, in_flight: usize, subjects: usize) {
    let store = Arc::new(store.clone());
    let start = Instant::now();
    let tasks: Vec<_> = (0..in_flight)
        .map(|worker| {
            let store = store.clone();
            tokio::spawn(async move {
                let events = commit(1);
                let mut latencies = Vec::new();
                // Each worker owns the subjects congruent to it, and knows their last sequence.
                let mut last = std::collections::HashMap::new();
                let mut i = worker;
                while i < count {
                    let id = format!(
                        "spread-{worker}-{}",
                        (i / in_flight) % (subjects / in_flight)
                    );
                    let expected = last.get(&id).copied().unwrap_or(0);
                    let t = Instant::now();
                    let position = store
                        .append(
                            Stream::Inventory,
                            &id,
                            expected,
                            &CommitMeta::new("Bench", "Hold"),
                            &events,
                        )
                        .await
                        .expect("append");
                    latencies.push(t.elapsed());
                    last.insert(id, position.sequence);
                    i += in_flight;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("worker"));
    }
    report(
        &format!("{in_flight} in flight over {subjects} subjects"),
        count,
        start.elapsed(),
        latencies,
    );
}

#[tokio::main]
async fn main() {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:14222".into());
    let prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let store = EventStore::connect(&url, Naming::new(&prefix))
        .await
        .expect("start NATS first: ./scripts/platform, or set NATS_URL");
    store.provision().await.expect("provision");
    println!(
        "append benchmark on {url} (nats-server {})",
        store.client().server_info().version
    );
    sequential(&store, "1 in flight, commit of 1 event", 3_000, 1).await;
    sequential(&store, "1 in flight, commit of 10 events", 2_000, 10).await;
    sequential(&store, "1 in flight, commit of 100 events", 1_000, 100).await;
    concurrent(&store, 30_000, 64, 10_000).await;
    for stream in Stream::ALL {
        let _ = store
            .jetstream()
            .delete_stream(store.naming().stream(stream))
            .await;
    }
}
