//! What a payment remembers: the charge and its outcome, and every refund decided. Built only by
//! folding `PaymentEvent`s (see `evolve` in `decide.rs`).

use super::ChargeOutcome;
use crate::ids::{IdempotencyKey, OrderId};
use crate::money::Currency;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a payment is: pending at the gateway, declined, or captured and then maybe refunded in
/// part or in full.
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentStatus {
    Pending,
    Captured,
    PartiallyRefunded,
    Refunded,
    Declined,
}

impl PaymentStatus {
    /// The stable name used in logs and read models.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Captured => "captured",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Declined => "declined",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refund decided on a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRefund {
    pub idempotency_key: IdempotencyKey,
    pub amount_minor: i64,
    pub reason: String,
    /// The gateway's id of the refund, once it was sent and accepted.
    pub gateway_ref: Option<String>,
}

/// A charged payment, as its facts left it. Read it through [`PaymentState::payment`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Payment {
    pub order_id: OrderId,
    pub amount_minor: i64,
    pub currency: Currency,
    pub outcome: ChargeOutcome,
    /// In the order they were decided.
    pub refunds: Vec<IssuedRefund>,
    pub refunded_minor: i64,
}

impl Payment {
    pub fn status(&self) -> PaymentStatus {
        match (&self.outcome, self.refunded_minor) {
            (ChargeOutcome::Pending { .. }, _) => PaymentStatus::Pending,
            (ChargeOutcome::Declined { .. }, _) => PaymentStatus::Declined,
            (ChargeOutcome::Captured { .. }, 0) => PaymentStatus::Captured,
            (ChargeOutcome::Captured { .. }, r) if r < self.amount_minor => {
                PaymentStatus::PartiallyRefunded
            }
            (ChargeOutcome::Captured { .. }, _) => PaymentStatus::Refunded,
        }
    }

    /// The money taken; 0 for a declined or still pending charge.
    pub fn captured_minor(&self) -> i64 {
        match self.outcome {
            ChargeOutcome::Captured { .. } => self.amount_minor,
            ChargeOutcome::Declined { .. } | ChargeOutcome::Pending { .. } => 0,
        }
    }

    /// The gateway's id of a charge it has not settled yet.
    pub fn pending_ref(&self) -> Option<&str> {
        match &self.outcome {
            ChargeOutcome::Pending { gateway_ref } => Some(gateway_ref),
            _ => None,
        }
    }

    /// What may still be refunded.
    pub fn refundable_minor(&self) -> i64 {
        (self.captured_minor() - self.refunded_minor).max(0)
    }

    pub fn refund(&self, key: &IdempotencyKey) -> Option<&IssuedRefund> {
        self.refunds.iter().find(|r| &r.idempotency_key == key)
    }
}

/// The payment aggregate of one payment id. `Default` is the state before its charge is recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaymentState {
    pub(super) payment: Option<Payment>,
}

impl PaymentState {
    /// True once the charge's outcome (or that it is pending) has been recorded.
    pub fn exists(&self) -> bool {
        self.payment.is_some()
    }

    pub fn payment(&self) -> Option<&Payment> {
        self.payment.as_ref()
    }

    pub fn status(&self) -> Option<PaymentStatus> {
        self.payment.as_ref().map(Payment::status)
    }

    /// What may still be refunded; 0 before a capture.
    pub fn refundable_minor(&self) -> i64 {
        self.payment.as_ref().map_or(0, Payment::refundable_minor)
    }
}
