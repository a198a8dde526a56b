//! The bulk of a rebuild: the stream from its start to its end now, applied in [`Mode::Bulk`] by
//! several workers at once, each on its own connection, each owning some of the shards.
//!
//! One task reads the stream in order and routes each commit to the worker of its shard; a shard
//! goes to the worker with the fewest commits so far when its first commit is read, and stays
//! there. A worker applies its commits in batches with the very function the live loop uses,
//! for its shards only, as a live partition does: every commit of those shards up to a batch's
//! last sequence is in that batch or an earlier one, so the batch moves their checkpoints there.
//! Shards share no row (a row belongs to one event, and an event to one shard), so the workers'
//! transactions never touch the same rows, and the tables end as one writer would leave them.
//!
//! Decoding and folding are CPU work in this process, writing is CPU work in PostgreSQL: with a
//! worker per core, one worker decodes while another's batch is being written.

use crate::error::ProjectError;
use crate::projection::{apply_in_transaction, Consumption, Mode, ProjectionName};
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tv_nats::{EventStore, RawCommit};

/// Workers applying the bulk at once: one per core of the machine it was measured on.
pub(super) const WORKERS: usize = 2;

/// A worker's batch is sent once its commits' payloads reach this many bytes (or the options'
/// `batch_commits`): small enough that reading, decoding and writing overlap, large enough that a
/// batch's fixed costs (a transaction, reading the seat maps it changes) stay small.
const BATCH_BYTES: usize = 4 << 20;

/// Batches queued for each worker, ahead of the one it applies.
const QUEUED: usize = 2;

/// What the bulk did, for the report.
#[derive(Debug, Default)]
pub(super) struct BulkDone {
    pub commits: u64,
    pub events: u64,
    /// The last sequence of the stream it replayed (every commit up to it is applied).
    pub end: u64,
    /// Time the reader spent waiting for the stream, and waiting for busy workers.
    pub reading: Duration,
    pub routing_blocked: Duration,
    /// Time each worker spent applying (decoding, folding, writing, committing).
    pub applying: Vec<Duration>,
}

/// A batch of one worker: commits of `shards` (the shards it owns so far), in stream order.
struct Batch {
    commits: Vec<RawCommit>,
    shards: Vec<u16>,
}

/// Progress shared by the workers, for the bar.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    events: AtomicU64,
    applied_to: AtomicU64,
}

impl Progress {
    fn applied(&self, events: u64, to: u64) {
        let events = self.events.fetch_add(events, Ordering::Relaxed) + events;
        let to = self.applied_to.fetch_max(to, Ordering::Relaxed).max(to);
        self.bar.set_position(to);
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar
            .set_message(format!("{:.0} events/s", events as f64 / seconds));
    }
}

