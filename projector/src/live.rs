//! The live projector: one task per projection, each a loop of fetch → apply (one transaction,
//! checkpoint included) → publish the change notice → ack.

use crate::config::Config;
use crate::db;
use crate::error::ProjectError;
use crate::projection::Consumption;
use crate::projection::{apply_shards, BatchOutcome, ProjectionName};
use anyhow::Context;
use deadpool_postgres::Pool;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tracing::Instrument;
use tv_nats::{Delivery, Durable, EventStore, Naming};

/// A projector ready to run: connected, streams provisioned, migrations applied, consumers bound.
pub struct Projector {
    config: Config,
    store: EventStore,
    pool: Pool,
    consumers: Vec<(Resume, Durable)>,
    ops: Option<tokio::net::TcpListener>,
}

/// Connects to NATS and PostgreSQL, provisions the streams, applies migrations.
pub(crate) async fn connect(
    config: &Config,
    pool_size: usize,
) -> anyhow::Result<(EventStore, Pool)> {
    let store = EventStore::connect(&config.nats_url, Naming::new(&config.prefix))
        .await
        .with_context(|| {
            format!(
                "connecting to NATS at {}",
                tv_nats::redact_url(&config.nats_url)
            )
        })?;
    store
        .provision()
        .await
        .context("provisioning the streams")?;
    let pool = db::pool(&config.database_url, pool_size).context("PostgreSQL pool")?;
    db::migrate(&pool).await.with_context(|| {
        "applying migrations (is PostgreSQL at DATABASE_URL reachable?)".to_string()
    })?;
    Ok((store, pool))
}

impl Projector {
    pub async fn build(config: Config) -> anyhow::Result<Projector> {
        let projections = config.selected_projections();
        let (store, pool) = connect(&config, projections.len() + 2).await?;
        let mut consumers = Vec::new();
        let partition = config.partition;
        for projection in projections {
            let name = projection.durable_name(partition);
            let (shards, filters) = if projection.shards() == 1 || partition.is_whole() {
                (projection.all_shards(), Vec::new())
            } else {
                let shards = partition.shards(projection.shards());
                let filters = shards
                    .iter()
                    .map(|s| store.naming().shard_wildcard(projection.stream(), *s))
                    .collect();
                (shards, filters)
            };
            let resume = Resume {
                store: store.clone(),
                pool: pool.clone(),
                projection,
                shards,
                name,
                filters,
            };
            let durable = resume.start().await.with_context(|| {
                format!(
                    "durable consumer {} of projection {projection}",
                    resume.name
                )
            })?;
            consumers.push((resume, durable));
        }
        let ops = match config.ops_addr {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr} (set TV_PROJECTOR_ADDR)"))?,
            ),
            None => None,
        };
        Ok(Projector {
            config,
            store,
            pool,
            consumers,
            ops,
        })
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Where the operations endpoints listen, if they do.
    pub fn ops_addr(&self) -> Option<std::net::SocketAddr> {
        self.ops.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Runs until Ctrl-C or SIGTERM; the batch in flight is finished first.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(tv_kit::shutdown_signal()).await
    }

    /// Runs until `stop` resolves; the batch in flight is finished first.
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        telemetry::metrics_handle();
        let ops_server = self.ops.map(|listener| {
            let router = self
                .config
                .http
                .deadlines()
                .bound(crate::ops::router(crate::ops::Ops {
                    store: self.store.clone(),
                    pool: self.pool.clone(),
                    runs: self
                        .consumers
                        .iter()
                        .map(|(resume, _)| (resume.projection, resume.shards.clone()))
                        .collect(),
                    max_lag: self.config.ready_max_lag(),
                }));
            let serving = self.config.http.serve();
            // Served until the projector stops, then aborted: nothing there needs draining.
            let forever = std::future::pending();
            tokio::spawn(async move {
                if let Err(e) = tv_kit::serve(listener, router, serving, forever).await {
                    tracing::warn!(error = %e, "operations endpoints stopped");
                }
            })
        });
        for (resume, durable) in self.consumers {
            let worker = Worker {
                resume,
                durable,
                batch_size: self.config.batch_size.max(1),
                fetch_wait: self.config.fetch_wait(),
                crash_after_batches: self.config.crash_after_batches,
            };
            tasks.spawn(worker.run(stop_rx.clone()));
        }
        tracing::info!(
            prefix = %self.config.prefix,
            partition = %self.config.partition,
            "projector running"
        );
        tokio::pin!(stop);
        let mut result = Ok(());
        tokio::select! {
            _ = &mut stop => {}
            Some(joined) = tasks.join_next() => {
                result = joined.context("projection task panicked").and_then(|r| r);
            }
        }
        let _ = stop_tx.send(true);
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined.context("projection task panicked").and_then(|r| r) {
                tracing::error!(error = %e, "projection task failed");
            }
        }
        if let Some(server) = ops_server {
            server.abort();
        }
        tracing::info!("projector stopped");
        result
    }
}

