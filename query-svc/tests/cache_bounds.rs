//! Unauthenticated requests cannot fill query-svc's memory: a seat map's section id must be a
//! valid section id, and a miss (a section, hold or event nobody stored) is never cached, so
//! random keys leave nothing behind. In its own test binary so that the process's metrics are
//! this test's alone.

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
async fn unknown_or_invalid_keys_are_never_cached() {
    let stack = Stack::start(2_000).await;
    let sim = open_event(&stack.env.store, 41).await;
    stack
        .env
        .wait_for_checkpoint("inventory", sim.last_sequence)
        .await;
    let event = sim.event_id;

    // Not a section id by the domain's rules: refused before any lookup.
    for section in ["no%20such", &"s".repeat(65), "a.b", "%C3%A9"] {
        let path = format!("/events/{event}/sections/{section}/seats");
        let (status, body) = get_json(stack.addr, &path).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_section_id")),
            "{path}: {body}"
        );
    }

    // A valid id nobody stored is looked up each time, never kept.
    let series = r#"tv_query_cache_loads_total{cache="seat_maps"}"#;
    let (_, before) = get(stack.addr, "/metrics").await;
    let path = format!("/events/{event}/sections/nope/seats");
    for _ in 0..3 {
        let (status, body) = get_json(stack.addr, &path).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("unknown_section")),
            "{body}"
        );
    }
    let (_, after) = get(stack.addr, "/metrics").await;
    assert_eq!(
        counter(&after, series) - counter(&before, series),
        3,
        "an unknown section was cached: three reads did not load it three times"
    );

    // A known one is cached: loaded once.
    let (_, before) = get(stack.addr, "/metrics").await;
    for _ in 0..3 {
        let (status, body) = get_json(
            stack.addr,
            &format!("/events/{event}/sections/stalls/seats"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, after) = get(stack.addr, "/metrics").await;
    assert_eq!(counter(&after, series) - counter(&before, series), 1);
    stack.stop().await;
}
