//! Snapshots of aggregates in a JetStream object store, so that a hot aggregate with a long
//! history loads from its latest snapshot plus the few commits after it.
//!
//! A snapshot is opaque bytes (the aggregate's serialized state) tagged with the stream sequence
//! it includes. Losing one costs a longer replay, never correctness.

use crate::error::StoreError;
use crate::store::EventStore;
use async_nats::jetstream::object_store::{self, ObjectStore};
use tokio::io::AsyncReadExt;

/// The longest a snapshot read may take before the caller replays the log instead.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The most a snapshot read allocates up front.
const MAX_PRESIZE: usize = 256 << 20;

/// The snapshot bucket of one store.
#[derive(Clone)]
pub struct Snapshots {
    bucket: ObjectStore,
}

impl Snapshots {
    /// Opens (creating if needed) the snapshot bucket under the store's prefix.
    pub async fn open(store: &EventStore) -> Result<Self, StoreError> {
        let name = store.naming().snapshot_bucket();
        let bucket = match store.jetstream().get_object_store(&name).await {
            Ok(bucket) => bucket,
            Err(_) => store
                .jetstream()
                .create_object_store(object_store::Config {
                    bucket: name.clone(),
                    description: Some("TicketView aggregate snapshots".into()),
                    // Replicated like the streams: a snapshot on a lost node only costs a replay,
                    // but a bucket without its one replica would time out every read first.
                    num_replicas: store.stream_settings().replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    StoreError::Other(format!(
                        "creating the snapshot bucket {name}: {e}. Only the admin NATS user may: \
                         run tv-provision once with it (./scripts/platform does)"
                    ))
                })?,
        };
        Ok(Self { bucket })
    }

    /// Stores the state of `key` as of stream sequence `sequence`, replacing the previous one.
    pub async fn save(&self, key: &str, sequence: u64, state: &[u8]) -> Result<(), StoreError> {
        let mut data = Vec::with_capacity(8 + state.len());
        data.extend_from_slice(&sequence.to_be_bytes());
        data.extend_from_slice(state);
        self.bucket
            .put(key, &mut data.as_slice())
            .await
            .map_err(|e| StoreError::other("saving a snapshot", e))?;
        Ok(())
    }

    /// The latest snapshot of `key`: the sequence it includes and the state's bytes.
    ///
    /// Bounded in time: a save that replaces the snapshot meanwhile deletes the chunks being read,
    /// and the read would wait for them forever. A caller treats the error as "no snapshot" and
    /// replays the log instead.
    pub async fn load(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        tokio::time::timeout(READ_TIMEOUT, self.load_unbounded(key))
            .await
            .map_err(|_| StoreError::Other(format!("reading snapshot {key} timed out")))?
    }

    async fn load_unbounded(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let mut object = match self.bucket.get(key).await {
            Ok(object) => object,
            Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::other("loading a snapshot", e)),
        };
        let mut sequence = [0u8; 8];
        match object.read_exact(&mut sequence).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(StoreError::other("reading a snapshot", e)),
        }
        // Sized once from the object's length (a snapshot of a long sale is megabytes), within
        // reason: the length is the store's word, not checked yet.
        let mut state = Vec::with_capacity(object.info.size.saturating_sub(8).min(MAX_PRESIZE));
        object
            .read_to_end(&mut state)
            .await
            .map_err(|e| StoreError::other("reading a snapshot", e))?;
        Ok(Some((u64::from_be_bytes(sequence), state)))
    }
}
