//! Cancelling an event: the saga that settles every order of it, exactly once.
//!
//! `POST /events/{id}/cancel` records `EventCancelled` in the catalog and `SaleCancelled` in the
//! inventory (which releases every live hold and ends the waiting list at once), and answers. The
//! orders are settled here, by [`Cancellations::settle`]: the inventory's writer names the orders
//! whose holds are checked out or sold (`CancelSale` again, which decides nothing the second time
//! and answers with them), and each is cancelled for the event (`CancelForEvent`) and advanced by
//! the fulfilment process manager, which gives its hold back or returns its seats and refunds
//! its money. A paid order whose seats were not sold yet is only advanced: the cancelled sale
//! refuses its seats, so it expires with a refund.
//!
//! Exactly once, whatever the retries and crashes: every step is decided against stored facts
//! and decides nothing when its effect is there already (a cancelled order is not cancelled
//! again, a refund is keyed), and the reactor ([`reactor::run`]) acks the catalog's
//! `EventCancelled` only once every order is settled, so a crash halfway settles the rest after a
//! restart. The fulfilment reactor, which follows every order's commits, finishes what an
//! interrupted `advance` left (a refund still at the gateway).

pub mod reactor;

use crate::cold::{self, Causes, ColdError, OrderAggregate};
use crate::fulfilment::{Fulfilment, FulfilmentError};
use crate::inventory::{CommandError, Inventories};
use domain::ids::{EventId, OrderId};
use domain::inventory::{InventoryCommand, InventoryError};
use domain::ordering::{OrderCommand, OrderError};
use futures::StreamExt;
use std::time::Duration;
use tv_nats::EventStore;

/// Orders settled at the same time: enough to keep the gateway busy, few enough not to crowd
/// out the sale of other events.
const CONCURRENT_ORDERS: usize = 16;
/// The most attempts at one order before the saga gives up on this round (the delivery comes
/// back and it starts again).
const ATTEMPTS: u32 = 8;

/// Why a cancellation could not be settled now. Every step is safe to repeat.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// What settling a cancellation came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Orders the inventory named.
    pub orders: usize,
    /// Orders this round cancelled (the rest had ended, or were settled by expiring).
    pub cancelled: usize,
}

/// The saga. Cheap to clone.
#[derive(Clone)]
pub struct Cancellations {
    store: EventStore,
    inventories: Inventories,
    fulfilment: Fulfilment,
}

impl Cancellations {
    pub fn new(store: EventStore, inventories: Inventories, fulfilment: Fulfilment) -> Self {
        Self {
            store,
            inventories,
            fulfilment,
        }
    }

    /// Cancels the event's inventory (again: a retry decides nothing) and settles every order it
    /// names. Safe to call any number of times, concurrently, from any instance.
    pub async fn settle(&self, event: EventId, causes: &Causes) -> Result<Settled, CancelError> {
        let orders = match self
            .inventories
            .decide(
                event,
                InventoryCommand::CancelSale,
                causes.traceparent.clone(),
            )
            .await
        {
            Ok(decided) => decided.orders,
            // Never published: no holds, no orders.
            Err(CommandError::Rejected(InventoryError::NotOpen)) => Vec::new(),
            Err(e) => return Err(CancelError::Unavailable(e.to_string())),
        };
        let count = orders.len();
        tracing::info!(%event, orders = count, "settling the orders of a cancelled event");
        let results: Vec<Result<bool, CancelError>> = futures::stream::iter(orders)
            .map(|order| self.settle_order(order, causes))
            .buffer_unordered(CONCURRENT_ORDERS)
            .collect()
            .await;
        let mut settled = Settled {
            orders: count,
            cancelled: 0,
        };
        for result in results {
            settled.cancelled += usize::from(result?);
        }
        metrics::counter!("tv_cancellation_orders_settled_total").increment(count as u64);
        Ok(settled)
    }

    /// Cancels one order for the event and advances it; true when this call cancelled it.
    async fn settle_order(&self, order: OrderId, causes: &Causes) -> Result<bool, CancelError> {
        let causes = Causes {
            correlation_id: Some(order.to_string()),
            ..causes.clone()
        };
        let mut pause = Duration::from_millis(50);
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            match self.try_order(order, &causes).await {
                Ok(cancelled) => return Ok(cancelled),
                Err(reason) => {
                    tracing::warn!(%order, %reason, "settling an order of a cancelled event; retrying");
                    last = reason;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
        Err(CancelError::Unavailable(format!("order {order}: {last}")))
    }

    async fn try_order(&self, order: OrderId, causes: &Causes) -> Result<bool, String> {
        let cancel = OrderCommand::CancelForEvent;
        let cancelled =
            match cold::execute::<OrderAggregate>(&self.store, &order.to_string(), &cancel, causes)
                .await
            {
                Ok(executed) => executed.appended,
                // Paid and not sold yet: advancing it settles it (the sale refuses its seats).
                Err(ColdError::Rejected(OrderError::InvalidState { .. })) => false,
                // Checked out, but the order was never placed (a crash between the two): its
                // hold runs out by itself.
                Err(ColdError::Rejected(OrderError::UnknownOrder)) => return Ok(false),
                Err(ColdError::Rejected(rule)) => return Err(rule.to_string()),
                Err(ColdError::Unavailable(reason)) => return Err(reason),
            };
        match self.fulfilment.advance(order, causes).await {
            Ok(_) => Ok(cancelled),
            // The gateway has not settled a charge yet; the fulfilment reactor refunds it once it
            // does. The order itself is cancelled (or will expire): nothing left for the saga.
            Err(FulfilmentError::Pending(_)) => Ok(cancelled),
            Err(FulfilmentError::Stuck(reason)) => {
                metrics::counter!("tv_cancellation_stuck_total").increment(1);
                tracing::error!(%order, %reason, "an order of a cancelled event cannot be settled; needs a person");
                Ok(cancelled)
            }
            Err(e) => Err(e.to_string()),
        }
    }
}
