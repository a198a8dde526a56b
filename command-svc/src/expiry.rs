//! The expiry reactor: fired hold timers become `ExpireDue` commands for the event's writer.
//!
//! Timers fire on `<prefix>.timers.fired.<event>` and reach this durable consumer (several
//! instances share it, each timer goes to one). A late or duplicate timer decides nothing: expiry
//! is lazy anyway, so the timer only makes the `HoldExpired` facts appear soon after the fact.
//! The batch in hand is kept in progress while it is decided; after a crash it comes back within
//! [`ACK_WAIT`].

use crate::inventory::{CommandError, Inventories};
use domain::ids::EventId;
use domain::inventory::InventoryCommand;
use std::time::Duration;
use tv_nats::{Durable, DurableOptions, EventStore, Stream, Timers};

/// How long a fired timer delivered to a crashed instance waits before it is delivered again.
pub const ACK_WAIT: Duration = Duration::from_secs(1);

pub async fn run(store: EventStore, inventories: Inventories) {
    let timers = Timers::new(store.clone());
    let consumer = loop {
        let options = DurableOptions {
            explicit_acks: false,
            ack_wait: ACK_WAIT,
        };
        match Durable::ensure_with(
            &store,
            Stream::Timers,
            "expiry-reactor",
            Some(timers.fired_wildcard()),
            options,
        )
        .await
        {
            Ok(consumer) => break consumer,
            Err(e) => {
                tracing::warn!(error = %e, "expiry reactor cannot start; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    loop {
        let batch = match consumer.fetch(64, Duration::from_secs(5)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "expiry reactor fetch failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let Some(last) = batch.last() else { continue };
        let mut all_done = true;
        for delivery in &batch {
            let Some(event) = delivery
                .raw
                .subject
                .rsplit('.')
                .next()
                .and_then(|id| id.parse::<EventId>().ok())
            else {
                continue;
            };
            let traceparent = delivery.raw.traceparent().map(str::to_owned);
            match inventories
                .decide(event, InventoryCommand::ExpireDue, traceparent)
                .await
            {
                Ok(_) | Err(CommandError::Rejected(_)) => {
                    metrics::counter!("tv_expiry_timers_total").increment(1);
                }
                Err(e) => {
                    tracing::warn!(%event, error = %e, "expiry not recorded; will be redelivered");
                    all_done = false;
                    break;
                }
            }
        }
        if all_done {
            if let Err(e) = last.ack().await {
                tracing::warn!(error = %e, "expiry reactor ack failed");
            }
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
