//! Startup and the consuming loop: fetch a batch of ORDERS commits, turn the facts worth a notice
//! into notices (loading each order concerned once), hand them to the sinks, then ack the batch.
//! The operations endpoints are served alongside while it runs.

use crate::config::Config;
use crate::deliver::Dispatcher;
use crate::notice::{notices_of, worth_a_notice, Notification};
use crate::outbox::{self, PostgresOutbox};
use crate::report::{record_pending, BatchReport};
use crate::sink::{LogSink, Sink, SinkError};
use anyhow::Context;
use deadpool_postgres::Pool;
use domain::catalog::CatalogEvent;
use domain::ids::OrderId;
use domain::inventory::InventoryEvent;
use domain::ordering::{self, OrderEvent, OrderState};
use domain::schema::{upcaster, WRITTEN};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tv_nats::{Delivery, Durable, DurableOptions, EventStore, Naming, Stream};

/// The durable consumer's name: notifier instances share it.
pub const DURABLE_NAME: &str = "notifier";
/// The durable consumer of the INVENTORY stream, for the waiting list's notices.
pub const WAITLIST_DURABLE_NAME: &str = "notifier-waitlist";

/// Which stream a consumer reads, and so how its facts become notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Orders,
    Inventory,
}

/// How often the consumer's backlog is read from the server (one JetStream API request).
const PENDING_REFRESH: Duration = Duration::from_secs(1);

/// A notifier ready to run: connected, migrated, its consumer bound, its operations port bound.
pub struct Notifier {
    config: Config,
    store: EventStore,
    /// The outbox's database, for `/readyz`.
    pool: Pool,
    consumer: Durable,
    waitlist_consumer: Durable,
    sinks: Vec<Arc<dyn Sink>>,
    /// Sends the outbox's notices by mail and webhooks, when either is configured.
    dispatcher: Option<Dispatcher>,
    ops: Option<tokio::net::TcpListener>,
}

impl Notifier {
    /// Connects to NATS and PostgreSQL, applies the outbox's migration, binds the consumer; the
    /// sinks are the PostgreSQL outbox, then the log.
    pub async fn build(config: Config) -> anyhow::Result<Notifier> {
        let pool = tv_kit::pg::pool(&config.database_url, 3).context("PostgreSQL pool")?;
        outbox::migrate(&pool)
            .await
            .context("applying the notifier's migration (is DATABASE_URL reachable?)")?;
        let sinks: Vec<Arc<dyn Sink>> = vec![
            Arc::new(PostgresOutbox::with_channels(
                pool.clone(),
                config.delivery.channels(),
            )),
            Arc::new(LogSink),
        ];
        Self::assemble(config, pool, sinks).await
    }

    /// [`Notifier::build`] with other sinks (chained in order; put a deduplicating one first).
    /// `/readyz` still checks the PostgreSQL at `DATABASE_URL`.
    pub async fn build_with_sinks(
        config: Config,
        sinks: Vec<Arc<dyn Sink>>,
    ) -> anyhow::Result<Notifier> {
        let pool = tv_kit::pg::pool(&config.database_url, 1).context("PostgreSQL pool")?;
        Self::assemble(config, pool, sinks).await
    }

