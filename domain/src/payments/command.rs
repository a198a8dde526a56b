//! What the payment reactors can ask of a payment.

use crate::ids::{IdempotencyKey, OrderId};
use crate::money::Currency;
use serde::{Deserialize, Serialize};

/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PaymentCommand {
    /// The gateway answered the charge of an order's total: record its outcome, once. A pending
    /// answer comes first when the gateway settles later; its capture or decline follows.
    RecordCharge {
        order_id: OrderId,
        amount_minor: i64,
        currency: Currency,
        outcome: ChargeOutcome,
    },
    /// Give some of the captured money back. `idempotency_key` names this refund (for an order's
    /// refund, derive it from the order and why it ended): the same key again decides nothing, and
    /// it is the key the gateway refund is sent with.
    Refund {
        idempotency_key: IdempotencyKey,
        amount_minor: i64,
        reason: String,
    },
    /// The gateway accepted the refund decided under `idempotency_key`: record its reference.
    RecordRefundSent {
        idempotency_key: IdempotencyKey,
        gateway_ref: String,
    },
}

/// What the gateway said to a charge.
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChargeOutcome {
    /// The money was taken; `gateway_ref` is the gateway's id of the charge.
    Captured {
        gateway_ref: String,
    },
    Declined {
        reason: String,
    },
    /// The gateway took the charge and is still processing it; `gateway_ref` is its id of the
    /// payment (a payment intent), by which the outcome is looked up or announced later.
    Pending {
        gateway_ref: String,
    },
}
