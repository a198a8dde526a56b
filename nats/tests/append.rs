//! Appends against a real nats-server: optimistic concurrency, commits, deduplication and the
//! settling of a timed-out append.

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::{cleanup, events, meta, store, Sample};
use tv_nats::{AppendError, AppendOptions, Stream};

#[tokio::test]
async fn of_64_racing_appends_with_one_expected_sequence_exactly_one_wins() {
    let store = Arc::new(store().await);
    store
        .append(Stream::Inventory, "hot", 0, &meta(), &events(0..1))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(Stream::Inventory, "hot", 1, &meta(), &events(i..i + 1))
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(position) => {
                wins += 1;
                assert_eq!(position.sequence, 2);
            }
            Err(AppendError::Conflict {
                expected, actual, ..
            }) => {
                conflicts += 1;
                assert_eq!(expected, 1);
                assert!(matches!(actual, Some(2) | None), "actual {actual:?}");
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!((wins, conflicts), (1, 63));
    let loaded = store
        .load::<Sample>(Stream::Inventory, "hot", 0)
        .await
        .unwrap();
    assert_eq!(loaded.commits.len(), 2);
    assert_eq!(loaded.last_sequence, 2);
    cleanup(&store).await;
}

#[tokio::test]
async fn a_commit_of_many_events_is_one_message_read_back_in_order() {
    let store = store().await;
    let position = store
        .append(Stream::Orders, "o-1", 0, &meta(), &events(0..50))
        .await
        .unwrap();
    assert_eq!(position.stream, store.naming().stream(Stream::Orders));
    assert_eq!(store.last_sequence(Stream::Orders).await.unwrap(), 1);
    let loaded = store
        .load::<Sample>(Stream::Orders, "o-1", 0)
        .await
        .unwrap();
    assert_eq!(loaded.commits.len(), 1);
    let numbers: Vec<u32> = loaded.commits[0]
        .events
        .iter()
        .map(|Sample::Counted { n }| *n)
        .collect();
    assert_eq!(numbers, (0..50).collect::<Vec<_>>());
    assert_eq!(loaded.commits[0].schemas, vec![1; 50]);
    cleanup(&store).await;
}

#[tokio::test]
async fn the_same_commit_id_twice_is_stored_once() {
    let store = store().await;
    let meta = meta();
    let first = store
        .append(Stream::Payments, "p", 0, &meta, &events(0..1))
        .await
        .unwrap();
    // A retry of the same commit (same id, same expected sequence) is acknowledged as a duplicate.
    let again = store
        .append(Stream::Payments, "p", 0, &meta, &events(0..1))
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(store.last_sequence(Stream::Payments).await.unwrap(), 1);
    cleanup(&store).await;
}

#[tokio::test]
async fn a_timed_out_append_that_was_stored_is_reported_as_stored() {
    let store = store().await;
    // A timeout far below a round trip: the publish reaches the server, the reply is lost.
    let impatient = store.clone().with_append_options(AppendOptions {
        timeout: Duration::from_micros(1),
        resolve_attempts: 5,
        ..AppendOptions::default()
    });
    let position = impatient
        .append(Stream::Inventory, "slow", 0, &meta(), &events(0..3))
        .await
        .expect("settled by reading back");
    assert_eq!(position.sequence, 1);
    assert_eq!(store.last_sequence(Stream::Inventory).await.unwrap(), 1);
    // And a genuine conflict after a lost reply is still a conflict, not a success.
    let err = impatient
        .append(Stream::Inventory, "slow", 0, &meta(), &events(3..4))
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Conflict { .. }), "{err}");
    assert_eq!(store.last_sequence(Stream::Inventory).await.unwrap(), 1);
    cleanup(&store).await;
}

#[tokio::test]
async fn load_reads_one_subject_in_order_among_many() {
    let store = store().await;
    let mut expected_seq = 0;
    for round in 0..20u32 {
        for other in 0..25 {
            store
                .append(
                    Stream::Inventory,
                    &format!("other-{other}"),
                    if round == 0 {
                        0
                    } else {
                        round as u64 * 26 - 25 + other
                    },
                    &meta(),
                    &events(0..1),
                )
                .await
                .map(|_| ())
                .or_else(|e| match e {
                    // The expected sequence of the noise subjects is not the point of this test.
                    AppendError::Conflict { .. } => Ok(()),
                    e => Err(e),
                })
                .unwrap();
        }
        let position = store
            .append(
                Stream::Inventory,
                "mine",
                expected_seq,
                &meta(),
                &events(round..round + 1),
            )
            .await
            .unwrap();
        expected_seq = position.sequence;
    }
    let loaded = store
        .load::<Sample>(Stream::Inventory, "mine", 0)
        .await
        .unwrap();
    let numbers: Vec<u32> = loaded
        .commits
        .iter()
        .flat_map(|c| c.events.iter().map(|Sample::Counted { n }| *n))
        .collect();
    assert_eq!(numbers, (0..20).collect::<Vec<_>>());
    assert_eq!(loaded.last_sequence, expected_seq);
    assert!(loaded.commits.iter().all(|c| c.subject.ends_with(".mine")));
    // Loading after a sequence returns only the later commits.
    let tail = store
        .load::<Sample>(Stream::Inventory, "mine", loaded.commits[9].sequence)
        .await
        .unwrap();
    assert_eq!(tail.commits.len(), 10);
    let none = store
        .load::<Sample>(Stream::Inventory, "nobody", 0)
        .await
        .unwrap();
    assert!(none.commits.is_empty());
    assert_eq!(none.last_sequence, 0);
    cleanup(&store).await;
}

