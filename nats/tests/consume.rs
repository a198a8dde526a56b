//! Durable consumers, replay, snapshots and timers against a real server.

mod support;

use std::time::Duration;
use support::{cleanup, events, meta, store, Sample};
use tv_nats::{Durable, DurableOptions, EventStore, Snapshots, Stream, Timers};

#[tokio::test]
async fn a_durable_consumer_redelivers_what_was_not_acked() {
    let store = store().await;
    append_orders(&store, 5).await;
    {
        let consumer = Durable::ensure(&store, Stream::Orders, "proj", None)
            .await
            .unwrap();
        let batch = consumer.fetch(3, Duration::from_secs(5)).await.unwrap();
        assert!(!batch.is_empty());
        // Ack policy All: acking the last acks the batch.
        let acked = batch.last().unwrap().raw.sequence;
        batch.last().unwrap().ack().await.unwrap();
        assert!(acked >= 1);
    }
    // A new binding (a restarted projector) continues after the acked ones only.
    let consumer = Durable::ensure(&store, Stream::Orders, "proj", None)
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let batch = consumer.fetch(10, Duration::from_secs(5)).await.unwrap();
        assert!(!batch.is_empty(), "redelivery timed out; saw {seen:?}");
        for d in &batch {
            seen.push(d.raw.sequence);
        }
        batch.last().unwrap().ack().await.unwrap();
        if seen.last() == Some(&5) {
            break;
        }
    }
    assert_eq!(*seen.last().unwrap(), 5);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    cleanup(&store).await;
}

/// One commit on each of `count` orders, `o0`, `o1`, ….
async fn append_orders(store: &EventStore, count: u32) {
    for i in 0..count {
        store
            .append(
                Stream::Orders,
                &format!("o{i}"),
                0,
                &meta(),
                &events(i..i + 1),
            )
            .await
            .unwrap();
    }
}

/// The sequences of the next `count` deliveries (fewer after 5 s). A fetch may hand over what the
/// server has sent so far, so it fetches until they are in.
async fn sequences_of(consumer: &Durable, count: usize) -> Vec<u64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut sequences = Vec::new();
    while sequences.len() < count && std::time::Instant::now() < deadline {
        let batch = consumer.fetch(10, Duration::from_secs(1)).await.unwrap();
        sequences.extend(batch.iter().map(|d| d.raw.sequence));
    }
    sequences
}

/// After a crash with a batch delivered and not acked, and no new traffic, a consumer resumed at
/// its checkpoint delivers the rest at once, not after the delivered batch's `ack_wait`.
#[tokio::test]
async fn a_resumed_consumer_delivers_from_its_start_at_once() {
    let store = store().await;
    append_orders(&store, 10).await;
    {
        // Delivered, never acked: a process killed in the middle of applying it.
        let crashed = Durable::resume_at(&store, Stream::Orders, "proj", Vec::new(), 1)
            .await
            .unwrap();
        assert_eq!(
            sequences_of(&crashed, 10).await,
            (1..=10).collect::<Vec<u64>>()
        );
    }
    // Checkpoint 6 was committed: the restarted consumer starts at 7.
    let started = std::time::Instant::now();
    let resumed = Durable::resume_at(&store, Stream::Orders, "proj", Vec::new(), 7)
        .await
        .unwrap();
    assert_eq!(sequences_of(&resumed, 4).await, vec![7, 8, 9, 10]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "resumed in {:?}, not after an ack wait",
        started.elapsed()
    );

    // A rewind (after a consumer error) does the same on a live handle.
    let mut resumed = resumed;
    resumed.rewind(9).await.unwrap();
    assert_eq!(sequences_of(&resumed, 2).await, vec![9, 10]);
    cleanup(&store).await;
}

