//! The cancellation reactor: a durable consumer on the CATALOG stream that settles every event
//! whose commit carries `EventCancelled`.
//!
//! The catalog stream is quiet (a few commits per event), so one consumer reads all of it and
//! skips what is not a cancellation. A cancellation's delivery is kept in progress while
//! [`Cancellations::settle`] runs and acked only once it has finished; a crash halfway leaves it
//! unacked, and the server delivers it again after `ack_wait` to whichever instance is alive,
//! which settles the orders that are left (the settled ones decide nothing). A settlement that
//! fails for now is retried in place with backoff.

use super::Cancellations;
use crate::cold::Causes;
use domain::catalog::CatalogEvent;
use domain::ids::EventId;
use std::time::Duration;
use tracing::Instrument;
use tv_nats::{Delivery, Durable, DurableOptions, EventStore, Stream};

/// The durable consumer's name: instances share it, so each cancellation goes to one of them.
pub const DURABLE_NAME: &str = "cancellation";
/// Commits fetched at once.
const BATCH: usize = 64;

/// Runs until the task is aborted.
pub async fn run(store: EventStore, cancellations: Cancellations, ack_wait: Duration) {
    let options = DurableOptions::reactor(ack_wait);
    let consumer = loop {
        match Durable::ensure_with(&store, Stream::Catalog, DURABLE_NAME, None, options.clone())
            .await
        {
            Ok(consumer) => break consumer,
            Err(e) => {
                tracing::warn!(error = %e, "cancellation reactor cannot start; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    loop {
        let batch = match consumer.fetch(BATCH, Duration::from_secs(1)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "cancellation reactor fetch failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        for delivery in batch {
            if let Some(event) = cancelled_event(&delivery) {
                settle_traced(&cancellations, event, &delivery).await;
            }
            if let Err(e) = delivery.ack().await {
                // Harmless: it comes back after `ack_wait`, and settling again changes nothing.
                tracing::warn!(error = %e, "cancellation reactor ack failed");
            }
        }
    }
}

/// The event a catalog commit cancels, if it does.
fn cancelled_event(delivery: &Delivery) -> Option<EventId> {
    let decoded = delivery
        .raw
        .decode_tolerant::<CatalogEvent>(domain::schema::WRITTEN, domain::schema::upcaster);
    let commit = match decoded {
        Ok(tolerant) => tolerant.commit,
        Err(e) => {
            tracing::warn!(subject = %delivery.raw.subject, error = %e, "unreadable catalog commit; skipped");
            return None;
        }
    };
    commit.events.iter().find_map(|event| match event {
        CatalogEvent::EventCancelled { event_id } => Some(*event_id),
        _ => None,
    })
}

/// Settles one cancellation in the trace of the request that cancelled the event, retrying until
/// it has.
async fn settle_traced(cancellations: &Cancellations, event: EventId, delivery: &Delivery) {
    let raw = &delivery.raw;
    let span = tracing::info_span!("cancellation.event", %event);
    telemetry::propagation::follow(&span, raw.traceparent());
    let causes = Causes {
        traceparent: span
            .in_scope(telemetry::propagation::current_traceparent)
            .or_else(|| raw.traceparent().map(str::to_owned)),
        correlation_id: Some(event.to_string()),
        causation_id: raw.commit_id().map(str::to_owned),
    };
    let mut backoff = Duration::from_millis(200);
    async {
        loop {
            match cancellations.settle(event, &causes).await {
                Ok(settled) => {
                    tracing::info!(%event, orders = settled.orders, cancelled = settled.cancelled, "cancelled event settled");
                    return;
                }
                Err(e) => {
                    metrics::counter!("tv_cancellation_retries_total").increment(1);
                    tracing::warn!(%event, error = %e, ?backoff, "settling a cancelled event failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
    .instrument(span)
    .await
}
