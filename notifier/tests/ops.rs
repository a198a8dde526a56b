//! The notifier's operations endpoints, against the real NATS server and PostgreSQL: `/healthz`
//! answers, `/readyz` says both are reachable, and `/metrics` counts every notice written and
//! every fact skipped (a schema it cannot read, an order never placed, and — after its consumer is
//! deleted and every fact delivered again — each duplicate), with the consumer's backlog and lag.

mod support;

use domain::ids::OrderId;
use domain::ordering::OrderEvent;
use std::time::Duration;
use support::{order_facts, sample, Running, TestEnv};
use tv_nats::Stream;

const DEADLINE: Duration = Duration::from_secs(15);

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let response = http.get(url).send().await.expect("the notifier answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

/// Polls `/metrics` until every `(sample, value)` of `expected` is there with its value.
async fn wait_for_samples(http: &reqwest::Client, running: &Running, expected: &[(&str, f64)]) {
    let started = std::time::Instant::now();
    loop {
        let (status, exposition) = get(http, &running.url("/metrics")).await;
        assert_eq!(status, 200);
        let missing: Vec<_> = expected
            .iter()
            .filter(|(name, value)| sample(&exposition, name) != Some(*value))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "after {DEADLINE:?}, /metrics still lacks {missing:?}:\n{exposition}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_report_health_readiness_and_every_notice() {
    let env = TestEnv::new().await;
    let (confirmed, declined, never_placed) = (
        OrderId::new_random(),
        OrderId::new_random(),
        OrderId::new_random(),
    );
    env.append_order(confirmed, order_facts(confirmed, "alice", "confirmed"))
        .await;
    env.append_order(declined, order_facts(declined, "bob", "declined"))
        .await;
    env.append_order(
        never_placed,
        vec![vec![OrderEvent::PaymentFailed {
            reason: "card_declined".into(),
        }]],
    )
    .await;
    // A commit in no schema the notifier knows.
    let subject = env
        .store
        .naming()
        .subject(Stream::Orders, &OrderId::new_random().to_string());
    env.store
        .jetstream()
        .publish(subject, "not a commit".into())
        .await
        .expect("publishing")
        .await
        .expect("stored");

    let http = reqwest::Client::new();
    let notifier = notifier::Notifier::build(env.config())
        .await
        .expect("the notifier starts");
    let running = Running::start(notifier).await;

    let (status, health) = get(&http, &running.url("/healthz")).await;
    assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, ready) = get(&http, &running.url("/readyz")).await;
    let ready: serde_json::Value = serde_json::from_str(&ready).expect("JSON");
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        (&ready["status"], &ready["nats"], &ready["postgres"]),
        (&"ready".into(), &"connected".into(), &"reachable".into()),
        "{ready}"
    );
    assert_eq!(ready["replication"]["meets_wanted"], true, "{ready}");

    let written = [
        (
            r#"tv_notifier_notices_written_total{kind="order_confirmed"}"#,
            1.0,
        ),
        (
            r#"tv_notifier_notices_written_total{kind="payment_failed"}"#,
            1.0,
        ),
    ];
    let mut expected = written.to_vec();
    expected.extend([
        (
            r#"tv_notifier_notices_skipped_total{reason="undecodable"}"#,
            1.0,
        ),
        (
            r#"tv_notifier_notices_skipped_total{reason="unknown_order"}"#,
            1.0,
        ),
        // Every commit delivered and acked: no backlog left.
        ("tv_notifier_pending_commits", 0.0),
    ]);
    wait_for_samples(&http, &running, &expected).await;
    let (_, exposition) = get(&http, &running.url("/metrics")).await;
    let batches = sample(&exposition, "tv_notifier_lag_seconds_count").expect("a lag histogram");
    assert!(batches >= 1.0, "no batch's lag recorded:\n{exposition}");
    assert_eq!(
        sample(&exposition, "tv_notifier_batch_size_sum"),
        Some(7.0),
        "the seven commits, each fetched once:\n{exposition}"
    );
    running.stop().await;

    // Every fact again, to a fresh consumer: the notices are there, each one is a duplicate.
    env.store
        .jetstream()
        .get_stream(env.store.naming().stream(Stream::Orders))
        .await
        .expect("the ORDERS stream")
        .delete_consumer(notifier::DURABLE_NAME)
        .await
        .expect("deleting the notifier's consumer");
    let notifier = notifier::Notifier::build(env.config())
        .await
        .expect("the notifier starts again");
    let running = Running::start(notifier).await;
    let mut expected = written.to_vec();
    expected.extend([
        (
            r#"tv_notifier_notices_skipped_total{reason="duplicate"}"#,
            2.0,
        ),
        (
            r#"tv_notifier_notices_skipped_total{reason="undecodable"}"#,
            2.0,
        ),
        ("tv_notifier_pending_commits", 0.0),
    ]);
    wait_for_samples(&http, &running, &expected).await;
    running.stop().await;

    let outbox = env.outbox().await;
    let mut want = vec![
        (
            format!("{confirmed}:order_confirmed"),
            "order_confirmed".into(),
        ),
        (
            format!("{declined}:payment_failed"),
            "payment_failed".into(),
        ),
    ];
    want.sort();
    assert_eq!(outbox, want);
}
