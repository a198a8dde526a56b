//! `projector rebuild`: replay a stream from its start into fresh tables, then swap them in.
//!
//! The fresh tables are built by the same migration files, run with a scratch schema
//! (`tv_rebuild_<projection>`) first on the search path, so they are identical to the live ones,
//! indexes and constraints included. The live projector and query-svc keep using the live tables
//! meanwhile. The replay is applied with the very function the live loop uses, in batches. The
//! bulk of it is written in [`Mode::Bulk`] into tables stripped of their secondary indexes, by
//! several workers at once, each owning some of the shards ([`bulk`]); the indexes are built
//! afterwards, before the derived values of every row are computed; the rest (catch-up and the
//! swap) is applied incrementally, as the live loop does, while a task reads the next batches.
//!
//! The swap is one transaction: it locks the live checkpoint rows of every shard (which every live
//! batch of every partition locks first, so live batches wait), replays whatever the live
//! projection applied beyond the rebuild (up to its most advanced shard) into the fresh tables, moves the live tables out and the fresh ones in with `ALTER TABLE ..
//! SET SCHEMA` (a rename: no data is copied), sets every shard's checkpoint to where the fresh
//! tables are, and drops the old tables. Readers
//! see the old tables until the commit and the new ones after it. A `reset` notice then tells
//! query-svc to drop its caches of the projection (the rebuild may have gone past the live
//! checkpoint, and the live loop skips what a notice would have said).

mod bulk;

use crate::config::Config;
use crate::db;
use crate::error::ProjectError;
use crate::live::connect;
use crate::projection::Consumption;
use crate::projection::{
    apply_in_transaction, compute_derived, lock_checkpoints, Mode, ProjectionName,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use read_model::Notice;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tv_nats::{EventStore, RawCommit, StoreError};

/// Commits per transaction while replaying.
const REPLAY_BATCH: usize = 10_000;

/// Batches read ahead of the one being written.
const READ_AHEAD: usize = 2;

/// Secondary indexes built at once after the bulk, each on its own connection.
const INDEX_BUILDS: usize = 2;

#[derive(Debug, Clone, Copy)]
pub struct RebuildOptions {
    /// Draw a progress bar on stderr (the CLI); tests and scripts leave it off.
    pub show_progress: bool,
    /// The most commits in one batch of the bulk (tests make it small, to apply many batches).
    pub batch_commits: usize,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        Self {
            show_progress: false,
            batch_commits: REPLAY_BATCH,
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub projection: ProjectionName,
    /// Commits replayed into the fresh tables.
    pub commits: u64,
    /// Events in them.
    pub events: u64,
    /// The live checkpoint when the swap happened.
    pub live_checkpoint: u64,
    /// The checkpoint of the swapped-in tables.
    pub checkpoint: u64,
    pub elapsed: Duration,
    /// How long each phase took, in order (their sum is `elapsed`).
    pub phases: Phases,
}

/// The phases of a rebuild and how long each took, for the CLI's report.
#[derive(Debug, Clone, Default)]
pub struct Phases {
    /// Each phase's name, duration, and parts measured within it.
    pub laps: Vec<Lap>,
    last: Option<Instant>,
}

#[derive(Debug, Clone)]
pub struct Lap {
    pub name: &'static str,
    pub took: Duration,
    pub parts: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn start(at: Instant) -> Self {
        Self {
            laps: Vec::new(),
            last: Some(at),
        }
    }

    /// Ends phase `name`, begun when the previous one ended, with the parts measured within it.
    fn lap(&mut self, name: &'static str, parts: Vec<(&'static str, Duration)>) {
        let now = Instant::now();
        let took = now - self.last.unwrap_or(now);
        tracing::info!(
            phase = name,
            seconds = took.as_secs_f64(),
            ?parts,
            "rebuild phase done"
        );
        self.laps.push(Lap { name, took, parts });
        self.last = Some(now);
    }
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, lap) in self.laps.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} {:.2} s", lap.name, lap.took.as_secs_f64())?;
            for (j, (part, took)) in lap.parts.iter().enumerate() {
                let open = if j == 0 { " (" } else { "; " };
                write!(f, "{open}{part} {:.2} s", took.as_secs_f64())?;
            }
            if !lap.parts.is_empty() {
                f.write_str(")")?;
            }
        }
        Ok(())
    }
}

/// Rebuilds `projections` (all when empty), one after the other.
pub async fn rebuild(
    config: &Config,
    projections: &[ProjectionName],
    options: RebuildOptions,
) -> anyhow::Result<Vec<RebuildReport>> {
    // The advisory lock's connection, the writer's, and one per bulk worker or index build.
    let (store, pool) = connect(config, 2 + INDEX_BUILDS.max(bulk::WORKERS)).await?;
    let projections = if projections.is_empty() {
        ProjectionName::ALL.to_vec()
    } else {
        projections.to_vec()
    };
    let mut reports = Vec::new();
    for projection in projections {
        reports.push(rebuild_one(&store, &pool, projection, options).await?);
    }
    Ok(reports)
}