/// Replays `projection`'s stream from its start into the scratch tables of `schema`.
pub(super) async fn replay(
    store: &EventStore,
    pool: &deadpool_postgres::Pool,
    schema: &str,
    projection: ProjectionName,
    bar: &ProgressBar,
    batch_commits: usize,
) -> Result<BulkDone, ProjectError> {
    let started = Instant::now();
    let mut replay = store.replay(projection.stream(), 0).await?;
    let end = replay.end_sequence();
    bar.set_length(end);
    let progress = Arc::new(Progress {
        bar: bar.clone(),
        started,
        events: AtomicU64::new(0),
        applied_to: AtomicU64::new(0),
    });

    let mut senders = Vec::with_capacity(WORKERS);
    let mut workers = tokio::task::JoinSet::new();
    for index in 0..WORKERS {
        let (sender, batches) = mpsc::channel::<Batch>(QUEUED);
        senders.push(sender);
        let client = pool.get().await?;
        let (schema, progress) = (schema.to_owned(), progress.clone());
        workers.spawn(async move {
            let done = work(client, &schema, projection, batches, &progress).await;
            (index, done)
        });
    }

    // The reader: in this task, so that an error of a worker (its channel closed) stops it.
    let mut route = Routing::new(WORKERS, batch_commits.max(1));
    let mut reading = Duration::ZERO;
    let mut routing_blocked = Duration::ZERO;
    let mut failed = None;
    loop {
        let waiting = Instant::now();
        let next = replay.next().await;
        reading += waiting.elapsed();
        let raw = match next {
            None => break,
            Some(Err(e)) => {
                failed = Some(ProjectError::from(e));
                break;
            }
            Some(Ok(raw)) => raw,
        };
        let shard = projection.shard_of(&raw.subject);
        if let Some((worker, batch)) = route.push(shard, raw) {
            let blocked = Instant::now();
            let sent = senders[worker].send(batch).await;
            routing_blocked += blocked.elapsed();
            if sent.is_err() {
                // The worker failed: its error is collected below.
                break;
            }
        }
    }
    if failed.is_none() {
        for (worker, batch) in route.drain() {
            if senders[worker].send(batch).await.is_err() {
                break;
            }
        }
    }
    drop(senders);

    let mut done = BulkDone {
        end,
        reading,
        routing_blocked,
        applying: vec![Duration::ZERO; WORKERS],
        ..BulkDone::default()
    };
    while let Some(joined) = workers.join_next().await {
        let (index, worker) =
            joined.map_err(|e| ProjectError::Invariant(format!("a rebuild worker failed: {e}")))?;
        match worker {
            Ok(applied) => {
                done.commits += applied.commits;
                done.events += applied.events;
                done.applying[index] = applied.took;
            }
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// Which worker owns which shard, and each worker's batch being gathered.
struct Routing {
    owner: BTreeMap<u16, usize>,
    /// Per worker: the shards it owns, the commits routed to it so far, and its pending batch.
    shards: Vec<Vec<u16>>,
    routed: Vec<u64>,
    pending: Vec<(Vec<RawCommit>, usize)>,
    batch_commits: usize,
}

impl Routing {
    fn new(workers: usize, batch_commits: usize) -> Self {
        Self {
            owner: BTreeMap::new(),
            shards: vec![Vec::new(); workers],
            routed: vec![0; workers],
            pending: (0..workers).map(|_| (Vec::new(), 0)).collect(),
            batch_commits,
        }
    }

    /// Routes a commit of `shard`; returns a worker's batch once it is full.
    fn push(&mut self, shard: u16, raw: RawCommit) -> Option<(usize, Batch)> {
        let worker = match self.owner.get(&shard) {
            Some(worker) => *worker,
            None => {
                let worker = (0..self.routed.len())
                    .min_by_key(|w| self.routed[*w])
                    .unwrap_or(0);
                self.owner.insert(shard, worker);
                self.shards[worker].push(shard);
                self.shards[worker].sort_unstable();
                worker
            }
        };
        self.routed[worker] += 1;
        let (commits, bytes) = &mut self.pending[worker];
        *bytes += raw.payload.len();
        commits.push(raw);
        (*bytes >= BATCH_BYTES || commits.len() >= self.batch_commits)
            .then(|| (worker, self.take(worker)))
    }

    fn take(&mut self, worker: usize) -> Batch {
        let (commits, bytes) = &mut self.pending[worker];
        *bytes = 0;
        Batch {
            commits: std::mem::take(commits),
            shards: self.shards[worker].clone(),
        }
    }

    /// The batches still gathering, at the end of the stream.
    fn drain(mut self) -> Vec<(usize, Batch)> {
        (0..self.pending.len())
            .filter(|w| !self.pending[*w].0.is_empty())
            .collect::<Vec<_>>()
            .into_iter()
            .map(|w| (w, self.take(w)))
            .collect()
    }
}

/// What one worker applied.
struct Applied {
    commits: u64,
    events: u64,
    took: Duration,
}

async fn work(
    mut client: deadpool_postgres::Object,
    schema: &str,
    projection: ProjectionName,
    mut batches: mpsc::Receiver<Batch>,
    progress: &Progress,
) -> Result<Applied, ProjectError> {
    let mut applied = Applied {
        commits: 0,
        events: 0,
        took: Duration::ZERO,
    };
    while let Some(Batch {
        mut commits,
        shards,
    }) = batches.recv().await
    {
        let started = Instant::now();
        // A crash loses nothing here: a rebuild starts again from scratch, and only the swap
        // needs to be durable.
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
        let outcome = apply_in_transaction(
            &tx,
            schema,
            projection,
            &shards,
            &mut commits,
            None,
            Mode::Bulk,
        )
        .await?;
        tx.commit().await?;
        applied.commits += outcome.commits as u64;
        applied.events += outcome.events as u64;
        applied.took += started.elapsed();
        progress.applied(outcome.events as u64, outcome.to);
    }
    Ok(applied)
}
