//! The wire format of a PaymentIntents-style gateway, as read by [`super::HttpGateway`] and the
//! webhook: a payment intent, a refund, an error body and a webhook event, and what each means
//! for an order's charge.
//!
//! Shaped after the market leader's API (Stripe): amounts in minor units, lower-case ISO
//! currency codes, the intent's `status` saying where the money is, `metadata.order_id` naming
//! the order. Only the fields TicketView reads are declared; the rest is ignored.

use super::gateway::ChargeResult;
use domain::ids::OrderId;
use domain::money::Currency;
use serde::Deserialize;
use std::collections::HashMap;

/// A payment intent: one attempt to take one order's total.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    /// The gateway's id of the intent (`pi_…`): the charge's gateway reference.
    pub id: String,
    pub amount: i64,
    /// Lower-case ISO 4217, as the gateway writes it.
    pub currency: String,
    pub status: String,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    #[serde(default)]
    pub last_payment_error: Option<ErrorDetail>,
}

impl PaymentIntent {
    /// The order this intent charges, from `metadata.order_id`.
    pub fn order_id(&self) -> Option<OrderId> {
        self.metadata.get("order_id")?.parse().ok()
    }

    /// The currency as the domain writes it (upper case).
    pub fn currency(&self) -> Option<Currency> {
        self.currency.to_ascii_uppercase().parse().ok()
    }

    /// What the intent's status means for the charge; `None` when nothing was charged yet (an
    /// intent prepared at placement, `requires_confirmation`) or for a status TicketView never
    /// creates (an intent awaiting a manual capture).
    pub fn charge_result(&self) -> Option<ChargeResult> {
        let gateway_ref = self.id.clone();
        Some(match self.status.as_str() {
            "succeeded" => ChargeResult::Captured { gateway_ref },
            "processing" => ChargeResult::Pending { gateway_ref },
            // Refused, or needs the customer (3-D Secure): the server side cannot go on, so the
            // order's payment failed and its hold goes back on sale.
            "requires_payment_method" | "canceled" | "requires_action" => ChargeResult::Declined {
                reason: self
                    .last_payment_error
                    .as_ref()
                    .map(ErrorDetail::reason)
                    .unwrap_or_else(|| self.status.clone()),
            },
            _ => return None,
        })
    }
}

/// The `error` object of a failed request, or an intent's `last_payment_error`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorDetail {
    /// `card_error`, `idempotency_error`, `invalid_request_error`, `api_error`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    /// The request parameter the error is about (`payment_method`: the token was refused).
    #[serde(default)]
    pub param: Option<String>,
    /// For people; may repeat what was sent (a token), so TicketView never logs or stores it.
    #[serde(default)]
    pub message: Option<String>,
    /// With a `card_error` on confirmation: the intent as the decline left it.
    #[serde(default)]
    pub payment_intent: Option<Box<PaymentIntent>>,
}

impl ErrorDetail {
    /// The reason of a decline, most precise first (`insufficient_funds` before `card_declined`).
    pub fn reason(&self) -> String {
        self.decline_code
            .clone()
            .or_else(|| self.code.clone())
            .unwrap_or_else(|| "card_declined".into())
    }
}

/// The body of an answer that is not a 2xx.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A refund.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    /// The gateway's id of the refund (`re_…`).
    pub id: String,
    /// `succeeded` or `pending` (money on its way back), `failed` or `canceled`.
    pub status: String,
}

/// A page of search results.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchResult {
    pub data: Vec<PaymentIntent>,
}

/// A webhook event, as the gateway posts it.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookEvent {
    pub id: String,
    /// `payment_intent.succeeded`, `payment_intent.payment_failed`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub data: WebhookData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookData {
    pub object: serde_json::Value,
}

impl WebhookEvent {
    /// The intent an intent's event is about; `None` for the other kinds of event.
    pub fn payment_intent(&self) -> Option<PaymentIntent> {
        self.kind
            .starts_with("payment_intent.")
            .then(|| serde_json::from_value(self.data.object.clone()).ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(status: &str, error: Option<&str>) -> PaymentIntent {
        let mut json = serde_json::json!({
            "id": "pi_1", "object": "payment_intent", "amount": 9000, "currency": "eur",
            "status": status, "metadata": {"order_id": "0b7c0f5e-2f4e-4a8b-9c55-4b1b1e3c9a10"},
        });
        if let Some(code) = error {
            json["last_payment_error"] = serde_json::json!({"type": "card_error", "code": "card_declined", "decline_code": code});
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn an_intent_s_status_is_the_charge_s_outcome() {
        let captured = ChargeResult::Captured {
            gateway_ref: "pi_1".into(),
        };
        assert_eq!(intent("succeeded", None).charge_result(), Some(captured));
        assert_eq!(
            intent("processing", None).charge_result(),
            Some(ChargeResult::Pending {
                gateway_ref: "pi_1".into()
            })
        );
        assert_eq!(
            intent("requires_payment_method", Some("insufficient_funds")).charge_result(),
            Some(ChargeResult::Declined {
                reason: "insufficient_funds".into()
            })
        );
        assert_eq!(intent("requires_capture", None).charge_result(), None);
        assert_eq!(intent("requires_confirmation", None).charge_result(), None);
        let read = intent("succeeded", None);
        assert_eq!(read.currency(), Some("EUR".parse().unwrap()));
        assert!(read.order_id().is_some());
    }
}
