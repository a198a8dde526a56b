//! Support for TicketView's end-to-end tests.
//!
//! Each test runs command-svc in-process on port 0 against the real NATS server, under a stream
//! prefix of its own, so that tests run side by side on one server. Every test checks its
//! invariants twice: from the HTTP answers, and from the inventory stream itself, folded with the
//! domain's own `evolve` ([`stream`]) and also read fact by fact, without the domain's indexes.
//!
//! Orders are read back the same way, with their payments ([`orders`]). Payments through the
//! HTTPS gateway adapter are made at a fake gateway the test starts itself ([`fake_gateway`]). Tests of the whole system
//! add the projector, query-svc and the notifier on a PostgreSQL database of their own
//! ([`readside`]).
//!
//! The notifier's deliveries are received by a small SMTP sink ([`mail_sink`]) and an operator's
//! webhook endpoint ([`webhook_receiver`]) of the test's own.
//!
//! The waiting room is spawned the same way, and its facts read from the queue stream
//! ([`queue`]).
//!
//! [`scenario`] wraps a test body so that the prefix's streams are deleted afterwards, pass or fail.
//! Nothing here mocks the store: a test that passes here passed against JetStream.

pub mod client;
pub mod cluster;
pub mod fake_gateway;
pub mod fixtures;
pub mod leak_audit;
pub mod mail_sink;
pub mod orders;
pub mod process;
pub mod queue;
pub mod readside;
pub mod secured_nats;
pub mod spawn;
pub mod stream;
pub mod webhook_receiver;

pub use client::{error_code, Api, HoldBody};
pub use fixtures::{seat_labels, EventSpec, GA_SECTION, SEATED_SECTION};
pub use queue::{queue_facts, WaitingRoomSvc};
pub use spawn::CommandSvc;
pub use stream::{fold_inventory, InventoryLog};

use std::future::Future;
use std::time::Duration;
use tv_nats::{EventStore, Naming, Stream};

/// The NATS server of the tests: `NATS_URL`, or the project's pinned server.
///
/// Never the default port 4222: an older server may listen there.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:14222".into())
}

/// A stream prefix no other test uses: `t` and 10 hex characters.
pub fn unique_prefix() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("t{}", &id[..10])
}

/// A store handle under `prefix`, with the streams provisioned, for reading what a test wrote.
pub async fn store(prefix: &str) -> EventStore {
    let store = EventStore::connect(&nats_url(), Naming::new(prefix))
        .await
        .expect("NATS_URL must point at nats-server 2.12+ (./scripts/test starts one)");
    store.provision().await.expect("provisioning the streams");
    store
}

/// Deletes every stream and the snapshot bucket of the store's prefix. Best effort: a leftover
/// costs disk, not correctness. `TV_TEST_KEEP=1` keeps them for a post-mortem.
pub async fn cleanup(store: &EventStore) {
    if std::env::var("TV_TEST_KEEP").is_ok_and(|v| v == "1") {
        eprintln!(
            "TV_TEST_KEEP=1: keeping the streams of prefix {}",
            store.naming().prefix()
        );
        return;
    }
    for stream in Stream::ALL {
        let _ = store
            .jetstream()
            .delete_stream(store.naming().stream(stream))
            .await;
    }
    let _ = store
        .jetstream()
        .delete_object_store(store.naming().snapshot_bucket())
        .await;
}

/// What a test body gets: its own prefix and a store handle under it.
#[derive(Clone)]
pub struct TestEnv {
    pub prefix: String,
    pub store: EventStore,
}

/// Runs `body` under a fresh prefix, then deletes the prefix's streams whether the body passed or
/// panicked (the panic is re-raised afterwards, so the test still fails with its own message).
pub async fn scenario<F, Fut>(body: F)
where
    F: FnOnce(TestEnv) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let prefix = unique_prefix();
    let store = store(&prefix).await;
    let env = TestEnv {
        prefix,
        store: store.clone(),
    };
    let outcome = tokio::spawn(body(env)).await;
    cleanup(&store).await;
    match outcome {
        Ok(()) => {}
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the test body did not finish: {e}"),
    }
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The seed of a test's random choices: `TV_TEST_SEED` to replay a run, else `default`. Printed,
/// so that a failure can be replayed.
pub fn seed(default: u64) -> u64 {
    let seed = std::env::var("TV_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    eprintln!("seed {seed} (set TV_TEST_SEED to replay another)");
    seed
}