async fn rebuild_one(
    store: &EventStore,
    pool: &deadpool_postgres::Pool,
    projection: ProjectionName,
    options: RebuildOptions,
) -> Result<RebuildReport, ProjectError> {
    // One rebuild per projection at a time: a session advisory lock, held on its own connection.
    let lock_client = pool.get().await?;
    let lock_key = 0x7476_7262_0000_i64 + projection as i64;
    let locked: bool = lock_client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&lock_key])
        .await?
        .get(0);
    if !locked {
        return Err(ProjectError::RebuildRunning(projection.as_str()));
    }
    let result = rebuild_locked(store, pool, projection, options).await;
    let _ = lock_client
        .execute("SELECT pg_advisory_unlock($1)", &[&lock_key])
        .await;
    result
}

async fn rebuild_locked(
    store: &EventStore,
    pool: &deadpool_postgres::Pool,
    projection: ProjectionName,
    options: RebuildOptions,
) -> Result<RebuildReport, ProjectError> {
    let started = Instant::now();
    let mut phases = Phases::start(started);
    let schema = format!("tv_rebuild_{}", projection.as_str());
    let retired = format!("tv_retired_{}", projection.as_str());
    let mut client = pool.get().await?;
    db::create_schema_copy(&mut client, &schema).await?;
    let deferred = db::drop_secondary_indexes(&client, &schema, projection.tables()).await?;
    phases.lap("schema", Vec::new());

    let mut counts = Counts::new(progress_bar(projection, options.show_progress), started);
    // The bulk: no secondary index to maintain, derived values computed once at the end.
    let bulk = bulk::replay(
        store,
        pool,
        &schema,
        projection,
        &counts.bar,
        options.batch_commits,
    )
    .await?;
    counts.commits = bulk.commits;
    counts.events = bulk.events;
    counts.position = bulk.end;
    let mut parts = vec![
        ("reading the stream", bulk.reading),
        ("waiting for the workers", bulk.routing_blocked),
    ];
    parts.extend(
        bulk.applying
            .iter()
            .map(|took| ("a worker applying", *took)),
    );
    phases.lap("bulk", parts);
    db::create_indexes(pool, &deferred, INDEX_BUILDS).await?;
    phases.lap("indexes", Vec::new());
    compute_derived(&client, &schema, projection).await?;
    phases.lap("derived", Vec::new());

    // Catch up with the live projection outside the lock, so the locked part stays short.
    for _ in 0..3 {
        let live = db::read_checkpoints(&client, "public", projection.as_str())
            .await?
            .into_values()
            .max()
            .unwrap_or(0);
        if live <= counts.position {
            break;
        }
        replay_into(
            store,
            &mut client,
            &schema,
            projection,
            &mut counts,
            Mode::Incremental,
        )
        .await?;
    }
    phases.lap("catch-up", counts.take_parts());

    // The swap.
    let tx = client.transaction().await?;
    let shards = projection.all_shards();
    let live_shards = lock_checkpoints(&tx, "public", projection, &shards).await?;
    let live = live_shards.values().copied().max().unwrap_or(0);
    let live_lowest = live_shards.values().copied().min().unwrap_or(0);
    if live > counts.position {
        let mut batch = Vec::new();
        let mut replay = store.replay(projection.stream(), counts.position).await?;
        while let Some(raw) = replay.next().await {
            let raw = raw?;
            if raw.sequence > live {
                break;
            }
            batch.push(raw);
        }
        let outcome = apply_in_transaction(
            &tx,
            &schema,
            projection,
            &shards,
            &mut batch,
            None,
            Mode::Incremental,
        )
        .await?;
        counts.commits += outcome.commits as u64;
        counts.events += outcome.events as u64;
        counts.position = counts.position.max(outcome.to);
    }
    let checkpoint = live.max(counts.position);
    let mut swap = format!("DROP SCHEMA IF EXISTS {retired} CASCADE; CREATE SCHEMA {retired};");
    for table in projection.tables() {
        swap.push_str(&format!(
            "ALTER TABLE public.{table} SET SCHEMA {retired}; ALTER TABLE {schema}.{table} SET SCHEMA public;"
        ));
    }
    swap.push_str(&format!("DROP SCHEMA {retired} CASCADE;"));
    tx.batch_execute(&swap).await?;
    tx.execute(
        "UPDATE public.projection_checkpoints SET last_sequence = $2, updated_at = now() WHERE projection = $1",
        &[&projection.as_str(), &(checkpoint as i64)],
    )
    .await?;
    tx.commit().await?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;

    let reset = Notice {
        projection: projection.as_str().into(),
        stream: store.naming().stream(projection.stream()),
        from: live_lowest,
        to: checkpoint,
        reset: true,
        ..Notice::default()
    };
    if let Err(e) = store
        .client()
        .publish(
            store.naming().notice_subject(projection.as_str()),
            reset.encode().into(),
        )
        .await
    {
        tracing::warn!(error = %e, "publishing the reset notice failed; readers reload on the next notice's gap");
    }
    let _ = store.client().flush().await;
    phases.lap("swap", Vec::new());
    counts
        .bar
        .finish_with_message(format!("{} · swapped in at {}", counts.rate(), checkpoint));
    Ok(RebuildReport {
        projection,
        commits: counts.commits,
        events: counts.events,
        live_checkpoint: live,
        checkpoint,
        elapsed: started.elapsed(),
        phases,
    })
}

