//! The gateway's webhook: `POST /payments/webhook`, how a charge the gateway answered
//! `processing` is settled.
//!
//! No bearer token: the request is believed only when its `Gateway-Signature` signs its exact
//! body within the replay window ([`super::signature`]); anything else is refused before the body
//! is read, and nothing is recorded. A believed `payment_intent.succeeded` or
//! `payment_intent.payment_failed` is recorded on the order's payment, under the rules of the
//! payment aggregate (a capture must name the intent the charge was pending with, once), and the
//! order is advanced at once. Other events are acknowledged and ignored. Every event may come
//! twice or out of order: recording is idempotent, and a stale one records nothing.

use super::intent::WebhookEvent;
use super::signature::{SignatureError, WebhookVerifier};
use super::ChargeResult;
use crate::cold::Causes;
use crate::fulfilment::{Fulfilment, FulfilmentError};

/// What became of a believed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The charge's outcome was recorded (or already was) and the order advanced.
    Settled,
    /// Not an event about a charge of an order known here: acknowledged, nothing recorded.
    Ignored(&'static str),
}

/// Why a webhook request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No webhook is configured (the test gateway has none).
    #[error("no payment webhook is configured")]
    NotConfigured,
    #[error("the signature is not valid: {0}")]
    Signature(#[from] SignatureError),
    #[error("the body is not a webhook event: {0}")]
    Malformed(String),
    /// The store did not answer: the gateway retries the delivery.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Receives the gateway's webhook requests.
#[derive(Clone)]
pub struct PaymentWebhook {
    verifier: Option<WebhookVerifier>,
    fulfilment: Fulfilment,
}

impl PaymentWebhook {
    pub fn new(verifier: Option<WebhookVerifier>, fulfilment: Fulfilment) -> Self {
        Self {
            verifier,
            fulfilment,
        }
    }

    /// Checks, reads and records one request. `now` is the unix time it is checked at.
    pub async fn receive(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<WebhookOutcome, WebhookError> {
        let verifier = self.verifier.as_ref().ok_or(WebhookError::NotConfigured)?;
        verifier.verify(signature, body, now)?;
        let event: WebhookEvent =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let Some(intent) = event.payment_intent() else {
            return Ok(WebhookOutcome::Ignored("not a payment intent's event"));
        };
        let (Some(order_id), Some(currency)) = (intent.order_id(), intent.currency()) else {
            return Ok(WebhookOutcome::Ignored("not an order's payment intent"));
        };
        let settled = match (event.kind.as_str(), intent.charge_result()) {
            ("payment_intent.succeeded", Some(result @ ChargeResult::Captured { .. }))
            | ("payment_intent.payment_failed", Some(result @ ChargeResult::Declined { .. })) => {
                result
            }
            _ => return Ok(WebhookOutcome::Ignored("not an outcome of a charge")),
        };
        tracing::info!(order = %order_id, event = %event.id, kind = %event.kind, "payment webhook");
        let causes = Causes {
            traceparent: None,
            correlation_id: Some(order_id.to_string()),
            causation_id: Some(event.id.clone()),
        };
        match self
            .fulfilment
            .charge_settled(order_id, &settled, intent.amount, currency, &causes)
            .await
        {
            Ok(Some(_)) => Ok(WebhookOutcome::Settled),
            Ok(None) => Ok(WebhookOutcome::Ignored("unknown order")),
            // Recorded; what follows (selling the seats) is the reactor's to finish.
            Err(FulfilmentError::Pending(_)) => Ok(WebhookOutcome::Settled),
            Err(e) if e.is_transient() => Err(WebhookError::Unavailable(e.to_string())),
            Err(e) => {
                tracing::error!(order = %order_id, error = %e, "payment webhook not recorded");
                Ok(WebhookOutcome::Ignored("does not match the order"))
            }
        }
    }
}
