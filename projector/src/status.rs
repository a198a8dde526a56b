//! `projector status`: how far each projection is behind its stream.

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
    pub checkpoint: u64,
    pub last_sequence: u64,
    pub lag: u64,
}

/// The checkpoint, stream end and lag of every projection. Reads only: it neither provisions
/// streams nor migrates.
pub async fn status(config: &Config) -> anyhow::Result<Vec<ProjectionStatus>> {
    let store = EventStore::connect(&config.nats_url, Naming::new(&config.prefix))
        .await
        .with_context(|| format!("connecting to NATS at {}", config.nats_url))?;
    let pool = db::pool(&config.database_url, 1)?;
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    let mut statuses = Vec::new();
    for projection in ProjectionName::ALL {
        let checkpoint = db::read_checkpoint(&client, "public", projection.as_str())
            .await
            .context("reading checkpoints (has the projector run its migrations?)")?;
        let last_sequence = store
            .last_sequence(projection.stream())
            .await
            .with_context(|| {
                format!(
                    "reading stream {}",
                    store.naming().stream(projection.stream())
                )
            })?;
        statuses.push(ProjectionStatus {
            projection,
            stream: store.naming().stream(projection.stream()),
            checkpoint,
            last_sequence,
            lag: last_sequence.saturating_sub(checkpoint),
        });
    }
    Ok(statuses)
}

/// A plain table, one projection per line.
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
        }
        Ok(())
    }
}
