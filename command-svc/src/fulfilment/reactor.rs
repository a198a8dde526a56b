//! The fulfilment reactor: a durable consumer on the ORDERS stream that advances every order a
//! commit names.
//!
//! Every commit on `orders.<order>` (the customer's `OrderPlaced`, and each fact the process
//! manager appends itself) is a reason to look at that order again; [`Fulfilment::advance`] then
//! takes whatever steps are due, so a commit that finds nothing to do costs one read.
//!
//! Orders advance concurrently and independently: each fetched order gets a task of its own (at
//! most `MAX_IN_FLIGHT` at a time), and the loop goes on fetching meanwhile, so a slow gateway call
//! holds up only its own order, never the orders behind it. One order has one task at a time:
//! commits of an order already in flight (the process manager's own facts, mostly) wait for that
//! task, which advances the order once more for them. Each delivery is acked on its own,
//! explicitly, once its order's `advance` has finished; until then the consumer keeps it in
//! progress (see [`tv_nats::Durable`]), however slow the gateway. A crash stops both: the server
//! delivers the commit again after `ack_wait` (a second by default), whatever was acked since.
//!
//! A transient failure (store, inventory writer, gateway) is retried in place with backoff, with
//! the same keys; a step refused for good is logged, counted and skipped. A charge pending at the
//! gateway keeps its order's delivery in progress and is looked up again every `pending_poll`
//! (the webhook usually settles it first), so a restart redelivers it and resumes the wait by the
//! recorded reference.

use super::{Fulfilment, FulfilmentError};
use crate::cold::Causes;
use domain::ids::OrderId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;
use tv_nats::{Delivery, Durable, DurableOptions, EventStore, Stream};

/// The durable consumer's name: instances share it, so each commit goes to one of them.
pub const DURABLE_NAME: &str = "fulfilment";
/// Commits fetched at once.
const BATCH: usize = 256;
/// Orders being advanced at the same time by one instance.
const MAX_IN_FLIGHT: usize = 512;

/// How the reactor consumes.
#[derive(Debug, Clone)]
pub struct ReactorSettings {
    /// How long a delivered commit may stay unacked (and not marked in progress) before the
    /// server delivers it again: how long a crash goes unrepaired.
    pub ack_wait: Duration,
    /// How often an order whose charge is pending at the gateway is looked at again (its delivery
    /// kept in progress meanwhile). The gateway's webhook usually settles it sooner; this is the
    /// backstop for a webhook that never comes.
    pub pending_poll: Duration,
}

