//! Stories of an order, one file per rule, a story of a whole purchase across the inventory, the
//! order and its payment, and property tests over random orders.
//!
//! The fixture order (see `place`): alice orders seats of the stalls at 45.00 EUR each
//! (90.00 in all) at `T0`, paying with the payment the gateway prepared for it (`GATEWAY_REF`);
//! her hold, and so the order, expires at `T0 + 600 s`.

mod cancel;
mod cancel_for_event;
mod check_in;
mod confirm;
mod expire;
mod fulfilment;
mod legacy_token;
mod payment;
mod place;
mod properties;
mod refund;
mod tickets;

use crate::ids::{CustomerId, EventId, HoldId, IdempotencyKey, OrderId, PaymentId, SectionId};
use crate::ordering::{OrderCommand, OrderEvent, Preparation, ScannerKey, Ticket, TicketKey};
use crate::test_support::{given, Given, Ordering};
use crate::Timestamp;
use time::macros::datetime;
use time::Duration;
use uuid::Uuid;

/// When the order is placed; fixture times are seconds after it.
pub(super) const T0: Timestamp = datetime!(2030-06-01 18:00 UTC);
/// The order's deadline, in seconds after `T0`.
pub(super) const DEADLINE: i64 = 600;
pub(super) const UNIT: i64 = 4_500;
pub(super) const TOTAL: i64 = 9_000;
/// The gateway's reference of the payment prepared for the fixture order.
pub(super) const GATEWAY_REF: &str = "pi_fixture_1";

pub(super) fn at(seconds: i64) -> Timestamp {
    T0 + Duration::seconds(seconds)
}

pub(super) fn alice() -> CustomerId {
    CustomerId::parse("alice").unwrap()
}
pub(super) fn bob() -> CustomerId {
    CustomerId::parse("bob").unwrap()
}

pub(super) fn event_id() -> EventId {
    EventId::from_uuid(Uuid::from_u128(0xe1))
}

pub(super) fn hold_id() -> HoldId {
    HoldId::derive(event_id(), &alice(), &IdempotencyKey::parse("h").unwrap())
}

pub(super) fn order_id() -> OrderId {
    OrderId::derive(&alice(), &IdempotencyKey::parse("o").unwrap())
}

pub(super) fn payment_id() -> PaymentId {
    PaymentId::for_order(order_id())
}

pub(super) fn stalls() -> SectionId {
    SectionId::parse("stalls").unwrap()
}

pub(super) fn place() -> OrderCommand {
    OrderCommand::Place {
        order_id: order_id(),
        customer_id: alice(),
        hold_id: hold_id(),
        event_id: event_id(),
        section_id: stalls(),
        seats: vec!["A-1".parse().unwrap(), "A-2".parse().unwrap()],
        quantity: 2,
        unit_price_minor: UNIT,
        currency: "EUR".parse().unwrap(),
        payment: Preparation::Prepared {
            gateway_ref: GATEWAY_REF.into(),
        },
        expires_at: at(DEADLINE),
    }
}

pub(super) fn placed() -> OrderEvent {
    OrderEvent::OrderPlaced {
        order_id: order_id(),
        customer_id: alice(),
        hold_id: hold_id(),
        event_id: event_id(),
        section_id: stalls(),
        seats: vec!["A-1".parse().unwrap(), "A-2".parse().unwrap()],
        quantity: 2,
        unit_price_minor: UNIT,
        total_minor: TOTAL,
        currency: "EUR".parse().unwrap(),
        payment_ref: Some(GATEWAY_REF.into()),
        payment_token: None,
        expires_at: at(DEADLINE),
    }
}

pub(super) fn capture() -> OrderCommand {
    OrderCommand::RecordPaymentCaptured {
        payment_id: payment_id(),
        amount_minor: TOTAL,
    }
}

pub(super) fn captured() -> OrderEvent {
    OrderEvent::PaymentCaptured {
        payment_id: payment_id(),
        amount_minor: TOTAL,
    }
}

pub(super) fn decline() -> OrderCommand {
    OrderCommand::RecordPaymentDeclined {
        reason: "card declined".into(),
    }
}

pub(super) fn failed() -> OrderEvent {
    OrderEvent::PaymentFailed {
        reason: "card declined".into(),
    }
}

/// The server's ticket key in these stories.
pub(super) fn ticket_key() -> TicketKey {
    TicketKey::new(b"ticket-key-of-the-order-stories-0123456789")
}

pub(super) fn tickets() -> Vec<Ticket> {
    ticket_key().tickets_for(
        event_id(),
        order_id(),
        &stalls(),
        &["A-1".parse().unwrap(), "A-2".parse().unwrap()],
        2,
    )
}

pub(super) fn confirm() -> OrderCommand {
    OrderCommand::Confirm { tickets: tickets() }
}

pub(super) fn confirmed() -> OrderEvent {
    OrderEvent::OrderConfirmed { tickets: tickets() }
}

pub(super) fn expired(refund_due: bool) -> OrderEvent {
    OrderEvent::OrderExpired { refund_due }
}

pub(super) fn cancel(by: &CustomerId) -> OrderCommand {
    OrderCommand::Cancel {
        customer_id: by.clone(),
    }
}

pub(super) fn cancelled(refund_due: bool) -> OrderEvent {
    OrderEvent::OrderCancelled {
        refund_due,
        event_cancelled: false,
    }
}

pub(super) fn cancelled_with_event(refund_due: bool) -> OrderEvent {
    OrderEvent::OrderCancelled {
        refund_due,
        event_cancelled: true,
    }
}

pub(super) fn record_refund(amount_minor: i64) -> OrderCommand {
    OrderCommand::RecordRefunded { amount_minor }
}

pub(super) fn refunded(amount_minor: i64) -> OrderEvent {
    OrderEvent::OrderRefunded { amount_minor }
}

/// A story on the fixture order, after `OrderPlaced` and these facts.
pub(super) fn placed_then(events: impl IntoIterator<Item = OrderEvent>) -> Given<Ordering> {
    given::<Ordering>(std::iter::once(placed()).chain(events))
}
