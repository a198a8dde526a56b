//! Snapshots are read while they are rewritten: a writer restoring an event (at start, or after
//! losing an append race to another instance) reads the snapshot another instance may be saving
//! at that very moment. A read must then finish, with the old or the new snapshot or with an error,
//! never hang: the writer waits for it before it answers anything.

use e2e::{scenario, TestEnv};
use std::time::{Duration, Instant};
use tv_nats::Snapshots;

/// Rounds of the race; each one rewrites the snapshot once while it is being read.
const ROUNDS: u64 = 40;
/// A snapshot spanning several object-store chunks (128 KiB each), so a read takes a while.
const SNAPSHOT_BYTES: usize = 600 * 1024;
/// Far longer than a read of a snapshot this size takes on loopback.
const READ_LIMIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_read_during_a_rewrite_finishes() {
    scenario(|env: TestEnv| async move {
        let snapshots = Snapshots::open(&env.store)
            .await
            .expect("the snapshot bucket");
        let key = "inventory.race";
        let state = vec![b'x'; SNAPSHOT_BYTES];
        snapshots
            .save(key, 1, &state)
            .await
            .expect("a first snapshot");

        let saver = {
            let (snapshots, state) = (snapshots.clone(), state.clone());
            tokio::spawn(async move {
                for sequence in 2..2 + ROUNDS {
                    snapshots.save(key, sequence, &state).await.expect("a save");
                }
            })
        };
        let mut hung = 0;
        let mut read = 0;
        let started = Instant::now();
        while !saver.is_finished() && started.elapsed() < Duration::from_secs(30) {
            match tokio::time::timeout(READ_LIMIT, snapshots.load(key)).await {
                Ok(Ok(Some((sequence, bytes)))) => {
                    assert!(sequence >= 1);
                    assert_eq!(bytes.len(), SNAPSHOT_BYTES, "a torn snapshot");
                    read += 1;
                }
                // An error is fine: the caller replays the stream instead.
                Ok(Ok(None)) | Ok(Err(_)) => read += 1,
                Err(_) => hung += 1,
            }
        }
        saver.await.expect("the saver");
        eprintln!("{read} reads finished, {hung} hung for {READ_LIMIT:?} during {ROUNDS} saves");
        assert_eq!(
            hung, 0,
            "Snapshots::load never returned: it read the chunks of an object that the concurrent \
             save purged, and waits for them forever"
        );
    })
    .await;
}