/// Runs until the task is aborted (which aborts the orders in flight) or a test hook halts it.
pub async fn run(store: EventStore, fulfilment: Fulfilment, settings: ReactorSettings) {
    let options = DurableOptions::reactor(settings.ack_wait);
    let consumer = loop {
        match Durable::ensure_with(&store, Stream::Orders, DURABLE_NAME, None, options.clone())
            .await
        {
            Ok(consumer) => break consumer,
            Err(e) => {
                tracing::warn!(error = %e, "fulfilment reactor cannot start; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let waiting = Waiting::default();
    let mut in_flight = JoinSet::new();
    while !fulfilment.is_halted() {
        while in_flight.try_join_next().is_some() {}
        let batch = match consumer.fetch(BATCH, Duration::from_secs(1)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "fulfilment reactor fetch failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        // One `advance` per order, however many of its commits came.
        let mut by_order: BTreeMap<OrderId, Vec<Delivery>> = BTreeMap::new();
        for delivery in batch {
            match order_of(&delivery.raw.subject) {
                Some(order) => by_order.entry(order).or_default().push(delivery),
                None => {
                    tracing::warn!(subject = %delivery.raw.subject, "not an order's subject; skipped");
                    ack(&delivery).await;
                }
            }
        }
        for (order, deliveries) in by_order {
            let Some(deliveries) = waiting.start_or_queue(order, deliveries) else {
                continue;
            };
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (fulfilment, waiting) = (fulfilment.clone(), waiting.clone());
            let pending_poll = settings.pending_poll;
            in_flight.spawn(async move {
                let _slot = slot;
                run_order(&fulfilment, &waiting, order, deliveries, pending_poll).await;
            });
        }
    }
    tracing::warn!("fulfilment reactor halted by its test hook");
}

/// The orders in flight, with the deliveries that came for each meanwhile.
#[derive(Clone, Default)]
struct Waiting(Arc<Mutex<HashMap<OrderId, Vec<Delivery>>>>);

impl Waiting {
    /// Queues the deliveries for the order's task when it is in flight (`None`); otherwise marks
    /// it in flight and gives them back, for the caller to start its task.
    fn start_or_queue(&self, order: OrderId, deliveries: Vec<Delivery>) -> Option<Vec<Delivery>> {
        let mut orders = self.0.lock().expect("waiting orders");
        match orders.get_mut(&order) {
            Some(queued) => {
                queued.extend(deliveries);
                None
            }
            None => {
                orders.insert(order, Vec::new());
                Some(deliveries)
            }
        }
    }

    /// The deliveries that came while the order's task ran; `None` ends the task (and the order
    /// is no longer in flight).
    fn next(&self, order: OrderId) -> Option<Vec<Delivery>> {
        let mut orders = self.0.lock().expect("waiting orders");
        match orders.get_mut(&order) {
            Some(queued) if !queued.is_empty() => Some(std::mem::take(queued)),
            _ => {
                orders.remove(&order);
                None
            }
        }
    }
}

/// One order's task: advance it, ack its deliveries, and again for those that came meanwhile.
async fn run_order(
    fulfilment: &Fulfilment,
    waiting: &Waiting,
    order: OrderId,
    mut deliveries: Vec<Delivery>,
    pending_poll: Duration,
) {
    loop {
        if !settle_traced(fulfilment, order, &deliveries, pending_poll).await {
            // Halted: as a crash, nothing is acked; it comes back after `ack_wait`.
            return;
        }
        for delivery in &deliveries {
            ack(delivery).await;
        }
        match waiting.next(order) {
            Some(more) => deliveries = more,
            None => return,
        }
    }
}

/// Settles one order in the trace of the commit that brought it. True when its deliveries may be
/// acked.
async fn settle_traced(
    fulfilment: &Fulfilment,
    order: OrderId,
    deliveries: &[Delivery],
    pending_poll: Duration,
) -> bool {
    let last = &deliveries.last().expect("grouped deliveries").raw;
    // One span per order, a child of the trace of the commit that brought it (the request that
    // placed or cancelled it, or the step before); the commits it writes carry this span on.
    let span = tracing::info_span!("fulfilment.order", %order);
    telemetry::propagation::follow(&span, last.traceparent());
    let causes = Causes {
        traceparent: span
            .in_scope(telemetry::propagation::current_traceparent)
            .or_else(|| last.traceparent().map(str::to_owned)),
        correlation_id: Some(order.to_string()),
        causation_id: last.commit_id().map(str::to_owned),
    };
    settle(fulfilment, order, &causes, pending_poll)
        .instrument(span)
        .await
}

/// Advances one order until it has nothing left to do now, retrying transient failures and
/// looking again every `pending_poll` at a charge pending at the gateway. False when the test
/// hook halted the process manager.
async fn settle(
    fulfilment: &Fulfilment,
    order: OrderId,
    causes: &Causes,
    pending_poll: Duration,
) -> bool {
    let mut backoff = Duration::from_millis(50);
    loop {
        match fulfilment.advance(order, causes).await {
            Ok(_) => return true,
            Err(FulfilmentError::Halted) => return false,
            Err(FulfilmentError::Pending(gateway_ref)) => {
                tracing::debug!(%order, %gateway_ref, "charge pending at the gateway");
                tokio::time::sleep(pending_poll).await;
            }
            Err(e) if e.is_transient() => {
                metrics::counter!("tv_fulfilment_retries_total").increment(1);
                tracing::warn!(%order, error = %e, ?backoff, "fulfilment step failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                metrics::counter!("tv_fulfilment_stuck_total").increment(1);
                tracing::error!(%order, error = %e, "order cannot be fulfilled; skipped");
                return true;
            }
        }
    }
}

async fn ack(delivery: &Delivery) {
    if let Err(e) = delivery.ack().await {
        // Harmless: it comes back after `ack_wait`, and advancing it again changes nothing.
        tracing::warn!(error = %e, "fulfilment reactor ack failed");
    }
}

/// The order of a subject `<prefix>.orders.<order>`.
fn order_of(subject: &str) -> Option<OrderId> {
    subject.rsplit('.').next()?.parse().ok()
}
