//! The payment's decider: one charge outcome (maybe announced as pending first), then refunds
//! within what was captured.
//!
//! Every command is safe to retry: recording the same outcome again, or repeating a refund under
//! the same idempotency key, decides nothing (`Ok(vec![])`), forever.

use super::{
    ChargeOutcome, IssuedRefund, Payment, PaymentCommand, PaymentError, PaymentEvent, PaymentState,
};
use crate::ids::{IdempotencyKey, OrderId};
use crate::money::Currency;
use crate::Timestamp;

/// Decide what `command` means for the payment in `state`. `now` is part of every decider's
/// signature; the payment's rules do not depend on it.
pub fn decide(
    state: &PaymentState,
    command: &PaymentCommand,
    _now: Timestamp,
) -> Result<Vec<PaymentEvent>, PaymentError> {
    let decided = match command {
        PaymentCommand::RecordCharge {
            order_id,
            amount_minor,
            currency,
            outcome,
        } => record_charge(state, *order_id, *amount_minor, *currency, outcome)?,
        PaymentCommand::Refund {
            idempotency_key,
            amount_minor,
            reason,
        } => refund(state, idempotency_key, *amount_minor, reason)?,
        PaymentCommand::RecordRefundSent {
            idempotency_key,
            gateway_ref,
        } => refund_sent(state, idempotency_key, gateway_ref)?,
    };
    Ok(decided.into_iter().collect())
}

/// Fold one fact into the state. Facts that make no sense in the current state (which `decide`
/// never produces) leave it unchanged, so replaying a log never panics.
pub fn evolve(mut state: PaymentState, event: &PaymentEvent) -> PaymentState {
    match event {
        PaymentEvent::ChargePending {
            order_id,
            amount_minor,
            currency,
            gateway_ref,
        } => {
            let outcome = ChargeOutcome::Pending {
                gateway_ref: gateway_ref.clone(),
            };
            state
                .payment
                .get_or_insert_with(|| charged(*order_id, *amount_minor, *currency, outcome));
        }
        PaymentEvent::ChargeCaptured {
            order_id,
            amount_minor,
            currency,
            gateway_ref,
        } => {
            let outcome = ChargeOutcome::Captured {
                gateway_ref: gateway_ref.clone(),
            };
            settle(&mut state, *order_id, *amount_minor, *currency, outcome);
        }
        PaymentEvent::ChargeDeclined {
            order_id,
            amount_minor,
            currency,
            reason,
        } => {
            let outcome = ChargeOutcome::Declined {
                reason: reason.clone(),
            };
            settle(&mut state, *order_id, *amount_minor, *currency, outcome);
        }
        PaymentEvent::RefundIssued {
            idempotency_key,
            amount_minor,
            reason,
            ..
        } => match &mut state.payment {
            // A refund of nothing captured, or one already applied, makes no sense here.
            Some(payment)
                if payment.captured_minor() > 0 && payment.refund(idempotency_key).is_none() =>
            {
                payment.refunded_minor += amount_minor;
                payment.refunds.push(IssuedRefund {
                    idempotency_key: idempotency_key.clone(),
                    amount_minor: *amount_minor,
                    reason: reason.clone(),
                    gateway_ref: None,
                });
            }
            _ => {}
        },
        PaymentEvent::RefundSent {
            idempotency_key,
            gateway_ref,
            ..
        } => {
            let refund = state.payment.as_mut().and_then(|payment| {
                payment
                    .refunds
                    .iter_mut()
                    .find(|r| &r.idempotency_key == idempotency_key)
            });
            if let Some(refund) = refund {
                refund
                    .gateway_ref
                    .get_or_insert_with(|| gateway_ref.clone());
            }
        }
    }
    state
}

/// A capture or decline: the payment's outcome, unless one was settled before.
fn settle(
    state: &mut PaymentState,
    order_id: OrderId,
    amount_minor: i64,
    currency: Currency,
    outcome: ChargeOutcome,
) {
    match &mut state.payment {
        None => state.payment = Some(charged(order_id, amount_minor, currency, outcome)),
        Some(payment) if payment.pending_ref().is_some() => payment.outcome = outcome,
        Some(_) => {}
    }
}

fn charged(
    order_id: OrderId,
    amount_minor: i64,
    currency: Currency,
    outcome: ChargeOutcome,
) -> Payment {
    Payment {
        order_id,
        amount_minor,
        currency,
        outcome,
        refunds: Vec::new(),
        refunded_minor: 0,
    }
}

