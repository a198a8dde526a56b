//! The projections and the one way a batch of commits is applied to them: exactly once.
//!
//! [`apply_batch`] is the unit of work of both the live loop and `projector rebuild`: in one
//! PostgreSQL transaction it locks the checkpoint rows of the shards it applies, drops the commits
//! at or below their shard's checkpoint (re-deliveries), fills any gap before the delivered
//! commits by replaying the stream (commits delivered to a crashed consumer come back only after
//! the ack wait, later ones first), folds the commits in memory into per-row changes, writes them
//! with a few bulk `UNNEST` statements, and moves the checkpoints, then commits. The caller acks
//! only after that, so a crash anywhere re-delivers commits that are either skipped (committed) or
//! applied (not committed).
//!
//! Checkpoints are per shard ([`tv_nats::INVENTORY_SHARDS`] for inventory, one for the others):
//! shard `s` at `n` means every commit of shard `s` up to sequence `n` is applied. A partition's
//! batch ending at delivered sequence `L` moves every shard it owns to `L`, since its consumer
//! delivers all of those shards' commits in stream order. With a filtered consumer consecutive
//! deliveries are not consecutive stream sequences, so the gap check asks the stream, shard by
//! shard, for the first commit after the shard's checkpoint; one not delivered is a gap.
//!
//! The checkpoint row locks also serialise the live loop with the swap of a rebuild; a batch locks
//! its shards in ascending order, so partitions and a rebuild never deadlock.

mod catalog;
mod inventory;
mod orders;
mod waitlist;

use crate::error::ProjectError;
use crate::partition::Partition;
use deadpool_postgres::Transaction;
use read_model::{Notice, ShardRange};
use std::collections::{BTreeMap, HashSet};
use tv_nats::{EventStore, RawCommit, Stream};

/// The projections of the read-model contract, by the name the projector has always used.
pub use read_model::Projection as ProjectionName;

/// What the projector adds to a projection of the contract: its consumers and shards.
pub trait Consumption {
    /// Every shard of it: what a single consumer and a rebuild apply.
    fn all_shards(self) -> Vec<u16>;
    /// The shard of one of its commits, from the aggregate id ending the subject.
    fn shard_of(self, subject: &str) -> u16;
    /// The name of its durable consumer: `projector-inventory`, or `projector-inventory-1of2` for
    /// one partition of a sharded projection.
    fn durable_name(self, partition: Partition) -> String;
}

impl Consumption for ProjectionName {
    fn all_shards(self) -> Vec<u16> {
        (0..self.shards()).collect()
    }

    fn shard_of(self, subject: &str) -> u16 {
        tv_nats::shard_of(aggregate_id(subject), self.shards())
    }

    fn durable_name(self, partition: Partition) -> String {
        if partition.is_whole() || self.shards() == 1 {
            format!("projector-{}", self.as_str())
        } else {
            format!(
                "projector-{}-{}of{}",
                self.as_str(),
                partition.index,
                partition.count
            )
        }
    }
}

/// How a batch writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every batch leaves the tables complete: the live loop, and the batches a rebuild applies
    /// after its bulk.
    Incremental,
    /// The bulk of a rebuild, into scratch tables without secondary indexes: values derived from
    /// other rows (inventory's `next_expiry`, read through an index of holds) are left for
    /// [`compute_derived`], and rows the batch creates are inserted without an upsert (should one
    /// exist after all, the batch's rows are upserted as in `Incremental`).
    Bulk,
}

/// Computes the derived values of every row of `projection`'s tables in `schema`: what the batches
/// applied in [`Mode::Bulk`] left out.
pub(crate) async fn compute_derived(
    client: &impl deadpool_postgres::GenericClient,
    schema: &str,
    projection: ProjectionName,
) -> Result<(), ProjectError> {
    match projection {
        ProjectionName::Inventory => inventory::compute_next_expiry(client, schema).await,
        ProjectionName::Catalog | ProjectionName::Orders => Ok(()),
    }
}

/// What one call of [`apply_batch`] did.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// The lowest checkpoint of the batch's shards before the batch.
    pub from: u64,
    /// The highest after it (equal to `from` when every commit was a re-delivery).
    pub to: u64,
    /// Each shard's checkpoint before and after.
    pub shards: Vec<ShardRange>,
    /// Commits applied (re-deliveries excluded, gap fillers included).
    pub commits: usize,
    /// Events applied.
    pub events: usize,
    /// The change notice to publish once committed (`None` when nothing changed).
    pub notice: Option<Notice>,
}

/// Applies `commits` (any order, duplicates and re-deliveries allowed) to `projection`'s tables
/// in `schema`, exactly once, in one transaction, for every shard. `fill_gaps` replays the stream
/// to fill a gap before the delivered commits (the live loop); a rebuild reads the stream in order
/// and passes `None`.
pub async fn apply_batch(
    client: &mut deadpool_postgres::Object,
    schema: &str,
    projection: ProjectionName,
    commits: Vec<RawCommit>,
    fill_gaps: Option<&EventStore>,
) -> Result<BatchOutcome, ProjectError> {
    apply_shards(
        client,
        schema,
        projection,
        &projection.all_shards(),
        commits,
        fill_gaps,
    )
    .await
}

