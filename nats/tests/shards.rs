//! The sharded inventory stream against a real server: appends and loads see no shards, a
//! filtered durable consumer sees only its shards, and a shard's next and last commits are found.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;
use support::{cleanup, events, meta, store, Sample};
use tv_nats::{shard_of, Durable, Stream, INVENTORY_SHARDS};

#[tokio::test]
async fn a_partition_consumes_only_its_shards() {
    let store = store().await;
    let naming = store.naming().clone();
    let ids: Vec<String> = (0..40).map(|i| format!("event-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let position = store
            .append(
                Stream::Inventory,
                id,
                0,
                &meta(),
                &events(i as u32..i as u32 + 1),
            )
            .await
            .unwrap();
        // The expected-sequence check works on the sharded subject.
        let conflict = store
            .append(Stream::Inventory, id, 0, &meta(), &events(0..1))
            .await;
        assert!(conflict.is_err(), "a second append at 0 must conflict");
        let loaded = store
            .load::<Sample>(Stream::Inventory, id, 0)
            .await
            .unwrap();
        assert_eq!(loaded.last_sequence, position.sequence);
        assert_eq!(loaded.commits.len(), 1);
    }

    // Partition 1 of 2: the odd shards.
    let mine: Vec<u16> = (0..INVENTORY_SHARDS).filter(|s| s % 2 == 1).collect();
    let filters = mine
        .iter()
        .map(|s| naming.shard_wildcard(Stream::Inventory, *s))
        .collect();
    let consumer = Durable::resume_at(&store, Stream::Inventory, "part-1of2", filters, 1)
        .await
        .unwrap();
    let expected: BTreeSet<String> = ids
        .iter()
        .filter(|id| shard_of(id, INVENTORY_SHARDS) % 2 == 1)
        .cloned()
        .collect();
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        let batch = consumer.fetch(100, Duration::from_secs(5)).await.unwrap();
        assert!(!batch.is_empty(), "timed out; saw {seen:?}");
        for d in &batch {
            let shard = naming
                .shard_of_subject(Stream::Inventory, &d.raw.subject)
                .unwrap();
            assert!(mine.contains(&shard), "{} is not ours", d.raw.subject);
            seen.push((
                d.raw.sequence,
                d.raw.subject.rsplit('.').next().unwrap().to_owned(),
            ));
        }
        batch.last().unwrap().ack().await.unwrap();
    }
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in stream order");
    let got: BTreeSet<String> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(got, expected);

    // The partition's subjects replayed from the start: the same commits.
    let mut replay = store
        .replay_subjects(
            Stream::Inventory,
            mine.iter()
                .map(|s| naming.shard_wildcard(Stream::Inventory, *s))
                .collect(),
            0,
        )
        .await
        .unwrap();
    let mut replayed = Vec::new();
    while let Some(raw) = replay.next().await {
        replayed.push(raw.unwrap().sequence);
    }
    assert_eq!(replayed, seen.iter().map(|(s, _)| *s).collect::<Vec<_>>());

    // A shard's first commit after a sequence, and its last.
    let shard = mine[0];
    let wildcard = naming.shard_wildcard(Stream::Inventory, shard);
    let of_shard: Vec<u64> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| shard_of(id, INVENTORY_SHARDS) == shard)
        .map(|(i, _)| i as u64 + 1)
        .collect();
    if let (Some(first), Some(last)) = (of_shard.first(), of_shard.last()) {
        let found = store
            .first_matching_after(Stream::Inventory, &wildcard, 0)
            .await
            .unwrap()
            .map(|(seq, _)| seq);
        assert_eq!(found, Some(*first));
        assert_eq!(
            store
                .last_matching(Stream::Inventory, &wildcard)
                .await
                .unwrap(),
            Some(*last)
        );
        assert_eq!(
            store
                .first_matching_after(Stream::Inventory, &wildcard, *last)
                .await
                .unwrap(),
            None
        );
    }
    cleanup(&store).await;
}
