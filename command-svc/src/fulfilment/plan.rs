//! What the fulfilment process manager does next for an order: a pure function of the order, its
//! payment, the clock, and whether the gateway was already asked about a charge in this round.
//!
//! The plan reads only what is stored, so it is the same after a crash, a redelivery or on another
//! instance: a step already taken shows in the order or its payment, and the plan moves past it.
//! The two steps that leave no trace on either (giving a hold back, returning sold seats) are
//! final: they are taken, idempotently, each time the order is looked at in that state.

use domain::ordering::{Order, OrderStatus};
use domain::payments::{ChargeOutcome, Payment};
use domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Pending and within its deadline: charge it (the order id is the gateway's key).
    Charge,
    /// Unpaid past its deadline, or ended unpaid: ask the gateway whether a charge was taken that
    /// nobody recorded (a crash between the gateway's answer and the payment's append).
    LookUpCharge,
    /// The gateway answered the charge `Pending`: ask it where the charge stands, by its
    /// reference (never charge again). The gateway's webhook may settle it first.
    AwaitCharge { gateway_ref: String },
    /// The payment recorded a capture the order has not.
    RecordCapture { amount_minor: i64 },
    /// The payment recorded a decline the pending order has not.
    RecordDecline { reason: String },
    /// Paid: sell the hold's seats to the order, then confirm it with its tickets (or, when the
    /// seats are gone, expire it: a refund is then due).
    Sell,
    /// Unpaid past its deadline, and no charge at the gateway.
    Expire,
    /// Final: the order will not pay (declined, or cancelled unpaid): give its hold back.
    AbandonHold,
    /// Final: a confirmed order was cancelled: its seats go back on sale.
    ReturnSeats,
    /// Money is owed back: refund it (returning the seats first if a confirmed order was
    /// cancelled).
    Refund { return_seats: bool },
    /// Nothing left to do.
    Done,
}

impl Step {
    /// Final steps leave no trace on the order: the round ends after them.
    pub(super) fn is_final(&self) -> bool {
        matches!(self, Step::AbandonHold | Step::ReturnSeats | Step::Done)
    }
}

