//! Leases in a JetStream key-value bucket (`<PREFIX>_LEASES`): at most one owner per key at a time,
//! for as long as the owner renews.
//!
//! A lease is a key whose value names its owner. The bucket keeps one value per key and removes
//! it [`LEASE_TTL`] after it was written (the stream's `max_age`, counted by the server, so no
//! clock of a client matters): an owner renews by writing again, conditionally on the revision it
//! holds, well within that time. A claim creates the key only if it is absent; so after an owner
//! dies, its lease expires and the next claim takes it. Who owns what is decided by the server's
//! compare-and-set, never by a client's belief; what the lease guards must still be safe when two
//! clients briefly believe they own it (the event store's expected-sequence check is).

use crate::error::StoreError;
use crate::provision::StreamSettings;
use crate::store::EventStore;
use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, UpdateErrorKind};
use std::time::Duration;

/// How long a lease lives without renewal: how long a dead owner's keys stay taken.
pub const LEASE_TTL: Duration = Duration::from_secs(3);

/// Who holds a lease, as a claim found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The claimer holds it, at this revision (the one to renew or release with).
    Ours { revision: u64 },
    /// Another owner holds it.
    Theirs { owner: String },
}

/// The lease bucket of one store.
#[derive(Clone)]
pub struct Leases {
    bucket: kv::Store,
}

impl Leases {
    /// Opens the lease bucket under the store's prefix, creating it (file storage, the replicas
    /// `TV_STREAM_REPLICAS` names) if it is missing and the user may.
    pub async fn open(store: &EventStore) -> Result<Self, StoreError> {
        let name = store.naming().lease_bucket();
        if let Ok(bucket) = store.jetstream().get_key_value(&name).await {
            return Ok(Self { bucket });
        }
        let bucket = store
            .jetstream()
            .create_key_value(Self::config(&name, StreamSettings::from_env()?))
            .await
            .map_err(|e| {
                StoreError::Other(format!(
                    "creating the lease bucket {name}: {e}. Only the admin NATS user may: run \
                     tv-provision once with it (./scripts/platform does)"
                ))
            })?;
        Ok(Self { bucket })
    }

    /// The bucket's settings: one value per key, gone [`LEASE_TTL`] after it was written.
    pub(crate) fn config(name: &str, settings: StreamSettings) -> kv::Config {
        kv::Config {
            bucket: name.to_owned(),
            description: "TicketView leases: which command-svc instance owns each event".into(),
            history: 1,
            max_age: LEASE_TTL,
            storage: async_nats::jetstream::stream::StorageType::File,
            num_replicas: settings.replicas,
            ..Default::default()
        }
    }

    /// Takes `key` for `owner` if nobody holds it; else says who does (`owner` itself included,
    /// with the revision to renew).
    pub async fn claim(&self, key: &str, owner: &str) -> Result<Claim, StoreError> {
        // A lease that expires between the failed create and the read is claimed again.
        for _ in 0..3 {
            match self.bucket.create(key, owner.to_owned().into()).await {
                Ok(revision) => return Ok(Claim::Ours { revision }),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {}
                Err(e) => return Err(StoreError::other("claiming a lease", e)),
            }
            let entry = self
                .bucket
                .entry(key)
                .await
                .map_err(|e| StoreError::other("reading a lease", e))?;
            match entry {
                Some(entry) if entry.operation == Operation::Put => {
                    let holder = String::from_utf8_lossy(&entry.value).into_owned();
                    return Ok(if holder == owner {
                        Claim::Ours {
                            revision: entry.revision,
                        }
                    } else {
                        Claim::Theirs { owner: holder }
                    });
                }
                _ => continue,
            }
        }
        Err(StoreError::Other(format!(
            "the lease {key} changed hands three times during one claim"
        )))
    }

    /// Renews `key`, held by `owner` at `revision`: the new revision, or `None` if the lease was
    /// lost (it expired, and perhaps another owner took it).
    pub async fn renew(
        &self,
        key: &str,
        owner: &str,
        revision: u64,
    ) -> Result<Option<u64>, StoreError> {
        match self
            .bucket
            .update(key, owner.to_owned().into(), revision)
            .await
        {
            Ok(revision) => Ok(Some(revision)),
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => Ok(None),
            Err(e) => Err(StoreError::other("renewing a lease", e)),
        }
    }

    /// Gives `key` up, if it is still held at `revision`, so that the next claim need not wait
    /// for it to expire.
    pub async fn release(&self, key: &str, revision: u64) -> Result<(), StoreError> {
        self.bucket
            .delete_expect_revision(key, Some(revision))
            .await
            .or_else(|e| match e.kind() {
                kv::DeleteErrorKind::WrongLastRevision => Ok(()),
                _ => Err(StoreError::other("releasing a lease", e)),
            })
    }

    /// The owner `key`'s lease names, if it is held.
    pub async fn owner(&self, key: &str) -> Result<Option<String>, StoreError> {
        let entry = self
            .bucket
            .entry(key)
            .await
            .map_err(|e| StoreError::other("reading a lease", e))?;
        Ok(entry
            .filter(|entry| entry.operation == Operation::Put)
            .map(|entry| String::from_utf8_lossy(&entry.value).into_owned()))
    }
}
