//! A notifier killed with a batch in hand: the server counts those commits delivered to a process
//! that is gone. The next notifier must write their notices within seconds (not after a long ack
//! wait), and each exactly once, with no new traffic to push it along.

mod support;

use domain::ids::OrderId;
use std::time::{Duration, Instant};
use support::{order_facts, Running, TestEnv};
use tv_nats::{Durable, DurableOptions, Stream};

/// Far below a 30 s ack wait, far above a one-second one and a notifier's start.
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notifier_killed_with_a_batch_in_hand_is_replaced_within_seconds_and_notifies_once() {
    let env = TestEnv::new().await;
    let orders: Vec<OrderId> = (0..3).map(|_| OrderId::new_random()).collect();
    for (n, order) in orders.iter().enumerate() {
        env.append_order(
            *order,
            order_facts(*order, &format!("buyer{n}"), "confirmed"),
        )
        .await;
    }
    let config = env.config();
    {
        // The killed notifier: its consumer, as configured, with every commit fetched, none acked.
        let options = DurableOptions {
            explicit_acks: true,
            ack_wait: Duration::from_secs(config.ack_wait_secs.max(1)),
        };
        let dead = Durable::ensure_with(
            &env.store,
            Stream::Orders,
            notifier::DURABLE_NAME,
            None,
            options,
        )
        .await
        .expect("the notifier's consumer");
        let last = env.store.last_sequence(Stream::Orders).await.unwrap();
        let mut in_hand = Vec::new();
        while in_hand.last().map(|d: &tv_nats::Delivery| d.raw.sequence) != Some(last) {
            let batch = dead.fetch(100, Duration::from_secs(5)).await.unwrap();
            assert!(!batch.is_empty(), "every commit is delivered");
            in_hand.extend(batch);
        }
    }

    let started = Instant::now();
    let notifier = notifier::Notifier::build(config)
        .await
        .expect("the notifier starts");
    let running = Running::start(notifier).await;
    let expected = orders.len();
    loop {
        let confirmations = confirmations(&env).await;
        if confirmations == expected {
            break;
        }
        assert!(
            started.elapsed() < RECOVERY_LIMIT,
            "{confirmations} of {expected} confirmations after {RECOVERY_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("notices written {:?} after the restart", started.elapsed());

    // Past another ack wait or two: nothing is written twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(confirmations(&env).await, expected);
    running.stop().await;
}

async fn confirmations(env: &TestEnv) -> usize {
    env.outbox()
        .await
        .iter()
        .filter(|(_, kind)| kind == "order_confirmed")
        .count()
}