struct Worker {
    /// The projection and shards it applies, and where its consumer starts again after an error.
    resume: Resume,
    durable: Durable,
    batch_size: usize,
    fetch_wait: Duration,
    crash_after_batches: Option<u64>,
}

impl Worker {
    async fn run(mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let name = self.resume.projection.as_str();
        let notice_subject = self.resume.store.naming().notice_subject(name);
        let stream_name = self
            .resume
            .store
            .naming()
            .stream(self.resume.projection.stream());
        let mut committed_batches = 0u64;
        let mut backoff = Backoff::default();
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let fetched = tokio::select! {
                _ = stop.changed() => return Ok(()),
                fetched = self.durable.fetch(self.batch_size, self.fetch_wait) => fetched,
            };
            let deliveries = match fetched {
                Ok(deliveries) if deliveries.is_empty() => continue,
                Ok(deliveries) => deliveries,
                Err(e) => {
                    // Whatever the broken pull had delivered is not waited for: the consumer
                    // starts again at the checkpoint.
                    tracing::warn!(projection = name, error = %e, "fetch failed; resuming at the checkpoint");
                    backoff.wait(&mut stop).await;
                    if let Err(e) = self.resume.rewind(&mut self.durable).await {
                        tracing::warn!(projection = name, error = %e, "resuming failed; retrying");
                    }
                    continue;
                }
            };
            // One span per batch, a child of the first commit's trace (the request that caused it)
            // and linked to every commit it applies (each a group commit's span, itself linked to
            // its requests): a trace from any request reaches the batch that projected it.
            let span = tracing::info_span!(
                "projection.batch",
                projection = name,
                commits = deliveries.len()
            );
            telemetry::propagation::follow(&span, deliveries[0].raw.traceparent());
            for delivery in &deliveries {
                telemetry::propagation::link(&span, delivery.raw.traceparent());
            }
            let outcome = loop {
                match self.apply(&deliveries).instrument(span.clone()).await {
                    Ok(outcome) => break outcome,
                    Err(e) => {
                        tracing::error!(projection = name, error = %e, "applying a batch failed; retrying");
                        if *stop.borrow() {
                            return Ok(());
                        }
                        backoff.wait(&mut stop).await;
                    }
                }
            };
            backoff.reset();
            committed_batches += 1;
            record_batch(name, &deliveries, outcome.to);
            if self.crash_after_batches == Some(committed_batches) {
                tracing::warn!(
                    projection = name,
                    "test hook: stopping between commit and ack"
                );
                return Ok(());
            }
            if let Some(mut notice) = outcome.notice {
                notice.stream = stream_name.clone();
                if let Err(e) = self
                    .resume
                    .store
                    .client()
                    .publish(notice_subject.clone(), notice.encode().into())
                    .await
                {
                    // Readers detect the gap by range on the next notice and reload.
                    tracing::warn!(projection = name, error = %e, "publishing a change notice failed");
                }
            }
            if let Some(last) = deliveries.last() {
                if let Err(e) = last.ack().await {
                    // Harmless: the batch comes again and is skipped below the checkpoint.
                    tracing::warn!(projection = name, error = %e, "ack failed");
                }
            }
            tracing::debug!(
                projection = name,
                from = outcome.from,
                to = outcome.to,
                commits = outcome.commits,
                events = outcome.events,
                "batch applied"
            );
        }
    }

    async fn apply(&self, deliveries: &[Delivery]) -> Result<BatchOutcome, ProjectError> {
        let commits = deliveries.iter().map(|d| d.raw.clone()).collect();
        let mut client = self.resume.pool.get().await?;
        apply_shards(
            &mut client,
            "public",
            self.resume.projection,
            &self.resume.shards,
            commits,
            Some(&self.resume.store),
        )
        .await
    }
}

