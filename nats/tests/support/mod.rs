//! Shared by the store's integration tests: a real server, a fresh prefix per test.

use serde::{Deserialize, Serialize};
use tv_nats::{CommitMeta, EventRecord, EventStore, Naming, Stream};

/// Connects to `NATS_URL` (the project's server by default) under a prefix no other test uses,
/// and provisions the streams.
pub async fn store() -> EventStore {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:14222".into());
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let store = EventStore::connect(&url, Naming::new(&prefix[..12]))
        .await
        .expect("NATS_URL must point at nats-server 2.12+ (./scripts/test starts one)");
    store.provision().await.expect("provisioning");
    store
}

/// Removes the test's streams (best effort: a leftover costs disk, not correctness).
pub async fn cleanup(store: &EventStore) {
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Sample {
    Counted { n: u32 },
}

pub fn events(range: std::ops::Range<u32>) -> Vec<EventRecord<Sample>> {
    range
        .map(|n| EventRecord::new(1, Sample::Counted { n }))
        .collect()
}

pub fn meta() -> CommitMeta {
    CommitMeta::new("Sample", "Count")
}