/// [`apply_batch`] for the commits of `shards` only (a partition's): the others are left alone.
pub async fn apply_shards(
    client: &mut deadpool_postgres::Object,
    schema: &str,
    projection: ProjectionName,
    shards: &[u16],
    mut commits: Vec<RawCommit>,
    fill_gaps: Option<&EventStore>,
) -> Result<BatchOutcome, ProjectError> {
    let tx = client.transaction().await?;
    let outcome = apply_in_transaction(
        &tx,
        schema,
        projection,
        shards,
        &mut commits,
        fill_gaps,
        Mode::Incremental,
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The body of [`apply_shards`], inside a transaction the caller commits.
pub(crate) async fn apply_in_transaction(
    tx: &Transaction<'_>,
    schema: &str,
    projection: ProjectionName,
    shards: &[u16],
    commits: &mut Vec<RawCommit>,
    fill_gaps: Option<&EventStore>,
    mode: Mode,
) -> Result<BatchOutcome, ProjectError> {
    let before = lock_checkpoints(tx, schema, projection, shards).await?;
    let delivered_last = commits.iter().map(|c| c.sequence).max();
    keep_new(projection, &before, commits);

    if let (Some(store), Some(last)) = (fill_gaps, delivered_last) {
        let missing = gap_before(store, projection, &before, commits, last).await?;
        if !missing.is_empty() {
            tracing::info!(
                projection = projection.as_str(),
                first = commits.first().map(|c| c.sequence),
                filled = missing.len(),
                "filled a gap before the delivered commits from the stream"
            );
            commits.extend(missing);
            keep_new(projection, &before, commits);
        }
    }

    // Every shard of the batch moves to the last delivered sequence: its consumer delivered all
    // of their commits up to there (the gap check made sure of it).
    let last = delivered_last
        .into_iter()
        .chain(commits.last().map(|c| c.sequence))
        .max()
        .unwrap_or(0);
    let ranges: Vec<ShardRange> = before
        .iter()
        .map(|(shard, from)| ShardRange {
            shard: *shard,
            from: *from,
            to: (*from).max(last),
        })
        .collect();
    let from = ranges.iter().map(|r| r.from).min().unwrap_or(0);
    let to = ranges.iter().map(|r| r.to).max().unwrap_or(0);
    let moved: Vec<&ShardRange> = ranges.iter().filter(|r| r.to > r.from).collect();
    if moved.is_empty() {
        return Ok(BatchOutcome {
            from,
            to,
            shards: ranges,
            commits: 0,
            events: 0,
            notice: None,
        });
    }

    let (events, notice) = if commits.is_empty() {
        (
            0,
            Notice {
                projection: projection.as_str().into(),
                ..Notice::default()
            },
        )
    } else {
        match projection {
            ProjectionName::Catalog => catalog::apply(tx, schema, commits).await?,
            ProjectionName::Inventory => {
                let applied = inventory::apply(tx, schema, commits, mode).await?;
                waitlist::apply(tx, schema, commits).await?;
                applied
            }
            ProjectionName::Orders => orders::apply(tx, schema, commits).await?,
        }
    };
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE {schema}.projection_checkpoints c SET last_sequence = d.last_sequence, updated_at = now()
             FROM UNNEST($2::int4[], $3::int8[]) AS d(shard, last_sequence)
             WHERE c.projection = $1 AND c.shard = d.shard"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &projection.as_str(),
            &moved.iter().map(|r| i32::from(r.shard)).collect::<Vec<_>>(),
            &moved.iter().map(|r| r.to as i64).collect::<Vec<_>>(),
        ],
    )
    .await?;
    let notice = notice.with_range(from, to);
    let notice = if projection.shards() > 1 {
        notice.with_shards(ranges.clone())
    } else {
        notice
    };
    Ok(BatchOutcome {
        from,
        to,
        shards: ranges,
        commits: commits.len(),
        events,
        notice: Some(notice),
    })
}

/// Sorts `commits`, drops duplicates, commits of other shards and those at or below their shard's
/// checkpoint.
fn keep_new(
    projection: ProjectionName,
    checkpoints: &BTreeMap<u16, u64>,
    commits: &mut Vec<RawCommit>,
) {
    commits.sort_by_key(|c| c.sequence);
    commits.dedup_by_key(|c| c.sequence);
    commits.retain(|c| {
        checkpoints
            .get(&projection.shard_of(&c.subject))
            .is_some_and(|checkpoint| c.sequence > *checkpoint)
    });
}

