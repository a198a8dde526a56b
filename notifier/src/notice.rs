//! Which facts become notices, and what a notice says.
//!
//! A notice needs more than its fact (`OrderConfirmed` carries the tickets, not the customer): it
//! is built from the fact and the order as its facts leave it, folded with the domain's `evolve`
//! from the stream.

use domain::ids::OrderId;
use domain::ordering::{Order, OrderEvent};
use serde_json::json;
use std::fmt;

/// What a customer is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// The order is confirmed: here are the tickets.
    OrderConfirmed,
    /// The payment was declined: nothing was taken, the seats are back on sale.
    PaymentFailed,
    /// The order ran out (unpaid in time, or its seats were lost); a refund follows if money was
    /// taken.
    OrderExpired,
    /// The money went back.
    OrderRefunded,
    /// Seats of a sold-out section came back and are held for a waiting-list entry's customer.
    WaitlistOffer,
    /// A waiting-list offer ran out unclaimed: the seats went to the next entry.
    WaitlistOfferExpired,
    /// The organiser cancelled the event: the order is cancelled, a refund follows if money was
    /// taken.
    EventCancelled,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderConfirmed => "order_confirmed",
            Self::PaymentFailed => "payment_failed",
            Self::OrderExpired => "order_expired",
            Self::OrderRefunded => "order_refunded",
            Self::WaitlistOffer => "waitlist_offer",
            Self::WaitlistOfferExpired => "waitlist_offer_expired",
            Self::EventCancelled => "event_cancelled",
        }
    }

    /// Every kind, for reading one back from the outbox.
    pub const ALL: [NoticeKind; 7] = [
        Self::OrderConfirmed,
        Self::PaymentFailed,
        Self::OrderExpired,
        Self::OrderRefunded,
        Self::WaitlistOffer,
        Self::WaitlistOfferExpired,
        Self::EventCancelled,
    ];

    /// The kind named `name` ([`NoticeKind::as_str`]).
    pub fn parse(name: &str) -> Option<NoticeKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One notice for one fact.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// `<order id>:<kind>` (`<waitlist id>:<kind>` for the waiting list): each kind happens at
    /// most once per order (or entry), so the id names the fact.
    pub id: String,
    /// The order it is about; none for the waiting list.
    pub order_id: Option<OrderId>,
    pub customer_id: String,
    pub kind: NoticeKind,
    pub body: serde_json::Value,
    /// The stream the fact is on: `orders` or `inventory`.
    pub stream: &'static str,
    /// The commit the fact is in, on that stream.
    pub stream_sequence: u64,
}

/// The notices of `facts` (one commit of `order`, stored at `stream_sequence`); `order` is the
/// order as its facts leave it (at least up to this commit).
pub fn notices_of(order: &Order, facts: &[OrderEvent], stream_sequence: u64) -> Vec<Notification> {
    facts
        .iter()
        .filter_map(|fact| {
            let (kind, body) = match fact {
                OrderEvent::OrderConfirmed { tickets } => (
                    NoticeKind::OrderConfirmed,
                    json!({
                        "event_id": order.event_id,
                        "tickets": tickets.iter().map(|t| json!({
                            "code": t.code,
                            "section_id": t.section_id,
                            "seat": t.seat.as_ref().map(ToString::to_string),
                        })).collect::<Vec<_>>(),
                        "total_minor": order.total_minor,
                        "currency": order.currency,
                    }),
                ),
                OrderEvent::PaymentFailed { reason } => {
                    (NoticeKind::PaymentFailed, json!({ "reason": reason }))
                }
                OrderEvent::OrderExpired { refund_due } => (
                    NoticeKind::OrderExpired,
                    json!({ "refund_due": refund_due }),
                ),
                OrderEvent::OrderCancelled {
                    refund_due,
                    event_cancelled: true,
                } => (
                    NoticeKind::EventCancelled,
                    json!({ "event_id": order.event_id, "refund_due": refund_due }),
                ),
                OrderEvent::OrderRefunded { amount_minor } => (
                    NoticeKind::OrderRefunded,
                    json!({ "amount_minor": amount_minor, "currency": order.currency }),
                ),
                _ => return None,
            };
            let mut body = body;
            body["order_id"] = json!(order.order_id);
            body["customer_id"] = json!(order.customer_id);
            Some(Notification {
                id: format!("{}:{}", order.order_id, kind),
                order_id: Some(order.order_id),
                customer_id: order.customer_id.to_string(),
                kind,
                body,
                stream: "orders",
                stream_sequence,
            })
        })
        .collect()
}

