//! The projections and the one way a batch of commits is applied to them: exactly once.
//!
//! [`apply_batch`] is the unit of work of both the live loop and `projector rebuild`: in one
//! PostgreSQL transaction it locks the projection's checkpoint row, drops the commits at or below
//! it (re-deliveries), fills any gap before the first new commit by replaying the stream (commits
//! delivered to a crashed consumer come back only after the ack wait, later ones first), folds the
//! commits in memory into per-row changes, writes them with a few bulk `UNNEST` statements, and
//! moves the checkpoint, then commits. The caller acks only after that, so a crash anywhere
//! re-delivers commits that are either skipped (committed) or applied (not committed).
//!
//! The checkpoint row lock also serialises the live loop with the swap of a rebuild.

mod catalog;
mod inventory;
mod orders;

use crate::error::ProjectError;
use crate::notice::Notice;
use deadpool_postgres::Transaction;
use tv_nats::{EventStore, RawCommit, Stream};

/// A projection: one durable consumer, one checkpoint, the tables it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum ProjectionName {
    /// Event listing and detail, from the catalog stream.
    Catalog,
    /// Availability per section, seat maps and holds, from the inventory stream.
    Inventory,
    /// Orders per customer with their status and tickets, from the orders stream.
    Orders,
}

impl ProjectionName {
    pub const ALL: [ProjectionName; 3] = [
        ProjectionName::Catalog,
        ProjectionName::Inventory,
        ProjectionName::Orders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Catalog => "catalog",
            Self::Inventory => "inventory",
            Self::Orders => "orders",
        }
    }

    /// The stream it folds.
    pub fn stream(self) -> Stream {
        match self {
            Self::Catalog => Stream::Catalog,
            Self::Inventory => Stream::Inventory,
            Self::Orders => Stream::Orders,
        }
    }

    /// The tables it owns: what a rebuild recreates and swaps.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Self::Catalog => &["events"],
            Self::Inventory => &["availability", "seats", "holds"],
            Self::Orders => &["orders"],
        }
    }

    /// The name of its durable consumer.
    pub fn durable_name(self) -> String {
        format!("projector-{}", self.as_str())
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for ProjectionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one call of [`apply_batch`] did.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// The checkpoint before the batch.
    pub from: u64,
    /// The checkpoint after it (equal to `from` when every commit was a re-delivery).
    pub to: u64,
    /// Commits applied (re-deliveries excluded, gap fillers included).
    pub commits: usize,
    /// Events applied.
    pub events: usize,
    /// The change notice to publish once committed (`None` when nothing changed).
    pub notice: Option<Notice>,
}

/// Applies `commits` (any order, duplicates and re-deliveries allowed) to `projection`'s tables
/// in `schema`, exactly once, in one transaction. `fill_gaps` replays the stream to fill a gap
/// between the checkpoint and the first new commit (the live loop); a rebuild reads the stream in
/// order and passes `None`.
pub async fn apply_batch(
    client: &mut deadpool_postgres::Object,
    schema: &str,
    projection: ProjectionName,
    mut commits: Vec<RawCommit>,
    fill_gaps: Option<&EventStore>,
) -> Result<BatchOutcome, ProjectError> {
    let tx = client.transaction().await?;
    let outcome = apply_in_transaction(&tx, schema, projection, &mut commits, fill_gaps).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The body of [`apply_batch`], inside a transaction the caller commits.
pub(crate) async fn apply_in_transaction(
    tx: &Transaction<'_>,
    schema: &str,
    projection: ProjectionName,
    commits: &mut Vec<RawCommit>,
    fill_gaps: Option<&EventStore>,
) -> Result<BatchOutcome, ProjectError> {
    let checkpoint = lock_checkpoint(tx, schema, projection).await?;
    commits.sort_by_key(|c| c.sequence);
    commits.dedup_by_key(|c| c.sequence);
    commits.retain(|c| c.sequence > checkpoint);

    if let (Some(store), Some(first)) = (fill_gaps, commits.first()) {
        if first.sequence > checkpoint + 1 {
            let missing =
                replay_between(store, projection.stream(), checkpoint, first.sequence).await?;
            if !missing.is_empty() {
                tracing::info!(
                    projection = projection.as_str(),
                    checkpoint,
                    first = first.sequence,
                    filled = missing.len(),
                    "filled a gap before the delivered commits from the stream"
                );
            }
            commits.splice(0..0, missing);
        }
    }

    let Some(last) = commits.last().map(|c| c.sequence) else {
        return Ok(BatchOutcome {
            from: checkpoint,
            to: checkpoint,
            commits: 0,
            events: 0,
            notice: None,
        });
    };

    let (events, notice) = match projection {
        ProjectionName::Catalog => catalog::apply(tx, schema, commits).await?,
        ProjectionName::Inventory => inventory::apply(tx, schema, commits).await?,
        ProjectionName::Orders => orders::apply(tx, schema, commits).await?,
    };
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.projection_checkpoints SET last_sequence = $2, updated_at = now() WHERE projection = $1"
        ))
        .await?;
    tx.execute(&statement, &[&projection.as_str(), &(last as i64)])
        .await?;
    Ok(BatchOutcome {
        from: checkpoint,
        to: last,
        commits: commits.len(),
        events,
        notice: Some(notice.with_range(checkpoint, last)),
    })
}

/// Locks the checkpoint row of `projection` for the rest of the transaction and returns it.
pub(crate) async fn lock_checkpoint(
    tx: &Transaction<'_>,
    schema: &str,
    projection: ProjectionName,
) -> Result<u64, ProjectError> {
    let statement = tx
        .prepare_cached(&format!(
            "SELECT last_sequence FROM {schema}.projection_checkpoints WHERE projection = $1 FOR UPDATE"
        ))
        .await?;
    let row = tx
        .query_opt(&statement, &[&projection.as_str()])
        .await?
        .ok_or_else(|| {
            ProjectError::Schema(format!("no checkpoint row for projection {projection}"))
        })?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// The commits of `stream` strictly between `after` and `before`.
async fn replay_between(
    store: &EventStore,
    stream: Stream,
    after: u64,
    before: u64,
) -> Result<Vec<RawCommit>, ProjectError> {
    let mut replay = store.replay(stream, after).await?;
    let mut commits = Vec::new();
    while let Some(raw) = replay.next().await {
        let raw = raw?;
        if raw.sequence >= before {
            break;
        }
        commits.push(raw);
    }
    Ok(commits)
}

/// The aggregate id of a commit: the last token of its subject (`tv.inventory.<event id>`).
pub(crate) fn aggregate_id(subject: &str) -> &str {
    subject.rsplit('.').next().unwrap_or(subject)
}

pub(crate) fn undecodable(stream: Stream, raw: &RawCommit, reason: impl ToString) -> ProjectError {
    ProjectError::Undecodable {
        stream: stream.token(),
        sequence: raw.sequence,
        reason: reason.to_string(),
    }
}