/// The next step for `order`, whose payment (if any outcome is recorded) is `payment`.
pub(super) fn next_step(
    order: &Order,
    payment: Option<&Payment>,
    now: Timestamp,
    looked_up: bool,
) -> Step {
    use OrderStatus::*;
    if let Some(payment) = payment {
        match &payment.outcome {
            ChargeOutcome::Captured { .. } if order.payment.is_none() => {
                return Step::RecordCapture {
                    amount_minor: payment.amount_minor,
                }
            }
            ChargeOutcome::Declined { reason } if order.status == PendingPayment => {
                return Step::RecordDecline {
                    reason: reason.clone(),
                }
            }
            // Past the deadline too: the charge was sent within it, and a late capture is sold
            // if the seats are still free, else refunded.
            ChargeOutcome::Pending { gateway_ref } if order.status == PendingPayment => {
                return Step::AwaitCharge {
                    gateway_ref: gateway_ref.clone(),
                }
            }
            _ => {}
        }
    }
    let unpaid = payment.is_none() && order.payment.is_none();
    let was_confirmed = order.ended_as == Some(Cancelled) && !order.tickets.is_empty();
    match order.status {
        // An outcome is recorded: the arms above carried it over already.
        PendingPayment if !unpaid => Step::Done,
        PendingPayment if now < order.expires_at => Step::Charge,
        PendingPayment if !looked_up => Step::LookUpCharge,
        PendingPayment => Step::Expire,
        Paid => Step::Sell,
        PaymentFailed => Step::AbandonHold,
        Expired | Cancelled if order.refund_due_minor() > 0 => Step::Refund {
            return_seats: was_confirmed,
        },
        Expired | Cancelled if unpaid && !looked_up => Step::LookUpCharge,
        Cancelled if was_confirmed => Step::ReturnSeats,
        Cancelled => Step::AbandonHold,
        // Refunded after a cancellation: the seats or the hold go back too (a charge that landed
        // after an unpaid cancellation is refunded, and its hold is still to be given back).
        Refunded if was_confirmed => Step::ReturnSeats,
        Refunded if order.ended_as == Some(Cancelled) => Step::AbandonHold,
        // Confirmed; expired unpaid (its hold expired with it); refunded after an expiry.
        _ => Step::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{CustomerId, EventId, HoldId, IdempotencyKey, OrderId, PaymentId, SectionId};
    use domain::ordering::{self, tickets_for, OrderEvent, OrderState};
    use domain::payments::{self, PaymentEvent, PaymentState};
    use time::macros::datetime;
    use time::Duration;

    const T0: Timestamp = datetime!(2030-06-01 18:00 UTC);
    const TOTAL: i64 = 9_000;

    fn order_id() -> OrderId {
        OrderId::from_uuid(uuid::Uuid::from_u128(7))
    }

    fn placed() -> OrderEvent {
        let event = EventId::from_uuid(uuid::Uuid::from_u128(1));
        let alice = CustomerId::parse("alice").unwrap();
        OrderEvent::OrderPlaced {
            order_id: order_id(),
            customer_id: alice.clone(),
            hold_id: HoldId::derive(event, &alice, &IdempotencyKey::parse("k").unwrap()),
            event_id: event,
            section_id: SectionId::parse("stalls").unwrap(),
            seats: vec!["A-1".parse().unwrap(), "A-2".parse().unwrap()],
            quantity: 2,
            unit_price_minor: TOTAL / 2,
            total_minor: TOTAL,
            currency: "EUR".parse().unwrap(),
            payment_ref: Some("pi_ok_7".into()),
            payment_token: None,
            expires_at: T0 + Duration::seconds(600),
        }
    }

    fn captured_order() -> OrderEvent {
        OrderEvent::PaymentCaptured {
            payment_id: PaymentId::for_order(order_id()),
            amount_minor: TOTAL,
        }
    }

    fn confirmed() -> OrderEvent {
        OrderEvent::OrderConfirmed {
            tickets: tickets_for(
                order_id(),
                &SectionId::parse("stalls").unwrap(),
                &["A-1".parse().unwrap(), "A-2".parse().unwrap()],
                2,
            ),
        }
    }

    fn order(events: &[OrderEvent]) -> OrderState {
        events.iter().fold(OrderState::default(), ordering::evolve)
    }

    fn captured() -> PaymentState {
        payments::evolve(
            PaymentState::default(),
            &PaymentEvent::ChargeCaptured {
                order_id: order_id(),
                amount_minor: TOTAL,
                currency: "EUR".parse().unwrap(),
                gateway_ref: "ch_1".into(),
            },
        )
    }

    fn declined() -> PaymentState {
        payments::evolve(
            PaymentState::default(),
            &PaymentEvent::ChargeDeclined {
                order_id: order_id(),
                amount_minor: TOTAL,
                currency: "EUR".parse().unwrap(),
                reason: "card_declined".into(),
            },
        )
    }

    fn step(events: &[OrderEvent], payment: &PaymentState, now: i64, looked_up: bool) -> Step {
        let state = order(events);
        next_step(
            state.order().unwrap(),
            payment.payment(),
            T0 + Duration::seconds(now),
            looked_up,
        )
    }

    #[test]
    fn a_pending_order_is_charged_within_its_deadline_then_looked_up_then_expired() {
        let none = PaymentState::default();
        assert_eq!(step(&[placed()], &none, 10, false), Step::Charge);
        assert_eq!(step(&[placed()], &none, 600, false), Step::LookUpCharge);
        assert_eq!(step(&[placed()], &none, 600, true), Step::Expire);
    }

    #[test]
    fn an_outcome_on_the_payment_is_carried_to_the_order() {
        assert_eq!(
            step(&[placed()], &captured(), 10, false),
            Step::RecordCapture {
                amount_minor: TOTAL
            }
        );
        assert_eq!(
            step(&[placed()], &declined(), 10, false),
            Step::RecordDecline {
                reason: "card_declined".into()
            }
        );
        // A capture that came after the order was cancelled is recorded too: it is owed back.
        let cancelled = OrderEvent::OrderCancelled {
            refund_due: false,
            event_cancelled: false,
        };
        assert_eq!(
            step(&[placed(), cancelled], &captured(), 10, false),
            Step::RecordCapture {
                amount_minor: TOTAL
            }
        );
    }

    fn pending() -> PaymentState {
        payments::evolve(
            PaymentState::default(),
            &PaymentEvent::ChargePending {
                order_id: order_id(),
                amount_minor: TOTAL,
                currency: "EUR".parse().unwrap(),
                gateway_ref: "pi_1".into(),
            },
        )
    }

    #[test]
    fn a_pending_charge_is_awaited_by_its_reference_never_charged_again() {
        let awaited = Step::AwaitCharge {
            gateway_ref: "pi_1".into(),
        };
        assert_eq!(step(&[placed()], &pending(), 10, false), awaited);
        // Past the deadline as well: the charge was sent in time.
        assert_eq!(step(&[placed()], &pending(), 700, false), awaited);
        // Cancelled meanwhile: the hold goes back; a capture that follows is recorded and
        // refunded like any late capture.
        let cancelled = OrderEvent::OrderCancelled {
            refund_due: false,
            event_cancelled: false,
        };
        assert_eq!(
            step(&[placed(), cancelled], &pending(), 10, false),
            Step::AbandonHold
        );
    }

    #[test]
    fn a_paid_order_is_sold_and_a_confirmed_one_is_done() {
        assert_eq!(
            step(&[placed(), captured_order()], &captured(), 10, false),
            Step::Sell
        );
        assert_eq!(
            step(
                &[placed(), captured_order(), confirmed()],
                &captured(),
                10,
                false
            ),
            Step::Done
        );
    }

    #[test]
    fn a_failed_or_cancelled_unpaid_order_gives_its_hold_back() {
        let failed = OrderEvent::PaymentFailed {
            reason: "card_declined".into(),
        };
        assert_eq!(
            step(&[placed(), failed], &declined(), 10, false),
            Step::AbandonHold
        );
        let cancelled = OrderEvent::OrderCancelled {
            refund_due: false,
            event_cancelled: false,
        };
        let none = PaymentState::default();
        assert_eq!(
            step(&[placed(), cancelled.clone()], &none, 10, false),
            Step::LookUpCharge
        );
        assert_eq!(
            step(&[placed(), cancelled], &none, 10, true),
            Step::AbandonHold
        );
    }

    #[test]
    fn money_owed_back_is_refunded_and_a_cancelled_confirmation_returns_its_seats() {
        let lost = OrderEvent::OrderExpired { refund_due: true };
        assert_eq!(
            step(&[placed(), captured_order(), lost], &captured(), 10, false),
            Step::Refund {
                return_seats: false
            }
        );
        let cancelled = OrderEvent::OrderCancelled {
            refund_due: true,
            event_cancelled: false,
        };
        let history = [placed(), captured_order(), confirmed(), cancelled];
        assert_eq!(
            step(&history, &captured(), 10, false),
            Step::Refund { return_seats: true }
        );
        let mut refunded = history.to_vec();
        refunded.push(OrderEvent::OrderRefunded {
            amount_minor: TOTAL,
        });
        assert_eq!(step(&refunded, &captured(), 10, false), Step::ReturnSeats);
    }

    #[test]
    fn a_late_capture_of_a_cancelled_order_is_refunded_and_its_hold_given_back() {
        let history = [
            placed(),
            OrderEvent::OrderCancelled {
                refund_due: false,
                event_cancelled: false,
            },
            captured_order(),
        ];
        assert_eq!(
            step(&history, &captured(), 10, false),
            Step::Refund {
                return_seats: false
            }
        );
        let mut refunded = history.to_vec();
        refunded.push(OrderEvent::OrderRefunded {
            amount_minor: TOTAL,
        });
        assert_eq!(step(&refunded, &captured(), 10, false), Step::AbandonHold);
        // Refunded after losing its seats: nothing left to give back.
        let lost = [
            placed(),
            captured_order(),
            OrderEvent::OrderExpired { refund_due: true },
            OrderEvent::OrderRefunded {
                amount_minor: TOTAL,
            },
        ];
        assert_eq!(step(&lost, &captured(), 10, false), Step::Done);
    }

    #[test]
    fn an_order_that_expired_unpaid_is_done_once_the_gateway_was_asked() {
        let expired = OrderEvent::OrderExpired { refund_due: false };
        let none = PaymentState::default();
        assert_eq!(
            step(&[placed(), expired.clone()], &none, 700, false),
            Step::LookUpCharge
        );
        assert_eq!(step(&[placed(), expired], &none, 700, true), Step::Done);
    }
}
