//! `POST /orders`: check the hold out, exchange the card token for the gateway's reference, then
//! place the order with that reference.
//!
//! The order's total is the checked-out hold's, so the hold is checked out first; then the token
//! is presented to the gateway once (`prepare`, keyed by the order id), and `OrderPlaced` stores
//! the reference of the payment the gateway prepared, never the token. Each step is idempotent
//! and keyed by the order id, so a retry after a crash or an unanswered gateway call between them
//! completes the order, with the same reference:
//!
//! - the gateway does not answer: `503 payment_gateway_unavailable`, no order; the hold stays
//!   this order's until its deadline, and a retry with the same `Idempotency-Key` finishes it;
//! - the gateway refuses the token: the order is placed failed (`OrderPlaced` without a
//!   reference, then `PaymentFailed`, one commit), its hold goes back on sale at once, and the
//!   answer is `402 payment_refused`, now and for every retry.

use super::{OrderFailure, OrderOutcome, Orders};
use crate::cold::{self, Causes, ColdError, OrderAggregate};
use crate::payments::{CardToken, GatewayError};
use domain::ids::{CustomerId, HoldId, OrderId};
use domain::inventory::InventoryCommand;
use domain::money::Currency;
use domain::ordering::{Order, OrderCommand, OrderError, OrderStatus, PaymentMeans, Preparation};
use std::time::Duration;
use tv_nats::Position;

/// How long a refused order waits for its hold to be given back before answering, so that the
/// customer can hold the seats again at once; the reactor finishes it otherwise.
const GIVE_BACK_WITHIN: Duration = Duration::from_secs(2);

/// A customer's request to buy what a hold holds.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    /// Derived from the customer and the request's idempotency key.
    pub order_id: OrderId,
    pub hold_id: HoldId,
    pub customer_id: CustomerId,
    /// The customer's card token: handed to the gateway, never stored (its `Debug` shows none).
    pub card_token: CardToken,
    pub traceparent: Option<String>,
}

impl Orders {
    /// Places the order: `202 pending_payment` with where `OrderPlaced` is stored. A retry of the
    /// same request gets the same answer; the same order id with another request is refused.
    pub async fn place(&self, request: PlaceOrder) -> Result<OrderOutcome, OrderFailure> {
        let id = request.order_id.to_string();
        let current = cold::load::<OrderAggregate>(&self.store, &id).await?;
        if let Some(order) = current.state.order() {
            return self
                .answer_again(order, &request, current.first_position())
                .await;
        }
        // Checkout first: a retry after a crash between the steps finds the hold checked out by
        // this very order (a retry for the inventory) and places the order.
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
        let total_minor = price.minor * i64::from(hold.quantity);
        let payment = self.prepare(&request, total_minor, price.currency).await?;
        let refused = match &payment {
            Preparation::Refused { reason } => Some(reason.clone()),
            Preparation::Prepared { .. } => None,
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
            payment,
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
                if let Some(reason) = refused {
                    tracing::info!(order = %request.order_id, %reason, "the gateway refused the means of payment; the order failed");
                    metrics::counter!("tv_orders_payment_refused_total").increment(1);
                    self.give_back_now(request.order_id, &causes).await;
                    return Err(OrderFailure::PaymentRefused { reason });
                }
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

    /// Presents the request's token to the gateway for the order's total (keyed by the order id).
    async fn prepare(
        &self,
        request: &PlaceOrder,
        total_minor: i64,
        currency: Currency,
    ) -> Result<Preparation, OrderFailure> {
        self.fulfilment
            .gateway()
            .prepare(request.order_id, total_minor, currency, &request.card_token)
            .await
            .map_err(|e| {
                tracing::warn!(order = %request.order_id, error = %e, "preparing the payment");
                match e {
                    GatewayError::Unavailable(_) => OrderFailure::GatewayUnavailable,
                    GatewayError::KeyReused(_) => OrderError::IdempotencyKeyReused.into(),
                    GatewayError::Refused(_) => OrderFailure::GatewayRefused,
                }
            })
    }

    /// The answer to a repeated request: the first one when it is the same request. Whether the
    /// token is the same only the gateway can tell (it alone keeps it): the token is presented
    /// again under the order's key, and the gateway answers the first answer, or a reused key.
    async fn answer_again(
        &self,
        order: &Order,
        request: &PlaceOrder,
        first: Position,
    ) -> Result<OrderOutcome, OrderFailure> {
        if order.hold_id != request.hold_id || order.customer_id != request.customer_id {
            return Err(OrderError::IdempotencyKeyReused.into());
        }
        let same = match &order.payment_means {
            // Placed before references existed: the token is on the order.
            Some(PaymentMeans::LegacyToken(token)) => token == request.card_token.expose(),
            stored => {
                let again = self
                    .prepare(request, order.total_minor, order.currency)
                    .await?;
                matches!(
                    (stored, again),
                    (
                        Some(PaymentMeans::GatewayRef(_)),
                        Preparation::Prepared { .. }
                    ) | (None, Preparation::Refused { .. })
                )
            }
        };
        match (same, &order.payment_means, &order.decline_reason) {
            (false, _, _) => Err(OrderError::IdempotencyKeyReused.into()),
            (true, None, Some(reason)) => Err(OrderFailure::PaymentRefused {
                reason: reason.clone(),
            }),
            (true, _, _) => Ok(OrderOutcome {
                order_id: order.order_id,
                status: OrderStatus::PendingPayment.as_str(),
                position: first,
            }),
        }
    }

    /// A refused order's hold goes back on sale before the answer, when that is quick.
    async fn give_back_now(&self, order_id: OrderId, causes: &Causes) {
        match tokio::time::timeout(GIVE_BACK_WITHIN, self.fulfilment.advance(order_id, causes))
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(order = %order_id, error = %e, "refused; the reactor gives the hold back")
            }
            Err(_) => {
                tracing::warn!(order = %order_id, "refused; giving the hold back takes long, the reactor finishes it")
            }
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
