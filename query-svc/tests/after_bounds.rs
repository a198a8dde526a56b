//! What `?after=` may cost: a position beyond the end of its stream is refused at once, and at
//! most `TV_QUERY_MAX_WAITERS` queries wait together; one more is refused at once with
//! `Retry-After`, and a waiter is answered as soon as the notice it waits for arrives.

mod common;

use common::support::*;
use common::{get_json, request, Stack};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_beyond_the_end_of_its_stream_is_refused_at_once() {
    let stack = Stack::start(5_000).await;
    let mut sim = open_event(&stack.env.store, 31).await;
    let last = sim.run(&stack.env.store, 3).await;
    stack.env.wait_for_checkpoint("inventory", last).await;

    for path in [
        format!(
            "/events/{}/availability?after={}",
            sim.event_id,
            stack.inventory_position(last + 1_000)
        ),
        format!(
            "/events/{}/sections/stalls/seats?after={}",
            sim.event_id,
            stack.inventory_position(u64::MAX)
        ),
    ] {
        let started = Instant::now();
        let (status, body) = get_json(stack.addr, &path).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("position_ahead")),
            "{path}: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{path} was answered after {:?}, not at once",
            started.elapsed()
        );
    }
    // The stream's own end is no trouble.
    let (status, body) = get_json(
        stack.addr,
        &format!(
            "/events/{}/availability?after={}",
            sim.event_id,
            stack.inventory_position(last)
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_beyond_the_limit_are_refused_at_once_with_retry_after() {
    let mut stack = Stack::start_with(|config| {
        config.after_wait_ms = 20_000;
        config.max_waiters = 1;
    })
    .await;
    let mut sim = open_event(&stack.env.store, 32).await;
    let opened = sim.run(&stack.env.store, 2).await;
    stack.env.wait_for_checkpoint("inventory", opened).await;
    // With the projector stopped, a new commit is in the stream but not in the read models.
    stack.stop_projector().await;
    let pending = sim.run(&stack.env.store, 1).await;
    let path = format!(
        "/events/{}/availability?after={}",
        sim.event_id,
        stack.inventory_position(pending)
    );

    let addr = stack.addr;
    let first = tokio::spawn({
        let path = path.clone();
        async move {
            let started = Instant::now();
            let answer = get_json(addr, &path).await;
            (answer, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!first.is_finished(), "the first query waits");

    let started = Instant::now();
    let (status, head, body) = request(addr, "GET", &path, None).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"not_caught_up\""), "{body}");
    assert!(head.contains("\r\nretry-after: "), "{head}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the second waiter was refused after {:?}",
        started.elapsed()
    );

    // The projector comes back: its notice ends the first wait, long before the bound.
    let projector = projector::Projector::build(stack.env.projector_config())
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(projector.run_until(async {
        let _ = stopped.await;
    }));
    let ((status, body), waited) = first.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        waited < Duration::from_secs(10),
        "the waiter was answered after {waited:?}"
    );
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    stack.stop().await;
}
