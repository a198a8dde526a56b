//! How far a projection is behind its stream, shard by shard.
//!
//! A shard's lag is the age of its oldest commit not yet applied: the stream's first commit of
//! that shard after the shard's checkpoint (one direct get), or none when it is caught up. Stream
//! sequences alone would mislead for a sharded projection: an idle partition's checkpoint stays
//! where its last commit was while the other shards' commits move the stream's last sequence.

use crate::db;
use crate::error::ProjectError;
use crate::projection::ProjectionName;
use deadpool_postgres::GenericClient;
use std::time::Duration;
use time::OffsetDateTime;
use tv_nats::EventStore;

/// One shard's checkpoint and its oldest commit not yet applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLag {
    pub shard: u16,
    pub checkpoint: u64,
    /// The sequence and storage time of the shard's first commit after the checkpoint.
    pub oldest_unapplied: Option<(u64, OffsetDateTime)>,
}

impl ShardLag {
    /// How long the oldest unapplied commit has waited (zero when caught up).
    pub fn behind(&self, now: OffsetDateTime) -> Duration {
        self.oldest_unapplied.map_or(Duration::ZERO, |(_, stored)| {
            (now - stored).try_into().unwrap_or(Duration::ZERO)
        })
    }
}

/// The lag of `shards` of `projection` (every shard when `shards` is empty).
pub(crate) async fn shard_lags(
    store: &EventStore,
    client: &impl GenericClient,
    projection: ProjectionName,
    shards: &[u16],
) -> Result<Vec<ShardLag>, ProjectError> {
    let checkpoints = db::read_checkpoints(client, "public", projection.as_str()).await?;
    let wanted: Vec<(u16, u64)> = checkpoints
        .into_iter()
        .filter(|(shard, _)| shards.is_empty() || shards.contains(shard))
        .collect();
    let stream = projection.stream();
    let firsts = futures::future::try_join_all(wanted.iter().map(|(shard, checkpoint)| {
        let filter = store.naming().shard_wildcard(stream, *shard);
        async move {
            store
                .first_matching_after(stream, &filter, *checkpoint)
                .await
        }
    }))
    .await?;
    Ok(wanted
        .into_iter()
        .zip(firsts)
        .map(|((shard, checkpoint), oldest_unapplied)| ShardLag {
            shard,
            checkpoint,
            oldest_unapplied,
        })
        .collect())
}
