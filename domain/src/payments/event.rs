//! Facts of a payment, as stored on `payments.<payment>` and read by the order reactors and
//! downstream systems. Each names its order, so a reader needs no lookup to route it.
//! Schema version 1 for every variant.

use crate::ids::{IdempotencyKey, OrderId};
use crate::money::Currency;
use serde::{Deserialize, Serialize};

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
#[non_exhaustive]
pub enum PaymentEvent {
    ChargeCaptured {
        order_id: OrderId,
        amount_minor: i64,
        currency: Currency,
        gateway_ref: String,
    },
    /// The gateway took the charge and settles it later (a payment intent still `processing`).
    /// Recorded before the outcome, so that a restart looks the intent up by `gateway_ref`
    /// instead of charging again.
    ChargePending {
        order_id: OrderId,
        amount_minor: i64,
        currency: Currency,
        gateway_ref: String,
    },
    ChargeDeclined {
        order_id: OrderId,
        amount_minor: i64,
        currency: Currency,
        reason: String,
    },
    /// A refund was decided; the refund reactor sends it to the gateway with `idempotency_key`.
    RefundIssued {
        order_id: OrderId,
        idempotency_key: IdempotencyKey,
        amount_minor: i64,
        currency: Currency,
        reason: String,
    },
    /// The gateway accepted the refund decided under `idempotency_key`; `gateway_ref` is its id.
    RefundSent {
        order_id: OrderId,
        idempotency_key: IdempotencyKey,
        gateway_ref: String,
    },
}

impl PaymentEvent {
    /// The name a downstream system matches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ChargeCaptured { .. } => "ChargeCaptured",
            Self::ChargePending { .. } => "ChargePending",
            Self::ChargeDeclined { .. } => "ChargeDeclined",
            Self::RefundIssued { .. } => "RefundIssued",
            Self::RefundSent { .. } => "RefundSent",
        }
    }
}
