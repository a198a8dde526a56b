//! Property tests: random runs of one order (placed, then any mix of captures, declines,
//! confirmations, expiries, cancellations, refunds and repeats, while time moves on) keep every
//! promise of an order after every step. Expectations are read from the log, not from the state.

use super::*;
use crate::ordering::{decide, evolve, OrderState, OrderStatus};
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Debug, Clone)]
enum Op {
    Advance(i64),
    /// The same `Place` again, or one with another payment token.
    Place {
        same: bool,
    },
    Capture {
        own_payment: bool,
        whole_total: bool,
    },
    Decline,
    Confirm {
        right_tickets: bool,
    },
    Expire,
    Cancel {
        by_owner: bool,
    },
    Refund {
        amount: i64,
    },
    /// Any command sent before, again.
    Repeat(Index),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..600).prop_map(Op::Advance),
        1 => prop::bool::weighted(0.8).prop_map(|same| Op::Place { same }),
        4 => (prop::bool::weighted(0.8), prop::bool::weighted(0.9))
            .prop_map(|(own_payment, whole_total)| Op::Capture { own_payment, whole_total }),
        2 => Just(Op::Decline),
        3 => prop::bool::weighted(0.9).prop_map(|right_tickets| Op::Confirm { right_tickets }),
        2 => Just(Op::Expire),
        2 => prop::bool::weighted(0.8).prop_map(|by_owner| Op::Cancel { by_owner }),
        3 => prop_oneof![Just(TOTAL), Just(TOTAL / 3), Just(TOTAL + 1), Just(0)]
            .prop_map(|amount| Op::Refund { amount }),
        3 => any::<Index>().prop_map(Op::Repeat),
    ]
}

/// The moves an order may make, from one status to another.
fn allowed(from: Option<OrderStatus>, to: Option<OrderStatus>) -> bool {
    use OrderStatus::*;
    from == to
        || matches!(
            (from, to),
            (None, Some(PendingPayment))
                | (
                    Some(PendingPayment),
                    Some(Paid | PaymentFailed | Expired | Cancelled)
                )
                | (Some(Paid), Some(Confirmed | Expired))
                | (Some(Confirmed), Some(Cancelled))
                | (Some(Expired | Cancelled), Some(Refunded))
        )
}

/// A random run of one order.
struct Run {
    state: OrderState,
    log: Vec<OrderEvent>,
    now: Timestamp,
    sent: Vec<OrderCommand>,
    /// Commands that decided something: each one repeated must decide nothing, forever.
    accepted: Vec<OrderCommand>,
}

impl Run {
    fn new() -> Self {
        Run {
            state: OrderState::default(),
            log: Vec::new(),
            now: T0,
            sent: Vec::new(),
            accepted: Vec::new(),
        }
    }

    fn command(&self, op: &Op) -> Option<OrderCommand> {
        Some(match op {
            Op::Advance(_) => return None,
            Op::Place { same: true } => place(),
            Op::Place { same: false } => match place() {
                OrderCommand::Place {
                    order_id,
                    customer_id,
                    hold_id,
                    event_id,
                    section_id,
                    seats,
                    quantity,
                    unit_price_minor,
                    currency,
                    expires_at,
                    ..
                } => OrderCommand::Place {
                    order_id,
                    customer_id,
                    hold_id,
                    event_id,
                    section_id,
                    seats,
                    quantity,
                    unit_price_minor,
                    currency,
                    payment: Preparation::Prepared {
                        gateway_ref: "pi_other".into(),
                    },
                    expires_at,
                },
                other => other,
            },
            Op::Capture {
                own_payment,
                whole_total,
            } => OrderCommand::RecordPaymentCaptured {
                payment_id: match own_payment {
                    true => payment_id(),
                    false => PaymentId::for_order(OrderId::from_uuid(Uuid::from_u128(9))),
                },
                amount_minor: if *whole_total { TOTAL } else { TOTAL - 1 },
            },
            Op::Decline => decline(),
            Op::Confirm { right_tickets } => match right_tickets {
                true => confirm(),
                false => OrderCommand::Confirm {
                    tickets: tickets()[..1].to_vec(),
                },
            },
            Op::Expire => OrderCommand::Expire,
            Op::Cancel { by_owner } => cancel(&if *by_owner { alice() } else { bob() }),
            Op::Refund { amount } => record_refund(*amount),
            Op::Repeat(index) if !self.sent.is_empty() => {
                self.sent[index.index(self.sent.len())].clone()
            }
            Op::Repeat(_) => return None,
        })
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        if let Op::Advance(seconds) = op {
            self.now += Duration::seconds(*seconds);
            return Ok(());
        }
        let Some(command) = self.command(op) else {
            return Ok(());
        };
        self.sent.push(command.clone());
        let before = self.state.status();
        if let Ok(events) = decide(&self.state, &command, self.now) {
            if !events.is_empty() {
                self.accepted.push(command.clone());
            }
            self.state = events.iter().fold(self.state.clone(), evolve);
            self.log.extend(events);
        }
        let after = self.state.status();
        prop_assert!(
            allowed(before, after),
            "{before:?} -> {after:?} by {command:?}"
        );
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let captures: Vec<i64> = self
            .log
            .iter()
            .filter_map(|e| match e {
                OrderEvent::PaymentCaptured { amount_minor, .. } => Some(*amount_minor),
                _ => None,
            })
            .collect();
        // Paid at most once, by exactly the total.
        prop_assert!(captures.len() <= 1, "paid twice: {:?}", self.log);
        prop_assert!(captures.iter().all(|&amount| amount == TOTAL));
        let captured: i64 = captures.iter().sum();

        // Refunds never exceed captures, and follow one.
        let mut captured_so_far = 0;
        let mut refunded = 0;
        let mut confirmations = 0;
        for event in &self.log {
            match event {
                OrderEvent::PaymentCaptured { amount_minor, .. } => captured_so_far += amount_minor,
                OrderEvent::OrderRefunded { amount_minor } => {
                    refunded += amount_minor;
                    prop_assert!(*amount_minor > 0);
                    prop_assert!(refunded <= captured_so_far, "refunded beyond the capture");
                }
                OrderEvent::OrderConfirmed { .. } => {
                    confirmations += 1;
                    prop_assert_eq!(captured_so_far, TOTAL, "confirmed unpaid");
                }
                _ => {}
            }
        }
        prop_assert!(confirmations <= 1);

        // What the state says agrees with the log.
        if let Some(order) = self.state.order() {
            prop_assert_eq!(order.captured_minor(), captured);
            prop_assert_eq!(order.refunded_minor, refunded);
            let owed = match order.status {
                OrderStatus::Expired | OrderStatus::Cancelled => captured - refunded,
                _ => 0,
            };
            prop_assert_eq!(self.state.refund_due_minor(), owed);
        }

        // Folding the log from nothing gives the same state.
        let folded = self.log.iter().fold(OrderState::default(), evolve);
        prop_assert_eq!(&folded, &self.state);

        // Every command that decided something decides nothing when repeated, now or later.
        for command in &self.accepted {
            prop_assert_eq!(
                decide(&self.state, command, self.now),
                Ok(vec![]),
                "repeat of {:?}",
                command
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_step_of_a_random_order_keeps_every_promise(
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut run = Run::new();
        run.step(&Op::Place { same: true })?;
        for op in &ops {
            run.step(op)?;
            run.check()?;
        }
    }
}