/// Replays the stream from `counts.position` to its current end into the scratch tables.
///
/// Reading is a task of its own, a few batches ahead: the next batch arrives from NATS while the
/// previous one is written.
async fn replay_into(
    store: &EventStore,
    client: &mut deadpool_postgres::Object,
    schema: &str,
    projection: ProjectionName,
    counts: &mut Counts,
    mode: Mode,
) -> Result<(), ProjectError> {
    let mut replay = store.replay(projection.stream(), counts.position).await?;
    counts
        .bar
        .set_length(replay.end_sequence().max(counts.position));
    let (sender, mut batches) = mpsc::channel::<Result<Vec<RawCommit>, StoreError>>(READ_AHEAD);
    let reader = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(REPLAY_BATCH);
        while let Some(raw) = replay.next().await {
            let failed = raw.is_err();
            match raw {
                Ok(raw) => batch.push(raw),
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                }
            }
            if failed {
                return;
            }
            if batch.len() >= REPLAY_BATCH
                && sender.send(Ok(std::mem::take(&mut batch))).await.is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = sender.send(Ok(batch)).await;
        }
    });
    loop {
        let waiting = Instant::now();
        let Some(batch) = batches.recv().await else {
            break;
        };
        counts.waited += waiting.elapsed();
        let applying = Instant::now();
        counts
            .flush(client, schema, projection, batch?, mode)
            .await?;
        counts.applied += applying.elapsed();
    }
    // The reader has sent everything (on an error above, the dropped receiver stops it).
    let _ = reader.await;
    Ok(())
}

/// What the replay has applied so far, shown on the progress bar.
struct Counts {
    commits: u64,
    events: u64,
    position: u64,
    bar: ProgressBar,
    started: Instant,
    /// Time the writer waited for the reader, and spent applying batches, since the last
    /// [`Counts::take_parts`].
    waited: Duration,
    applied: Duration,
}

impl Counts {
    fn new(bar: ProgressBar, started: Instant) -> Self {
        Self {
            commits: 0,
            events: 0,
            position: 0,
            bar,
            started,
            waited: Duration::ZERO,
            applied: Duration::ZERO,
        }
    }

    /// The replay's parts since the last call: waiting for the stream, and applying.
    fn take_parts(&mut self) -> Vec<(&'static str, Duration)> {
        vec![
            ("waiting for the stream", std::mem::take(&mut self.waited)),
            ("applying", std::mem::take(&mut self.applied)),
        ]
    }

    async fn flush(
        &mut self,
        client: &mut deadpool_postgres::Object,
        schema: &str,
        projection: ProjectionName,
        batch: Vec<RawCommit>,
        mode: Mode,
    ) -> Result<(), ProjectError> {
        if batch.is_empty() {
            return Ok(());
        }
        // A crash loses nothing here: a rebuild starts again from scratch, and only the swap needs
        // to be durable.
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
        let mut batch = batch;
        let shards = projection.all_shards();
        let outcome =
            apply_in_transaction(&tx, schema, projection, &shards, &mut batch, None, mode).await?;
        tx.commit().await?;
        self.commits += outcome.commits as u64;
        self.events += outcome.events as u64;
        self.position = self.position.max(outcome.to);
        self.bar.set_position(self.position);
        self.bar.set_message(self.rate());
        Ok(())
    }

    fn rate(&self) -> String {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        format!("{:.0} events/s", self.events as f64 / seconds)
    }
}

/// The bar's length is set by each replay, to the stream's end when it starts.
fn progress_bar(projection: ProjectionName, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} seq · {msg} · ETA {eta}",
        )
        .expect("valid progress template"),
    );
    bar.set_prefix(projection.as_str());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
