//! Atomic batches over two aggregates: all or nothing.

mod support;

use support::{cleanup, events, meta, store, Sample};
use tv_nats::{AppendError, AtomicAppend, Stream};

#[tokio::test]
async fn an_atomic_batch_stores_both_commits() {
    let store = store().await;
    let batch = vec![
        AtomicAppend::new(&store, Stream::Inventory, "a", 0, meta(), &events(0..2)).unwrap(),
        AtomicAppend::new(&store, Stream::Inventory, "b", 0, meta(), &events(2..3)).unwrap(),
    ];
    let positions = store.append_atomic(batch).await.unwrap();
    assert_eq!(
        positions.iter().map(|p| p.sequence).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let a = store
        .load::<Sample>(Stream::Inventory, "a", 0)
        .await
        .unwrap();
    let b = store
        .load::<Sample>(Stream::Inventory, "b", 0)
        .await
        .unwrap();
    assert_eq!((a.last_sequence, b.last_sequence), (1, 2));
    cleanup(&store).await;
}

#[tokio::test]
async fn an_atomic_batch_with_one_stale_expected_sequence_stores_nothing() {
    let store = store().await;
    store
        .append(Stream::Inventory, "b", 0, &meta(), &events(0..1))
        .await
        .unwrap();
    let batch = vec![
        AtomicAppend::new(&store, Stream::Inventory, "a", 0, meta(), &events(0..1)).unwrap(),
        // Stale: "b" is at sequence 1.
        AtomicAppend::new(&store, Stream::Inventory, "b", 0, meta(), &events(1..2)).unwrap(),
    ];
    let err = store.append_atomic(batch).await.unwrap_err();
    assert!(
        matches!(
            err,
            AppendError::Conflict { .. } | AppendError::BatchRefused(_)
        ),
        "{err}"
    );
    assert_eq!(store.last_sequence(Stream::Inventory).await.unwrap(), 1);
    let a = store
        .load::<Sample>(Stream::Inventory, "a", 0)
        .await
        .unwrap();
    assert!(a.commits.is_empty(), "nothing of the batch may be stored");
    cleanup(&store).await;
}