/// A reactor's delivery is kept in progress while it is held, however long past `ack_wait`, and
/// comes back to another instance within about `ack_wait` once it is dropped unacked (a crash).
#[tokio::test]
async fn a_held_delivery_stays_in_progress_and_a_dropped_one_comes_back_within_ack_wait() {
    let store = store().await;
    append_orders(&store, 1).await;
    let options = DurableOptions::reactor(Duration::from_secs(1));
    let first = Durable::ensure_with(&store, Stream::Orders, "reactor", None, options.clone())
        .await
        .unwrap();
    let second = Durable::ensure_with(&store, Stream::Orders, "reactor", None, options)
        .await
        .unwrap();
    let held = first.fetch(10, Duration::from_secs(5)).await.unwrap();
    assert_eq!(held.len(), 1);
    // Held for three ack waits: the other instance must not get it meanwhile.
    let meanwhile = second.fetch(10, Duration::from_secs(3)).await.unwrap();
    assert!(meanwhile.is_empty(), "a held delivery was sent again");

    // The first instance crashes: its delivery and its pull are gone.
    let dropped_at = std::time::Instant::now();
    drop(held);
    drop(first);
    let again = second.fetch(10, Duration::from_secs(10)).await.unwrap();
    assert_eq!(again.len(), 1, "the dropped delivery comes back");
    assert_eq!(
        again[0].delivered, 2,
        "delivered once more, not once per tick"
    );
    assert!(
        dropped_at.elapsed() < Duration::from_secs(3),
        "came back after {:?}",
        dropped_at.elapsed()
    );
    again[0].ack().await.unwrap();
    cleanup(&store).await;
}

#[tokio::test]
async fn replay_reads_a_whole_stream_from_a_sequence() {
    let store = store().await;
    for i in 0..30 {
        store
            .append(
                Stream::Catalog,
                &format!("e{}", i % 3),
                if i < 3 { 0 } else { i as u64 - 2 },
                &meta(),
                &events(i..i + 1),
            )
            .await
            .unwrap();
    }
    let mut replay = store.replay(Stream::Catalog, 10).await.unwrap();
    assert_eq!(replay.end_sequence(), 30);
    let mut sequences = Vec::new();
    while let Some(raw) = replay.next().await {
        let raw = raw.unwrap();
        let commit = raw.decode::<Sample>().unwrap();
        assert_eq!(commit.events.len(), 1);
        sequences.push(raw.sequence);
    }
    assert_eq!(sequences, (11..=30).collect::<Vec<_>>());
    cleanup(&store).await;
}

#[tokio::test]
async fn snapshots_round_trip_and_replace() {
    let store = store().await;
    let snapshots = Snapshots::open(&store).await.unwrap();
    assert_eq!(snapshots.load("inventory.x").await.unwrap(), None);
    let big = vec![7u8; 3 * 1024 * 1024];
    snapshots.save("inventory.x", 41, &big).await.unwrap();
    snapshots.save("inventory.x", 42, b"state").await.unwrap();
    assert_eq!(
        snapshots.load("inventory.x").await.unwrap(),
        Some((42, b"state".to_vec()))
    );
    cleanup(&store).await;
}

#[tokio::test]
async fn a_timer_fires_into_a_durable_consumer_and_a_new_schedule_replaces_the_old() {
    let store = store().await;
    let timers = Timers::new(store.clone());
    let now = time::OffsetDateTime::now_utc();
    // Set far away, then replaced by one due now: only the second fires.
    timers
        .set("evt1", now + time::Duration::hours(1), "late".into())
        .await
        .unwrap();
    timers
        .set("evt1", now + time::Duration::seconds(1), "soon".into())
        .await
        .unwrap();
    let consumer = Durable::ensure(
        &store,
        Stream::Timers,
        "expiry",
        Some(timers.fired_wildcard()),
    )
    .await
    .unwrap();
    let batch = consumer.fetch(10, Duration::from_secs(10)).await.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].raw.subject, timers.fired_subject("evt1"));
    assert_eq!(&batch[0].raw.payload[..], b"soon");
    batch[0].ack().await.unwrap();
    let more = consumer
        .fetch(10, Duration::from_millis(1500))
        .await
        .unwrap();
    assert!(more.is_empty(), "the replaced schedule must not fire");
    cleanup(&store).await;
}
