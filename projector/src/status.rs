//! `projector status`: how far each projection is behind its stream, shard by shard for a sharded
//! one.

use crate::config::Config;
use crate::db;
use crate::projection::ProjectionName;
use anyhow::Context;
use std::fmt;
use tv_nats::{EventStore, Naming};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionStatus {
    pub projection: ProjectionName,
    /// The prefixed stream name (`TV_INVENTORY`).
    pub stream: String,
    /// The lowest checkpoint of its shards: everything up to it is applied.
    pub checkpoint: u64,
    pub last_sequence: u64,
    /// The largest shard lag.
    pub lag: u64,
    /// Each shard of a sharded projection (empty for the others).
    pub shards: Vec<ShardStatus>,
}

/// One shard: its checkpoint, its own last sequence, and the distance between the two (0 when
/// the shard is caught up, however far the stream has moved on in other shards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardStatus {
    pub shard: u16,
    pub checkpoint: u64,
    pub last_sequence: u64,
    pub lag: u64,
}

/// The checkpoint, stream end and lag of every projection. Reads only: it neither provisions
/// streams nor migrates.
pub async fn status(config: &Config) -> anyhow::Result<Vec<ProjectionStatus>> {
    let store = EventStore::connect(&config.nats_url, Naming::new(&config.prefix))
        .await
        .with_context(|| {
            format!(
                "connecting to NATS at {}",
                tv_nats::redact_url(&config.nats_url)
            )
        })?;
    let pool = db::pool(&config.database_url, 1)?;
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    let mut statuses = Vec::new();
    for projection in ProjectionName::ALL {
        let stream = projection.stream();
        let checkpoints = db::read_checkpoints(&client, "public", projection.as_str())
            .await
            .context("reading checkpoints (has the projector run its migrations?)")?;
        let last_sequence = store
            .last_sequence(stream)
            .await
            .with_context(|| format!("reading stream {}", store.naming().stream(stream)))?;
        let mut shards = Vec::new();
        if projection.shards() > 1 {
            for (shard, checkpoint) in &checkpoints {
                let filter = store.naming().shard_wildcard(stream, *shard);
                let last = store
                    .last_matching(stream, &filter)
                    .await
                    .with_context(|| format!("reading the last commit of {filter}"))?
                    .unwrap_or(0);
                shards.push(ShardStatus {
                    shard: *shard,
                    checkpoint: *checkpoint,
                    last_sequence: last,
                    lag: last.saturating_sub(*checkpoint),
                });
            }
        }
        let checkpoint = checkpoints.values().copied().min().unwrap_or(0);
        let lag = if shards.is_empty() {
            last_sequence.saturating_sub(checkpoint)
        } else {
            shards.iter().map(|s| s.lag).max().unwrap_or(0)
        };
        statuses.push(ProjectionStatus {
            projection,
            stream: store.naming().stream(stream),
            checkpoint,
            last_sequence,
            lag,
            shards,
        });
    }
    Ok(statuses)
}

/// A plain table, one projection per line, then one line per shard of a sharded one.
pub struct StatusTable<'a>(pub &'a [ProjectionStatus]);

impl fmt::Display for StatusTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:<20} {:>12} {:>12} {:>10}",
            "PROJECTION", "STREAM", "CHECKPOINT", "LAST SEQ", "LAG"
        )?;
        for s in self.0 {
            writeln!(
                f,
                "{:<12} {:<20} {:>12} {:>12} {:>10}",
                s.projection.as_str(),
                s.stream,
                s.checkpoint,
                s.last_sequence,
                s.lag
            )?;
            for shard in &s.shards {
                writeln!(
                    f,
                    "{:<12} {:<20} {:>12} {:>12} {:>10}",
                    format!("  shard {:>2}", shard.shard),
                    "",
                    shard.checkpoint,
                    shard.last_sequence,
                    shard.lag
                )?;
            }
        }
        Ok(())
    }
}
