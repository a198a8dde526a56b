//! What command-svc needs from a payment gateway.
//!
//! A payment has two moments. When the order is placed, the customer's card token is presented
//! once ([`PaymentGateway::prepare`]): the gateway prepares the payment for the order's total (a
//! payment intent, nothing charged yet) and answers with its reference, which is all the order
//! stores; or it refuses the token. Later the process manager charges the order by that
//! reference ([`PaymentGateway::charge`]). Orders placed before references existed are charged
//! with the token they stored, as then.
//!
//! Every call carries an idempotency key, and a gateway must answer a repeated key with the first
//! answer (without charging or refunding again): that is what makes the fulfilment process
//! manager's retries safe. `GatewayError::Unavailable` means "outcome unknown, retry with the same
//! key"; the money may or may not have moved.
//!
//! A charge may also come back `Pending`: the gateway took it and settles it later (a payment
//! intent still `processing`). Its reference is then recorded, and the outcome is read with
//! [`PaymentGateway::charge_status`] or announced by the gateway's webhook; the charge is never
//! sent again.

use async_trait::async_trait;
use domain::ids::{IdempotencyKey, OrderId};
use domain::money::Currency;
use domain::ordering::{PaymentMeans, Preparation};
use domain::payments::ChargeOutcome;

use super::CardToken;

/// The gateway's answer to a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeResult {
    /// The money was taken; `gateway_ref` is the gateway's id of the charge.
    Captured { gateway_ref: String },
    /// The means of payment was refused; nothing was taken.
    Declined { reason: String },
    /// The gateway took the charge and has not settled it yet; `gateway_ref` is its id of it.
    Pending { gateway_ref: String },
}

impl ChargeResult {
    /// The outcome as the payment aggregate records it.
    pub fn outcome(&self) -> ChargeOutcome {
        match self {
            Self::Captured { gateway_ref } => ChargeOutcome::Captured {
                gateway_ref: gateway_ref.clone(),
            },
            Self::Declined { reason } => ChargeOutcome::Declined {
                reason: reason.clone(),
            },
            Self::Pending { gateway_ref } => ChargeOutcome::Pending {
                gateway_ref: gateway_ref.clone(),
            },
        }
    }
}

/// The gateway's answer to a refund: its id of the refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundResult {
    pub gateway_ref: String,
}

/// Why a gateway call has no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// No answer (timeout, connection lost, the gateway is down): the call may or may not have
    /// taken effect. Retry with the same idempotency key.
    #[error("the payment gateway did not answer: {0}")]
    Unavailable(String),
    /// The gateway refused the request itself (not a decline: a refund of more than was charged,
    /// an amount it does not take). Retrying will not help.
    #[error("the payment gateway refused the request: {0}")]
    Refused(String),
    /// The idempotency key was used before with another request (another token for the same
    /// order): the gateway keeps the first. Retrying will not help.
    #[error("the payment gateway has this idempotency key for another request: {0}")]
    KeyReused(String),
}

/// A payment gateway. Implementations must be idempotent per key (see the module documentation).
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Presents the customer's card token for the order's `amount_minor` of `currency`, before
    /// the order is placed: `Prepared` with the gateway's reference of the payment it prepared
    /// (nothing is charged), or `Refused` when it will not take the token. Once per order: the
    /// order id is the idempotency key, so the same token again gets the same reference, and
    /// another token is `KeyReused`.
    async fn prepare(
        &self,
        idempotency_key: OrderId,
        amount_minor: i64,
        currency: Currency,
        token: &CardToken,
    ) -> Result<Preparation, GatewayError>;

    /// Charges `amount_minor` of `currency` for the order, once per order (the order id is the
    /// idempotency key): the payment prepared at placement, by its reference, or for an order
    /// placed before references existed, its card token.
    async fn charge(
        &self,
        idempotency_key: OrderId,
        amount_minor: i64,
        currency: Currency,
        means: &PaymentMeans,
    ) -> Result<ChargeResult, GatewayError>;

    /// Where a charge the gateway answered `Pending` stands now, looked up by its reference,
    /// without charging.
    async fn charge_status(
        &self,
        idempotency_key: OrderId,
        gateway_ref: &str,
    ) -> Result<ChargeResult, GatewayError>;

    /// Gives `amount_minor` of the order's charge (the gateway's `charge_ref` of it) back, once
    /// per `idempotency_key`.
    async fn refund(
        &self,
        idempotency_key: &IdempotencyKey,
        charge: OrderId,
        charge_ref: &str,
        amount_minor: i64,
        currency: Currency,
    ) -> Result<RefundResult, GatewayError>;

    /// The answer to the order's charge, if the gateway ever received one, without charging.
    ///
    /// Real gateways let a merchant look a payment up by its reference. The process manager asks
    /// this before it gives up on an order that ran out or was cancelled unpaid, so that a charge
    /// sent just before a crash (taken, but never recorded) is found and refunded.
    async fn find_charge(
        &self,
        idempotency_key: OrderId,
    ) -> Result<Option<ChargeResult>, GatewayError>;
}
