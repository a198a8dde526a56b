//! Property tests: random runs of one payment (charges recorded as pending or with any outcome,
//! refunds of any
//! amount under a few keys, repeats) keep every promise of a payment after every step.
//! Expectations are read from the log, not from the state.

use super::*;
use crate::payments::{decide, evolve, PaymentState, PaymentStatus};
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Debug, Clone)]
enum Op {
    Charge { captured: bool, gateway_ref: u8 },
    Pending { gateway_ref: u8 },
    Refund { key: u8, amount: i64 },
    Repeat(Index),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (prop::bool::weighted(0.8), 0..2u8)
            .prop_map(|(captured, gateway_ref)| Op::Charge { captured, gateway_ref }),
        1 => (0..2u8).prop_map(|gateway_ref| Op::Pending { gateway_ref }),
        5 => (0..4u8, prop_oneof![-10..0i64, 1..=TOTAL, Just(TOTAL), TOTAL..TOTAL + 10])
            .prop_map(|(key, amount)| Op::Refund { key, amount }),
        2 => any::<Index>().prop_map(Op::Repeat),
    ]
}

/// The moves a payment may make, from one status to another.
fn allowed(from: Option<PaymentStatus>, to: Option<PaymentStatus>) -> bool {
    use PaymentStatus::*;
    from == to
        || matches!(
            (from, to),
            (None, Some(Pending | Captured | Declined))
                | (Some(Pending), Some(Captured | Declined))
                | (Some(Captured), Some(PartiallyRefunded | Refunded))
                | (Some(PartiallyRefunded), Some(Refunded))
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_step_of_a_random_payment_keeps_every_promise(
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut state = PaymentState::default();
        let mut log: Vec<PaymentEvent> = Vec::new();
        let mut sent: Vec<PaymentCommand> = Vec::new();
        let mut accepted: Vec<PaymentCommand> = Vec::new();
        for op in &ops {
            let command = match op {
                Op::Charge { captured: true, gateway_ref } => {
                    charge(captured_by(&format!("ch_{gateway_ref}")))
                }
                Op::Charge { captured: false, .. } => charge(declined_for("insufficient funds")),
                Op::Pending { gateway_ref } => charge(ChargeOutcome::Pending {
                    gateway_ref: format!("ch_{gateway_ref}"),
                }),
                Op::Refund { key, amount } => refund(&format!("r{key}"), *amount),
                Op::Repeat(index) if !sent.is_empty() => sent[index.index(sent.len())].clone(),
                Op::Repeat(_) => continue,
            };
            sent.push(command.clone());
            let before = state.status();
            if let Ok(events) = decide(&state, &command, NOW) {
                if !events.is_empty() {
                    accepted.push(command.clone());
                }
                state = events.iter().fold(state, evolve);
                log.extend(events);
            }
            let after = state.status();
            prop_assert!(allowed(before, after), "{before:?} -> {after:?} by {command:?}");

            // At most one pending answer, before the one charge outcome, which names the pending
            // reference; refunds only after a capture and never beyond it.
            let mut pending: Option<&str> = None;
            let mut outcomes = 0;
            let mut captured = 0;
            let mut refunded = 0;
            for event in &log {
                match event {
                    PaymentEvent::ChargePending { gateway_ref, .. } => {
                        prop_assert!(pending.is_none() && outcomes == 0, "late pending: {log:?}");
                        pending = Some(gateway_ref);
                    }
                    PaymentEvent::ChargeCaptured { amount_minor, gateway_ref, .. } => {
                        prop_assert!(pending.is_none_or(|p| p == gateway_ref), "{log:?}");
                        outcomes += 1;
                        captured += amount_minor;
                    }
                    PaymentEvent::ChargeDeclined { .. } => outcomes += 1,
                    PaymentEvent::RefundIssued { amount_minor, .. } => {
                        prop_assert!(*amount_minor > 0);
                        refunded += amount_minor;
                        prop_assert!(refunded <= captured, "refunded beyond the capture");
                    }
                    PaymentEvent::RefundSent { .. } => {}
                }
            }
            prop_assert!(outcomes <= 1, "two charge outcomes: {log:?}");
            prop_assert_eq!(state.refundable_minor(), captured - refunded);

            // Folding the log from nothing gives the same state.
            let folded = log.iter().fold(PaymentState::default(), evolve);
            prop_assert_eq!(&folded, &state);

            // Every command that decided something decides nothing when repeated.
            for command in &accepted {
                prop_assert_eq!(decide(&state, command, NOW), Ok(vec![]), "repeat of {:?}", command);
            }
        }
    }
}