/// The commits of the batch's shards that were not delivered although they lie between a shard's
/// checkpoint and `last`, the last delivered sequence.
///
/// A consumer of every shard whose shards all stand at one checkpoint `c` sees every commit: the
/// batch has a gap exactly when its first new commit is past `c + 1` (no stream read). Otherwise
/// each shard behind `last` asks the stream for its first commit after its checkpoint (one direct
/// get per shard, concurrently); a commit not delivered is a gap, and the shards' subjects are
/// replayed from the lowest such checkpoint up to `last`.
async fn gap_before(
    store: &EventStore,
    projection: ProjectionName,
    checkpoints: &BTreeMap<u16, u64>,
    commits: &[RawCommit],
    last: u64,
) -> Result<Vec<RawCommit>, ProjectError> {
    let stream = projection.stream();
    let whole = checkpoints.len() == usize::from(projection.shards());
    let lowest = checkpoints.values().copied().min().unwrap_or(0);
    if whole && checkpoints.values().all(|c| *c == lowest) {
        return match commits.first() {
            Some(first) if first.sequence > lowest + 1 => {
                replay_between(store, stream, lowest, first.sequence).await
            }
            _ => Ok(Vec::new()),
        };
    }
    let delivered: HashSet<u64> = commits.iter().map(|c| c.sequence).collect();
    let behind: Vec<(u16, u64)> = checkpoints
        .iter()
        .filter(|(_, checkpoint)| **checkpoint < last)
        .map(|(shard, checkpoint)| (*shard, *checkpoint))
        .collect();
    let firsts = futures::future::try_join_all(behind.iter().map(|(shard, checkpoint)| {
        let filter = store.naming().shard_wildcard(stream, *shard);
        async move {
            store
                .first_matching_after(stream, &filter, *checkpoint)
                .await
        }
    }))
    .await?;
    let gap_from = behind
        .iter()
        .zip(firsts)
        .filter_map(|((_, checkpoint), first)| match first {
            Some((sequence, _)) if sequence <= last && !delivered.contains(&sequence) => {
                Some(*checkpoint)
            }
            _ => None,
        })
        .min();
    let Some(after) = gap_from else {
        return Ok(Vec::new());
    };
    let filters = if whole {
        vec![store.naming().wildcard(stream)]
    } else {
        checkpoints
            .keys()
            .map(|shard| store.naming().shard_wildcard(stream, *shard))
            .collect()
    };
    let mut replay = store.replay_subjects(stream, filters, after).await?;
    let mut missing = Vec::new();
    while let Some(raw) = replay.next().await {
        let raw = raw?;
        if raw.sequence > last {
            break;
        }
        if !delivered.contains(&raw.sequence) {
            missing.push(raw);
        }
    }
    Ok(missing)
}

/// Locks the checkpoint rows of `shards` of `projection` (in ascending shard order) for the rest
/// of the transaction and returns them.
pub(crate) async fn lock_checkpoints(
    tx: &Transaction<'_>,
    schema: &str,
    projection: ProjectionName,
    shards: &[u16],
) -> Result<BTreeMap<u16, u64>, ProjectError> {
    let statement = tx
        .prepare_cached(&format!(
            "SELECT shard, last_sequence FROM {schema}.projection_checkpoints
             WHERE projection = $1 AND shard = ANY($2::int4[])
             ORDER BY shard FOR UPDATE"
        ))
        .await?;
    let wanted: Vec<i32> = shards.iter().map(|s| i32::from(*s)).collect();
    let rows = tx
        .query(&statement, &[&projection.as_str(), &wanted])
        .await?;
    let checkpoints: BTreeMap<u16, u64> = rows
        .iter()
        .map(|row| (row.get::<_, i32>(0) as u16, row.get::<_, i64>(1) as u64))
        .collect();
    if checkpoints.len() != shards.len() {
        return Err(ProjectError::Schema(format!(
            "projection {projection} has checkpoint rows for shards {:?}, not all of {shards:?}",
            checkpoints.keys().collect::<Vec<_>>()
        )));
    }
    Ok(checkpoints)
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

/// Decodes a commit of `stream` through the domain's upcasters. A fact this build cannot read (a
/// type or schema from a newer build) is logged, counted in `tv_projector_facts_skipped_total` and
/// skipped: it never stalls the projection (domain::schema).
pub(crate) fn decode<E: serde::de::DeserializeOwned>(
    stream: Stream,
    raw: &RawCommit,
) -> Result<tv_nats::StoredCommit<E>, ProjectError> {
    let decoded = raw
        .decode_tolerant::<E>(domain::schema::WRITTEN, domain::schema::upcaster)
        .map_err(|e| undecodable(stream, raw, e))?;
    for fact in &decoded.skipped {
        tracing::warn!(
            stream = stream.token(),
            sequence = fact.sequence,
            kind = %fact.kind,
            schema = fact.schema,
            reason = %fact.reason,
            "a fact this build cannot read; skipped"
        );
        metrics::counter!(
            "tv_projector_facts_skipped_total",
            "stream" => stream.token(),
            "type" => fact.kind.clone()
        )
        .increment(1);
    }
    Ok(decoded.commit)
}

pub(crate) fn undecodable(stream: Stream, raw: &RawCommit, reason: impl ToString) -> ProjectError {
    ProjectError::Undecodable {
        stream: stream.token(),
        sequence: raw.sequence,
        reason: reason.to_string(),
    }
}