#[tokio::test]
async fn load_reads_a_long_history_past_the_direct_reads_in_order() {
    let store = store().await;
    let mut last = 0;
    for n in 0..75u32 {
        last = store
            .append(Stream::Orders, "long", last, &meta(), &events(n..n + 1))
            .await
            .unwrap()
            .sequence;
    }
    let loaded = store
        .load::<Sample>(Stream::Orders, "long", 0)
        .await
        .unwrap();
    let numbers: Vec<u32> = loaded
        .commits
        .iter()
        .flat_map(|c| c.events.iter().map(|Sample::Counted { n }| *n))
        .collect();
    assert_eq!(numbers, (0..75).collect::<Vec<_>>());
    assert_eq!(loaded.last_sequence, last);
    let tail = store
        .load::<Sample>(Stream::Orders, "long", 10)
        .await
        .unwrap();
    assert_eq!(tail.commits.len(), 65);
    cleanup(&store).await;
}

/// Schema 1 of `Counted` named its number `count`; schema 2 calls it `n`. Nothing reads schema 3.
fn upcast(kind: &str, schema: u16, data: &mut serde_json::Value) -> Result<(), String> {
    match (kind, schema) {
        (_, s) if s > 2 => Err(format!("schema {s} is newer than 2")),
        ("Counted", 1) => {
            let n = data["count"].take();
            *data = serde_json::json!({ "n": n });
            Ok(())
        }
        _ => Ok(()),
    }
}

#[tokio::test]
async fn a_load_through_an_upcaster_reads_old_facts_and_refuses_unknown_ones() {
    let store = store()
        .await
        .with_upcaster(tv_nats::Upcaster { written: 2, upcast });
    let old = vec![tv_nats::EventRecord::new(
        1,
        serde_json::json!({"type": "Counted", "data": {"count": 7}}),
    )];
    let now = vec![tv_nats::EventRecord::new(2, Sample::Counted { n: 8 })];
    store
        .append(Stream::Orders, "o", 0, &meta(), &old)
        .await
        .unwrap();
    store
        .append(Stream::Orders, "o", 1, &meta(), &now)
        .await
        .unwrap();
    let loaded = store.load::<Sample>(Stream::Orders, "o", 0).await.unwrap();
    let facts: Vec<Sample> = loaded.commits.into_iter().flat_map(|c| c.events).collect();
    assert_eq!(facts, [Sample::Counted { n: 7 }, Sample::Counted { n: 8 }]);

    // A newer build's fact fails the load: a writer never decides on a state it cannot read.
    let newer = vec![tv_nats::EventRecord::new(
        3,
        serde_json::json!({"type": "Counted", "data": {"n": 9}}),
    )];
    store
        .append(Stream::Orders, "o", 2, &meta(), &newer)
        .await
        .unwrap();
    let refused = store.load::<Sample>(Stream::Orders, "o", 0).await;
    let error = refused
        .expect_err("a fact of schema 3 cannot be read")
        .to_string();
    assert!(error.contains("Counted (schema 3)"), "{error}");
    cleanup(&store).await;
}

#[tokio::test]
async fn an_append_to_a_stream_without_a_leader_lands_once_the_stream_is_back() {
    let store = store().await;
    store
        .append(Stream::Inventory, "electing", 0, &meta(), &events(0..1))
        .await
        .unwrap();
    // No stream takes the subject for a while, as while its replicas elect a leader.
    let name = store.naming().stream(Stream::Inventory);
    let config = store
        .jetstream()
        .get_stream(&name)
        .await
        .unwrap()
        .cached_info()
        .config
        .clone();
    store.jetstream().delete_stream(&name).await.unwrap();
    let back = {
        let store = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            store.jetstream().create_stream(config).await.unwrap();
        })
    };
    let started = std::time::Instant::now();
    let position = store
        .append(Stream::Inventory, "electing", 0, &meta(), &events(1..2))
        .await
        .expect("published again until the stream took it");
    back.await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(
        position.sequence, 1,
        "stored once, in the stream that came back"
    );
    assert_eq!(store.last_sequence(Stream::Inventory).await.unwrap(), 1);
    cleanup(&store).await;
}

#[tokio::test]
async fn an_append_gives_up_when_the_stream_stays_away() {
    let store = store().await;
    let brief = store.clone().with_append_options(AppendOptions {
        unavailable_for: Duration::from_millis(300),
        ..AppendOptions::default()
    });
    let name = store.naming().stream(Stream::Inventory);
    store.jetstream().delete_stream(&name).await.unwrap();
    let started = std::time::Instant::now();
    let err = brief
        .append(Stream::Inventory, "gone", 0, &meta(), &events(0..1))
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(err.to_string().contains("503"), "{err}");
    cleanup(&store).await;
}