/// True when a commit holds a fact worth a notice (so its order is worth loading).
pub(crate) fn worth_a_notice(facts: &[OrderEvent]) -> bool {
    facts.iter().any(|fact| {
        matches!(
            fact,
            OrderEvent::OrderConfirmed { .. }
                | OrderEvent::PaymentFailed { .. }
                | OrderEvent::OrderExpired { .. }
                | OrderEvent::OrderRefunded { .. }
                | OrderEvent::OrderCancelled {
                    event_cancelled: true,
                    ..
                }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, PaymentId, SectionId};
    use domain::ordering::{evolve, tickets_for, OrderState};

    fn order_events(order_id: OrderId) -> Vec<OrderEvent> {
        let event = EventId::new_random();
        let alice = CustomerId::parse("alice").unwrap();
        vec![
            OrderEvent::OrderPlaced {
                order_id,
                customer_id: alice.clone(),
                hold_id: HoldId::derive(event, &alice, &IdempotencyKey::parse("k").unwrap()),
                event_id: event,
                section_id: SectionId::parse("floor").unwrap(),
                seats: vec![],
                quantity: 2,
                unit_price_minor: 3_500,
                total_minor: 7_000,
                currency: "EUR".parse().unwrap(),
                payment_ref: Some("pi_test_1".into()),
                payment_token: None,
                expires_at: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
            },
            OrderEvent::PaymentCaptured {
                payment_id: PaymentId::for_order(order_id),
                amount_minor: 7_000,
            },
        ]
    }

    #[test]
    fn a_confirmation_is_one_notice_with_the_tickets_and_the_customer() {
        let order_id = OrderId::new_random();
        let tickets = tickets_for(order_id, &SectionId::parse("floor").unwrap(), &[], 2);
        let mut events = order_events(order_id);
        events.push(OrderEvent::OrderConfirmed {
            tickets: tickets.clone(),
        });
        let state = events.iter().fold(OrderState::default(), evolve);
        let order = state.order().unwrap();
        // The capture is no notice; the confirmation is one.
        assert!(notices_of(order, &events[..2], 3).is_empty());
        let notices = notices_of(order, &events[2..], 4);
        assert_eq!(notices.len(), 1);
        let notice = &notices[0];
        assert_eq!(notice.id, format!("{order_id}:order_confirmed"));
        assert_eq!(notice.customer_id, "alice");
        assert_eq!(notice.stream_sequence, 4);
        assert_eq!(notice.body["tickets"][1]["code"], tickets[1].code);
        assert_eq!(notice.body["tickets"][0]["seat"], serde_json::Value::Null);
        assert_eq!(notice.body["total_minor"], 7_000);
        assert_eq!(notice.body["customer_id"], "alice");
    }

    #[test]
    fn the_same_fact_always_gives_the_same_id() {
        let order_id = OrderId::new_random();
        let mut events = order_events(order_id);
        events.push(OrderEvent::OrderExpired { refund_due: true });
        events.push(OrderEvent::OrderRefunded {
            amount_minor: 7_000,
        });
        let state = events.iter().fold(OrderState::default(), evolve);
        let order = state.order().unwrap();
        let first = notices_of(order, &events[2..], 9);
        let again = notices_of(order, &events[2..], 9);
        assert_eq!(first, again);
        let kinds: Vec<_> = first.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoticeKind::OrderExpired, NoticeKind::OrderRefunded]);
        assert!(worth_a_notice(&events[2..]));
        assert!(!worth_a_notice(&events[..2]));
    }

    #[test]
    fn an_order_cancelled_with_its_event_is_an_event_cancelled_notice() {
        let order_id = OrderId::new_random();
        let mut events = order_events(order_id);
        let by_event = OrderEvent::OrderCancelled {
            refund_due: true,
            event_cancelled: true,
        };
        let by_buyer = OrderEvent::OrderCancelled {
            refund_due: false,
            event_cancelled: false,
        };
        assert!(worth_a_notice(std::slice::from_ref(&by_event)));
        assert!(!worth_a_notice(std::slice::from_ref(&by_buyer)));
        events.push(by_event);
        let state = events.iter().fold(OrderState::default(), evolve);
        let notices = notices_of(state.order().unwrap(), &events[2..], 5);
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].kind, NoticeKind::EventCancelled);
        assert_eq!(notices[0].id, format!("{order_id}:event_cancelled"));
        assert_eq!(notices[0].body["refund_due"], true);
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
        }
    }
}