/// The first settled outcome is the payment's; the same outcome again is a retry, any other is
/// refused. A pending answer may come before it: the capture that follows must name the same
/// gateway reference (one intent per order), and a pending answer after the outcome is stale news
/// that decides nothing.
fn record_charge(
    state: &PaymentState,
    order_id: OrderId,
    amount_minor: i64,
    currency: Currency,
    outcome: &ChargeOutcome,
) -> Result<Option<PaymentEvent>, PaymentError> {
    if let Some(payment) = &state.payment {
        let same_charge = payment.order_id == order_id
            && payment.amount_minor == amount_minor
            && payment.currency == currency;
        return match (&payment.outcome, outcome) {
            _ if same_charge && &payment.outcome == outcome => Ok(None),
            (
                ChargeOutcome::Pending {
                    gateway_ref: pending,
                },
                settled,
            ) if same_charge => match settled {
                ChargeOutcome::Captured { gateway_ref } if gateway_ref != pending => {
                    Err(PaymentError::AlreadyPending {
                        gateway_ref: pending.clone(),
                    })
                }
                ChargeOutcome::Pending { .. } => Err(PaymentError::AlreadyPending {
                    gateway_ref: pending.clone(),
                }),
                _ => Ok(Some(fact(order_id, amount_minor, currency, outcome))),
            },
            (ChargeOutcome::Pending { gateway_ref }, _) => Err(PaymentError::AlreadyPending {
                gateway_ref: gateway_ref.clone(),
            }),
            (
                ChargeOutcome::Captured { gateway_ref },
                ChargeOutcome::Pending { gateway_ref: late },
            ) if same_charge && late == gateway_ref => Ok(None),
            (ChargeOutcome::Declined { .. }, ChargeOutcome::Pending { .. }) if same_charge => {
                Ok(None)
            }
            (ChargeOutcome::Captured { gateway_ref }, _) => Err(PaymentError::AlreadyCaptured {
                gateway_ref: gateway_ref.clone(),
            }),
            (ChargeOutcome::Declined { .. }, _) => Err(PaymentError::AlreadyDeclined),
        };
    }
    if amount_minor < 0 {
        return Err(PaymentError::InvalidAmount);
    }
    Ok(Some(fact(order_id, amount_minor, currency, outcome)))
}

/// The fact that records `outcome`.
fn fact(
    order_id: OrderId,
    amount_minor: i64,
    currency: Currency,
    outcome: &ChargeOutcome,
) -> PaymentEvent {
    match outcome {
        ChargeOutcome::Captured { gateway_ref } => PaymentEvent::ChargeCaptured {
            order_id,
            amount_minor,
            currency,
            gateway_ref: gateway_ref.clone(),
        },
        ChargeOutcome::Declined { reason } => PaymentEvent::ChargeDeclined {
            order_id,
            amount_minor,
            currency,
            reason: reason.clone(),
        },
        ChargeOutcome::Pending { gateway_ref } => PaymentEvent::ChargePending {
            order_id,
            amount_minor,
            currency,
            gateway_ref: gateway_ref.clone(),
        },
    }
}

/// The gateway accepted a decided refund under this reference: recorded once.
fn refund_sent(
    state: &PaymentState,
    key: &IdempotencyKey,
    gateway_ref: &str,
) -> Result<Option<PaymentEvent>, PaymentError> {
    let payment = state.payment.as_ref().ok_or(PaymentError::UnknownRefund)?;
    let refund = payment.refund(key).ok_or(PaymentError::UnknownRefund)?;
    match &refund.gateway_ref {
        Some(sent) if sent == gateway_ref => Ok(None),
        Some(_) => Err(PaymentError::IdempotencyKeyReused),
        None => Ok(Some(PaymentEvent::RefundSent {
            order_id: payment.order_id,
            idempotency_key: key.clone(),
            gateway_ref: gateway_ref.to_owned(),
        })),
    }
}

/// A refund of a captured payment, within what is left of the capture.
fn refund(
    state: &PaymentState,
    key: &IdempotencyKey,
    amount_minor: i64,
    reason: &str,
) -> Result<Option<PaymentEvent>, PaymentError> {
    let payment = match &state.payment {
        Some(payment) if payment.captured_minor() > 0 => payment,
        _ => return Err(PaymentError::NotCaptured),
    };
    if let Some(issued) = payment.refund(key) {
        return match issued.amount_minor == amount_minor && issued.reason == reason {
            true => Ok(None),
            false => Err(PaymentError::IdempotencyKeyReused),
        };
    }
    if amount_minor <= 0 {
        return Err(PaymentError::InvalidAmount);
    }
    if amount_minor > payment.refundable_minor() {
        return Err(PaymentError::RefundExceedsCapture {
            captured_minor: payment.captured_minor(),
            refunded_minor: payment.refunded_minor,
            requested_minor: amount_minor,
        });
    }
    Ok(Some(PaymentEvent::RefundIssued {
        order_id: payment.order_id,
        idempotency_key: key.clone(),
        amount_minor,
        currency: payment.currency,
        reason: reason.to_owned(),
    }))
}