    async fn assemble(
        config: Config,
        pool: Pool,
        sinks: Vec<Arc<dyn Sink>>,
    ) -> anyhow::Result<Notifier> {
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
        let options = DurableOptions::reactor(Duration::from_secs(config.ack_wait_secs.max(1)));
        let consumer =
            Durable::ensure_with(&store, Stream::Orders, DURABLE_NAME, None, options.clone())
                .await
                .context("the notifier's durable consumer")?;
        let waitlist_consumer = Durable::ensure_with(
            &store,
            Stream::Inventory,
            WAITLIST_DURABLE_NAME,
            None,
            options,
        )
        .await
        .context("the notifier's durable consumer of the inventory stream")?;
        let dispatcher = Dispatcher::new(pool.clone(), store.clone(), &config.delivery)
            .context("configuring mail and webhooks")?;
        let ops = match config.ops_addr {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr} (set TV_NOTIFIER_ADDR)"))?,
            ),
            None => None,
        };
        Ok(Notifier {
            config,
            store,
            pool,
            consumer,
            waitlist_consumer,
            sinks,
            dispatcher,
            ops,
        })
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
    pub async fn run_until(mut self, stop: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        telemetry::metrics_handle();
        let ops_server = self.ops.take().map(|listener| {
            let router = self
                .config
                .http
                .deadlines()
                .bound(crate::ops::router(crate::ops::Ops {
                    store: self.store.clone(),
                    pool: self.pool.clone(),
                }));
            let serving = self.config.http.serve();
            // Served until the notifier stops, then aborted: nothing there needs draining.
            let forever = std::future::pending();
            tokio::spawn(async move {
                if let Err(e) = tv_kit::serve(listener, router, serving, forever).await {
                    tracing::warn!(error = %e, "operations endpoints stopped");
                }
            })
        });
        // Both consumers stop when `stop` resolves, each after its batch in flight.
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let stop_both = async move {
            stop.await;
            let _ = stopping.send(true);
        };
        let until = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let deliver = async {
            if let Some(dispatcher) = &self.dispatcher {
                dispatcher.run(until(stopped.clone())).await;
            }
        };
        tokio::join!(
            stop_both,
            deliver,
            self.consume(&self.consumer, Source::Orders, until(stopped.clone())),
            self.consume(
                &self.waitlist_consumer,
                Source::Inventory,
                until(stopped.clone())
            ),
        );
        if let Some(server) = ops_server {
            server.abort();
        }
        tracing::info!("notifier stopped");
        Ok(())
    }

    /// The consuming loop of one consumer, until `stop` resolves.
    async fn consume(&self, consumer: &Durable, source: Source, stop: impl Future<Output = ()>) {
        tracing::info!(prefix = %self.config.prefix, ?source, "notifier running");
        tokio::pin!(stop);
        let mut backoff = Duration::from_millis(50);
        let mut pending_read: Option<Instant> = None;
        loop {
            if pending_read.is_none_or(|at| at.elapsed() >= PENDING_REFRESH) {
                match consumer.pending().await {
                    Ok(pending) if source == Source::Orders => record_pending(pending),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "consumer backlog not read"),
                }
                pending_read = Some(Instant::now());
            }
            let fetched = tokio::select! {
                _ = &mut stop => break,
                fetched = consumer.fetch(self.config.batch_size.max(1), self.config.fetch_wait()) => fetched,
            };
            let batch = match fetched {
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "notifier fetch failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            // The batch is handled until it is stored (or the notifier is stopped: unacked, it
            // comes again to whoever runs next).
            loop {
                match self.handle(&batch, source).await {
                    Ok(report) => {
                        report.record(&batch);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "notices not stored; retrying the batch");
                        tokio::select! {
                            _ = &mut stop => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
            backoff = Duration::from_millis(50);
            for delivery in &batch {
                if let Err(e) = delivery.ack().await {
                    // Harmless: it comes again and its notices are there already.
                    tracing::warn!(error = %e, "notifier ack failed");
                }
            }
        }
    }

    /// The notices of a batch, through every sink; what was written and what was skipped.
    async fn handle(&self, batch: &[Delivery], source: Source) -> Result<BatchReport, SinkError> {
        let mut report = BatchReport::default();
        let mut notices = match source {
            Source::Orders => self.notices(batch, &mut report).await?,
            Source::Inventory => waitlist_notices_of(batch, &mut report),
        };
        self.name_events(&mut notices).await;
        let made = notices.len();
        for sink in &self.sinks {
            if notices.is_empty() {
                break;
            }
            notices = sink.deliver(notices).await?;
        }
        report.count_delivered(made, &notices);
        Ok(report)
    }

    /// The notices of the facts in `batch`, each order loaded once; facts that give none are
    /// counted in `report`.
    async fn notices(
        &self,
        batch: &[Delivery],
        report: &mut BatchReport,
    ) -> Result<Vec<Notification>, SinkError> {
        let mut worth: BTreeMap<OrderId, Vec<(u64, Vec<OrderEvent>)>> = BTreeMap::new();
        for delivery in batch {
            let commit = match delivery
                .raw
                .decode_tolerant::<OrderEvent>(WRITTEN, upcaster)
            {
                Ok(decoded) => {
                    report.skipped(&decoded.skipped);
                    decoded.commit
                }
                Err(e) => {
                    // Not a commit at all: nothing it could tell a customer.
                    tracing::warn!(error = %e, "undecodable order commit; skipped");
                    report.undecodable += 1;
                    continue;
                }
            };
            if !worth_a_notice(&commit.events) {
                continue;
            }
            let Some(order) = commit
                .subject
                .rsplit('.')
                .next()
                .and_then(|id| id.parse::<OrderId>().ok())
            else {
                continue;
            };
            worth
                .entry(order)
                .or_default()
                .push((commit.sequence, commit.events));
        }
        let mut notices = Vec::new();
        let mut seen = HashSet::new();
        for (order_id, commits) in worth {
            let loaded = self
                .store
                .load::<OrderEvent>(Stream::Orders, &order_id.to_string(), 0)
                .await
                .map_err(|e| SinkError(format!("loading order {order_id}: {e}")))?;
            let state = loaded
                .commits
                .iter()
                .flat_map(|c| c.events.iter())
                .fold(OrderState::default(), ordering::evolve);
            let Some(order) = state.order() else {
                tracing::warn!(order = %order_id, "a fact of an order never placed; skipped");
                report.unknown_order += commits.len() as u64;
                continue;
            };
            for (sequence, facts) in commits {
                for notice in notices_of(order, &facts, sequence) {
                    if seen.insert(notice.id.clone()) {
                        notices.push(notice);
                    }
                }
            }
        }
        Ok(notices)
    }
}

impl Notifier {
    /// Adds each notice's event name (`event_name`, as the organiser typed it) from the event's
    /// `EventCreated` on the catalog stream, each event read once. An event that cannot be read
    /// leaves its notices without a name (the mail names the event by id).
    async fn name_events(&self, notices: &mut [Notification]) {
        let mut names: HashMap<String, Option<String>> = HashMap::new();
        for notice in notices.iter_mut() {
            let Some(event) = notice.body["event_id"].as_str().map(str::to_owned) else {
                continue;
            };
            if !names.contains_key(&event) {
                let name = match self
                    .store
                    .load::<CatalogEvent>(Stream::Catalog, &event, 0)
                    .await
                {
                    Ok(loaded) => loaded
                        .commits
                        .iter()
                        .flat_map(|c| c.events.iter())
                        .find_map(|fact| match fact {
                            CatalogEvent::EventCreated { details, .. } => {
                                Some(details.name.clone())
                            }
                            _ => None,
                        }),
                    Err(e) => {
                        tracing::debug!(error = %e, event, "the event's name not read");
                        None
                    }
                };
                names.insert(event.clone(), name);
            }
            if let Some(Some(name)) = names.get(&event) {
                notice.body["event_name"] = serde_json::json!(name);
            }
        }
    }
}

/// The waiting-list notices of a batch of inventory commits (most have none).
fn waitlist_notices_of(batch: &[Delivery], report: &mut BatchReport) -> Vec<Notification> {
    let mut notices = Vec::new();
    for delivery in batch {
        if !delivery.raw.payload.windows(8).any(|w| w == b"Waitlist") {
            continue;
        }
        match delivery
            .raw
            .decode_tolerant::<InventoryEvent>(WRITTEN, upcaster)
        {
            Ok(decoded) => {
                report.skipped(&decoded.skipped);
                notices.extend(crate::waitlist::waitlist_notices(
                    &decoded.commit.events,
                    decoded.commit.sequence,
                ))
            }
            Err(e) => {
                tracing::warn!(error = %e, "undecodable inventory commit; skipped");
                report.undecodable += 1;
            }
        }
    }
    notices
}