/// A projection's consumer: what it applies (the projection, the shards of its partition) and
/// where it starts, the next commit after the lowest checkpoint of its
/// shards, read from PostgreSQL, so a crash never waits for the server to re-deliver what the
/// dead process had fetched. Commits at or below a shard's own (higher) checkpoint are skipped by
/// the batch.
struct Resume {
    store: EventStore,
    pool: Pool,
    projection: ProjectionName,
    shards: Vec<u16>,
    /// The durable consumer's name.
    name: String,
    /// The partition's shard subjects (none: the whole stream).
    filters: Vec<String>,
}

impl Resume {
    /// The consumer, (re-)created at the checkpoint.
    async fn start(&self) -> Result<Durable, ProjectError> {
        let next = self.next_sequence().await?;
        let durable = Durable::resume_at(
            &self.store,
            self.projection.stream(),
            &self.name,
            self.filters.clone(),
            next,
        )
        .await?;
        tracing::info!(projection = %self.projection, consumer = %self.name, next, "consuming from the checkpoint");
        Ok(durable)
    }

    /// Puts `durable` back at the checkpoint.
    async fn rewind(&self, durable: &mut Durable) -> Result<(), ProjectError> {
        let next = self.next_sequence().await?;
        durable.rewind(next).await?;
        tracing::info!(projection = %self.projection, next, "consumer rewound to the checkpoint");
        Ok(())
    }

    async fn next_sequence(&self) -> Result<u64, ProjectError> {
        let client = self.pool.get().await?;
        let checkpoints = db::read_checkpoints(&client, "public", self.projection.as_str()).await?;
        let lowest = self
            .shards
            .iter()
            .map(|shard| checkpoints.get(shard).copied().unwrap_or(0))
            .min()
            .unwrap_or(0);
        Ok(lowest + 1)
    }
}

/// Batch size, lag (from the newest commit's storage to its projection) and checkpoint.
fn record_batch(projection: &'static str, deliveries: &[Delivery], checkpoint: u64) {
    metrics::histogram!("tv_projection_batch_size", "projection" => projection)
        .record(deliveries.len() as f64);
    if let Some(last) = deliveries.last() {
        let lag = time::OffsetDateTime::now_utc() - last.published;
        metrics::histogram!("tv_projection_lag_seconds", "projection" => projection)
            .record(lag.as_seconds_f64().max(0.0));
    }
    metrics::gauge!("tv_projection_checkpoint", "projection" => projection).set(checkpoint as f64);
}

/// Exponential backoff from 50 ms to 5 s, cut short by a stop.
#[derive(Default)]
struct Backoff {
    attempt: u32,
}

impl Backoff {
    async fn wait(&mut self, stop: &mut watch::Receiver<bool>) {
        let delay = Duration::from_millis(50u64 << self.attempt.min(7)).min(Duration::from_secs(5));
        self.attempt += 1;
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => {}
        }
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}
