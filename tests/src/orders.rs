//! Reading an order and its payment back from JetStream, to check a purchase at the source: how
//! many times each fact was recorded, not only how it ended.

use domain::ids::{OrderId, PaymentId};
use domain::ordering::{self, OrderEvent, OrderState, OrderStatus};
use domain::payments::{self, PaymentEvent, PaymentState};
use std::time::Duration;
use tv_nats::{EventStore, Stream};

/// Every fact of one order and of its payment, in order.
#[derive(Debug, Clone)]
pub struct OrderLog {
    pub order: Vec<OrderEvent>,
    pub payment: Vec<PaymentEvent>,
}

impl OrderLog {
    pub async fn read(store: &EventStore, order: OrderId) -> Self {
        let order_facts = store
            .load::<OrderEvent>(Stream::Orders, &order.to_string(), 0)
            .await
            .unwrap_or_else(|e| panic!("reading orders.{order}: {e}"));
        let payment = PaymentId::for_order(order).to_string();
        let payment_facts = store
            .load::<PaymentEvent>(Stream::Payments, &payment, 0)
            .await
            .unwrap_or_else(|e| panic!("reading payments.{payment}: {e}"));
        Self {
            order: order_facts
                .commits
                .into_iter()
                .flat_map(|c| c.events)
                .collect(),
            payment: payment_facts
                .commits
                .into_iter()
                .flat_map(|c| c.events)
                .collect(),
        }
    }

    /// The order as the domain folds its facts.
    pub fn order_state(&self) -> OrderState {
        self.order
            .iter()
            .fold(OrderState::default(), ordering::evolve)
    }

    pub fn payment_state(&self) -> PaymentState {
        self.payment
            .iter()
            .fold(PaymentState::default(), payments::evolve)
    }

    pub fn status(&self) -> Option<OrderStatus> {
        self.order_state().status()
    }

    /// The kinds of the order's facts, in order.
    pub fn order_kinds(&self) -> Vec<&'static str> {
        self.order.iter().map(OrderEvent::kind).collect()
    }

    /// The kinds of the payment's facts, in order.
    pub fn payment_kinds(&self) -> Vec<&'static str> {
        self.payment.iter().map(PaymentEvent::kind).collect()
    }

    /// How many facts of this kind the order and its payment hold together.
    pub fn count(&self, kind: &str) -> usize {
        self.order_kinds()
            .into_iter()
            .chain(self.payment_kinds())
            .filter(|k| *k == kind)
            .count()
    }
}

/// Waits until the order's status satisfies `done` (checked on the stream), at most `limit`;
/// returns the log then. Panics with the log when it never does.
pub async fn wait_for_order(
    store: &EventStore,
    order: OrderId,
    limit: Duration,
    done: impl Fn(OrderStatus) -> bool,
) -> OrderLog {
    let found = crate::eventually(limit, || async {
        let log = OrderLog::read(store, order).await;
        log.status().is_some_and(&done).then_some(log)
    })
    .await;
    match found {
        Some(log) => log,
        None => {
            let log = OrderLog::read(store, order).await;
            panic!(
                "order {order} did not get there within {limit:?}: order {:?}, payment {:?}",
                log.order_kinds(),
                log.payment_kinds()
            )
        }
    }
}

/// Parses an order id from an answer.
pub fn order_id(text: &str) -> OrderId {
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not an order id"))
}
