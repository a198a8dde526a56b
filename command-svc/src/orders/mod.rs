//! Order commands: place an order for a hold (`POST /orders`) and cancel it
//! (`POST /orders/{order_id}/cancel`).
//!
//! Placing an order touches two aggregates in two streams and the payment gateway: the hold's
//! inventory (`CheckoutHold`, through the event's writer), the gateway (the card token exchanged
//! for its reference of a prepared payment) and the new order (`OrderPlaced` on `orders.<order>`,
//! with that reference, never the token). Every step is idempotent and keyed by the order id
//! (derived from the customer and the `Idempotency-Key`), so a retry after a crash or a lost
//! answer between them completes the order; the order is the record of the request, so a retry
//! is answered from it (and from the gateway, which alone can tell whether the token is the same). Everything after placement (payment, seats, tickets)
//! is the fulfilment process manager's (`crate::fulfilment`).
//!
//! Cancelling appends `OrderCancelled`, then lets the process manager settle it at once (hold or
//! seats back on sale, money back) so that the answer can say `refunded`; the reactor finishes
//! whatever that does not.

mod cancel;
mod error;
mod place;

pub use error::OrderFailure;
pub use place::PlaceOrder;

use crate::cold::Current;
use crate::fulfilment::Fulfilment;
use crate::inventory::Inventories;
use domain::ids::OrderId;
use domain::ordering::{OrderState, OrderStatus};
use tv_nats::{EventStore, Position};

/// The order application service.
#[derive(Clone)]
pub struct Orders {
    store: EventStore,
    inventories: Inventories,
    fulfilment: Fulfilment,
}

/// What an order command answers.
#[derive(Debug, Clone)]
pub struct OrderOutcome {
    pub order_id: OrderId,
    /// The status as the API shows it ([`api_status`]).
    pub status: &'static str,
    pub position: Position,
}

/// An order's status as the API and the read models show it: `paid` is internal (the money is
/// taken, the tickets are being issued) and shows as `pending_payment`.
pub fn api_status(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => OrderStatus::PendingPayment.as_str(),
        other => other.as_str(),
    }
}

impl OrderOutcome {
    fn of(order_id: OrderId, current: &Current<OrderState>) -> Self {
        Self {
            order_id,
            status: current
                .state
                .status()
                .map_or(OrderStatus::PendingPayment.as_str(), api_status),
            position: current.last_position(),
        }
    }
}

impl Orders {
    pub fn new(store: EventStore, inventories: Inventories, fulfilment: Fulfilment) -> Self {
        Self {
            store,
            inventories,
            fulfilment,
        }
    }

    /// The process manager, for the reactor and tests.
    pub fn fulfilment(&self) -> &Fulfilment {
        &self.fulfilment
    }
}
