//! `POST /orders`: check the hold out, then place the order.

use super::{OrderFailure, OrderOutcome, Orders};
use crate::cold::{self, Causes, ColdError, OrderAggregate};
use domain::ids::{CustomerId, HoldId, OrderId};
use domain::inventory::InventoryCommand;
use domain::ordering::{Order, OrderCommand, OrderError, OrderStatus};
use tv_nats::Position;

/// A customer's request to buy what a hold holds.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    /// Derived from the customer and the request's idempotency key.
    pub order_id: OrderId,
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    /// The gateway's token for the customer's means of payment.
    pub payment_token: String,
    pub traceparent: Option<String>,
}

impl Orders {
    /// Places the order: `202 pending_payment` with where `OrderPlaced` is stored. A retry of the
    /// same request gets the same answer; the same order id with another request is refused.
    pub async fn place(&self, request: PlaceOrder) -> Result<OrderOutcome, OrderFailure> {
        let id = request.order_id.to_string();
        let current = cold::load::<OrderAggregate>(&self.store, &id).await?;
        if let Some(order) = current.state.order() {
            return answer_again(order, &request, current.first_position());
        }
        // Checkout first: a retry after a crash between the two steps finds the hold checked out
        // by this very order (a retry for the inventory) and places the order.
        let checkout = InventoryCommand::CheckoutHold {
            hold_id: request.hold_id,
            order_id: request.order_id,
            customer_id: request.customer_id.clone(),
        };
        let decided = self
            .inventories
            .decide(
                request.hold_id.event(),
                checkout,
                request.traceparent.clone(),
            )
            .await?;
        let (Some(hold), Some(price)) = (decided.hold, decided.price) else {
            return Err(OrderFailure::Unavailable(
                "the inventory did not return the checked-out hold".into(),
            ));
        };
        let place = OrderCommand::Place {
            order_id: request.order_id,
            customer_id: request.customer_id.clone(),
            hold_id: request.hold_id,
            event_id: request.hold_id.event(),
            section_id: hold.section_id,
            seats: hold.seats,
            quantity: hold.quantity,
            unit_price_minor: price.minor,
            currency: price.currency,
            payment_token: request.payment_token.clone(),
            expires_at: hold.expires_at,
        };
        let causes = Causes {
            traceparent: request.traceparent.clone(),
            correlation_id: Some(id.clone()),
            causation_id: None,
        };
        match cold::execute::<OrderAggregate>(&self.store, &id, &place, &causes).await {
            Ok(executed) => {
                metrics::counter!("tv_orders_placed_total").increment(u64::from(executed.appended));
                Ok(OrderOutcome {
                    order_id: request.order_id,
                    status: OrderStatus::PendingPayment.as_str(),
                    position: executed.current.first_position(),
                })
            }
            Err(ColdError::Rejected(OrderError::IdempotencyKeyReused)) => {
                self.give_back_if_not_its_hold(&request, &causes).await;
                Err(OrderError::IdempotencyKeyReused.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Another request under the same key placed the order first (a race): the hold this request
    /// checked out is not that order's, so it goes back on sale.
    async fn give_back_if_not_its_hold(&self, request: &PlaceOrder, causes: &Causes) {
        let id = request.order_id.to_string();
        let Ok(current) = cold::load::<OrderAggregate>(&self.store, &id).await else {
            return;
        };
        if current
            .state
            .order()
            .is_some_and(|order| order.hold_id != request.hold_id)
        {
            let abandon = InventoryCommand::AbandonCheckout {
                hold_id: request.hold_id,
                order_id: request.order_id,
            };
            if let Err(e) = self
                .inventories
                .decide(request.hold_id.event(), abandon, causes.traceparent.clone())
                .await
            {
                tracing::warn!(hold = %request.hold_id, error = %e, "could not give back a hold checked out by a refused request; it expires on its own");
            }
        }
    }
}

/// The answer to a repeated request: the first one when it is the same request.
fn answer_again(
    order: &Order,
    request: &PlaceOrder,
    first: Position,
) -> Result<OrderOutcome, OrderFailure> {
    let same = order.hold_id == request.hold_id
        && order.customer_id == request.customer_id
        && order.payment_token == request.payment_token;
    match same {
        true => Ok(OrderOutcome {
            order_id: order.order_id,
            status: OrderStatus::PendingPayment.as_str(),
            position: first,
        }),
        false => Err(OrderError::IdempotencyKeyReused.into()),
    }
}
