//! A cold hot key does not stampede PostgreSQL: concurrent misses wait for one load. In its own
//! test binary so that the process's metrics are this test's alone.

mod common;

use common::support::*;
use common::{get, get_json, Stack};

/// The value of a counter with this exact label set in Prometheus text, 0 when absent.
fn counter(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_of_one_key_load_it_once() {
    let stack = Stack::start(2_000).await;
    let mut sim = open_event(&stack.env.store, 21).await;
    let last = sim.run(&stack.env.store, 20).await;
    stack.env.wait_for_checkpoint("inventory", last).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let series = r#"tv_query_cache_loads_total{cache="availability"}"#;
    let (_, before) = get(stack.addr, "/metrics").await;
    let path = format!("/events/{}/availability", sim.event_id);
    let requests: Vec<_> = (0..64)
        .map(|_| {
            let path = path.clone();
            let addr = stack.addr;
            tokio::spawn(async move { get_json(addr, &path).await.0 })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 200);
    }
    let (_, after) = get(stack.addr, "/metrics").await;
    let loads = counter(&after, series) - counter(&before, series);
    // One load, or none when something warmed the key first on a slow machine: never 64.
    assert!(
        loads <= 1,
        "64 concurrent misses loaded the key {loads} times"
    );
    stack.stop().await;
}
