//! `POST /orders/{order_id}/cancel`: the customer calls the order off.

use super::{api_status, OrderFailure, OrderOutcome, Orders};
use crate::cold::{self, Causes, OrderAggregate};
use domain::ids::{CustomerId, OrderId};
use domain::ordering::OrderCommand;
use std::time::Duration;

/// How long a cancellation waits for its settlement (seats and money back) before answering
/// `cancelled` and leaving the rest to the reactor.
const SETTLE_WITHIN: Duration = Duration::from_secs(5);

impl Orders {
    /// Cancels the order (before payment, or once confirmed), then settles it: a pending order's
    /// hold goes back on sale; a confirmed order's seats return and its money is refunded.
    pub async fn cancel(
        &self,
        order_id: OrderId,
        customer_id: CustomerId,
        traceparent: Option<String>,
    ) -> Result<OrderOutcome, OrderFailure> {
        let causes = Causes {
            traceparent,
            correlation_id: Some(order_id.to_string()),
            causation_id: None,
        };
        let cancel = OrderCommand::Cancel { customer_id };
        let executed =
            cold::execute::<OrderAggregate>(&self.store, &order_id.to_string(), &cancel, &causes)
                .await?;
        let mut outcome = OrderOutcome::of(order_id, &executed.current);
        match tokio::time::timeout(SETTLE_WITHIN, self.fulfilment.advance(order_id, &causes)).await
        {
            Ok(Ok(progress)) => {
                if let Some(status) = progress.status {
                    outcome.status = api_status(status);
                    outcome.position = progress.position;
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(order = %order_id, error = %e, "cancelled; the reactor settles the rest")
            }
            Err(_) => {
                tracing::warn!(order = %order_id, "cancelled; settling takes long, the reactor finishes it")
            }
        }
        Ok(outcome)
    }
}
