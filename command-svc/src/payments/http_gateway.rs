//! The real payment gateway's adapter: a PaymentIntents-style HTTPS API, in the shape of the
//! market leader's (Stripe).
//!
//! Requests are form-encoded (`application/x-www-form-urlencoded`, nested keys as
//! `metadata[order_id]`), answers are JSON ([`super::intent`]), and every call carries
//! `Authorization: Bearer <api key>`. Each call that creates something or moves money carries the
//! gateway's own `Idempotency-Key` header, which the gateway answers with its first answer for as
//! long as it keeps keys (Stripe: 24 hours, far longer than an order's deadline):
//!
//! - preparing, when the order is placed: `POST /v1/payment_intents` with `amount` (minor units),
//!   `currency` (lower case), `payment_method` (the customer's card token), `metadata[order_id]`,
//!   not confirmed; key `intent:<order>`. The intent's id (`pi_…`) is the reference the order
//!   stores instead of the token. A `402 card_error`, or a `400` about `payment_method` (a token
//!   the gateway does not know), is the token refused; a `400 idempotency_error` another token
//!   under the same order;
//! - a charge: `POST /v1/payment_intents/<id>/confirm`; key `charge:<order>`. `succeeded` is a
//!   capture, `processing` a pending charge (settled later by the webhook, or read with
//!   `GET /v1/payment_intents/<id>`), a `402` card error or `requires_payment_method` a decline.
//!   An order placed before references existed is charged as then: `POST /v1/payment_intents`
//!   with its token and `confirm=true`, key `charge:<order>`;
//! - a refund: `POST /v1/refunds` with `payment_intent`, `amount`, `metadata[order_id]`; key
//!   `<the refund's key>`;
//! - a look-up by order (`find_charge`): `GET /v1/payment_intents/search` with
//!   `query=metadata['order_id']:'<order>'`; an intent prepared but never confirmed is no charge.
//!
//! Only what it is told counts: a timeout, a dropped connection, a `5xx`, a `429` or a `409`
//! (the same key still being worked on) is `Unavailable`, and the caller retries with the same
//! key. Neither the API key nor a card token is ever logged, and an error's `message` (which may
//! repeat what was sent) is never kept: only its type, code and parameter.

use super::gateway::{ChargeResult, GatewayError, PaymentGateway, RefundResult};
use super::intent::{ErrorBody, PaymentIntent, Refund, SearchResult};
use super::signature::GatewaySecret;
use super::CardToken;
use async_trait::async_trait;
use domain::ids::{IdempotencyKey, OrderId};
use domain::money::Currency;
use domain::ordering::{PaymentMeans, Preparation};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Where the gateway is and how to talk to it.
#[derive(Debug, Clone)]
pub struct HttpGatewaySettings {
    /// The API's base URL, without the `/v1` (e.g. `https://api.gateway.example`).
    pub base_url: String,
    pub api_key: GatewaySecret,
    /// A call without an answer by then is `Unavailable` (and retried with the same key).
    pub timeout: Duration,
}

/// The HTTPS gateway client.
#[derive(Debug, Clone)]
pub struct HttpGateway {
    http: reqwest::Client,
    base_url: String,
    api_key: GatewaySecret,
}

impl HttpGateway {
    pub fn new(settings: HttpGatewaySettings) -> Result<Self, GatewayError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| GatewayError::Refused(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            api_key: settings.api_key,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        request.bearer_auth(self.api_key.expose())
    }

    /// Sends and reads a JSON answer; a refused means of payment comes back as its detail.
    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<Answer<T>, GatewayError> {
        let response = self
            .authorized(request)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(without_url(e)))?;
        read(response).await
    }
}

/// A 2xx answer, or the means of payment refused: a decline of the card (`402 card_error`) or a
/// payment method the gateway does not take (`400` about `payment_method`).
enum Answer<T> {
    Ok(T),
    MethodRefused(super::intent::ErrorDetail),
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<Answer<T>, GatewayError> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| GatewayError::Unavailable(without_url(e)))?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map(Answer::Ok)
            .map_err(|e| GatewayError::Unavailable(format!("an answer that does not parse: {e}")));
    }
    let detail = serde_json::from_slice::<ErrorBody>(&body)
        .map(|b| b.error)
        .unwrap_or_default();
    // Never the message: a gateway may repeat what it was sent (a token) in it.
    let told = format!(
        "{status} {} {}",
        detail.kind,
        detail.code.as_deref().unwrap_or("")
    );
    match status {
        StatusCode::PAYMENT_REQUIRED if detail.kind == "card_error" => {
            Ok(Answer::MethodRefused(detail))
        }
        StatusCode::BAD_REQUEST if detail.kind == "idempotency_error" => {
            Err(GatewayError::KeyReused(told))
        }
        StatusCode::BAD_REQUEST if detail.param.as_deref() == Some("payment_method") => {
            Ok(Answer::MethodRefused(detail))
        }
        // Nothing was done, or the outcome is unknown: the same key again is safe. A rejected
        // API key is the operator's to fix; nothing was charged, so it is retried as well.
        StatusCode::CONFLICT
        | StatusCode::TOO_MANY_REQUESTS
        | StatusCode::UNAUTHORIZED
        | StatusCode::FORBIDDEN => Err(GatewayError::Unavailable(told)),
        s if s.is_server_error() => Err(GatewayError::Unavailable(told)),
        _ => Err(GatewayError::Refused(told)),
    }
}

/// reqwest's errors name the URL; ours hold no secret in it, but keep logs short.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// An intent id is used in a URL path: letters, digits and `_` only.
fn intent_id(gateway_ref: &str) -> Result<&str, GatewayError> {
    match !gateway_ref.is_empty()
        && gateway_ref
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        true => Ok(gateway_ref),
        false => Err(GatewayError::Refused(format!(
            "{gateway_ref:?} is not an intent id"
        ))),
    }
}

fn intent_result(intent: &PaymentIntent) -> Result<ChargeResult, GatewayError> {
    intent.charge_result().ok_or_else(|| {
        GatewayError::Refused(format!(
            "payment intent {} is {}, which TicketView never asks for",
            intent.id, intent.status
        ))
    })
}

impl HttpGateway {
    /// Confirms the intent prepared at placement: the charge.
    async fn confirm(
        &self,
        order: OrderId,
        gateway_ref: &str,
    ) -> Result<ChargeResult, GatewayError> {
        let id = intent_id(gateway_ref)?;
        let request = self
            .http
            .post(self.url(&format!("/v1/payment_intents/{id}/confirm")))
            .header("Idempotency-Key", format!("charge:{order}"))
            .form(&[] as &[(&str, &str)]);
        self.charged(request).await
    }

    /// An order placed before references existed: one intent, created and confirmed with the
    /// order's token, as it was then.
    async fn charge_token(
        &self,
        order: OrderId,
        amount_minor: i64,
        currency: Currency,
        token: &str,
    ) -> Result<ChargeResult, GatewayError> {
        let order = order.to_string();
        let form = [
            ("amount", amount_minor.to_string()),
            ("currency", currency.as_str().to_ascii_lowercase()),
            ("payment_method", token.to_owned()),
            ("confirm", "true".to_owned()),
            ("metadata[order_id]", order.clone()),
        ];
        let request = self
            .http
            .post(self.url("/v1/payment_intents"))
            .header("Idempotency-Key", format!("charge:{order}"))
            .form(&form);
        self.charged(request).await
    }

    async fn charged(&self, request: RequestBuilder) -> Result<ChargeResult, GatewayError> {
        match self.send::<PaymentIntent>(request).await? {
            Answer::Ok(intent) => intent_result(&intent),
            Answer::MethodRefused(detail) => Ok(ChargeResult::Declined {
                reason: detail.reason(),
            }),
        }
    }
}

#[async_trait]
impl PaymentGateway for HttpGateway {
    async fn prepare(
        &self,
        idempotency_key: OrderId,
        amount_minor: i64,
        currency: Currency,
        token: &CardToken,
    ) -> Result<Preparation, GatewayError> {
        let order = idempotency_key.to_string();
        let form = [
            ("amount", amount_minor.to_string()),
            ("currency", currency.as_str().to_ascii_lowercase()),
            ("payment_method", token.expose().to_owned()),
            ("metadata[order_id]", order.clone()),
        ];
        let request = self
            .http
            .post(self.url("/v1/payment_intents"))
            .header("Idempotency-Key", format!("intent:{order}"))
            .form(&form);
        match self.send::<PaymentIntent>(request).await? {
            Answer::Ok(intent) => Ok(Preparation::Prepared {
                gateway_ref: intent_id(&intent.id)?.to_owned(),
            }),
            Answer::MethodRefused(detail) => Ok(Preparation::Refused {
                reason: detail.reason(),
            }),
        }
    }

    async fn charge(
        &self,
        idempotency_key: OrderId,
        amount_minor: i64,
        currency: Currency,
        means: &PaymentMeans,
    ) -> Result<ChargeResult, GatewayError> {
        match means {
            PaymentMeans::GatewayRef(gateway_ref) => {
                self.confirm(idempotency_key, gateway_ref).await
            }
            PaymentMeans::LegacyToken(token) => {
                self.charge_token(idempotency_key, amount_minor, currency, token)
                    .await
            }
        }
    }

    async fn charge_status(
        &self,
        _idempotency_key: OrderId,
        gateway_ref: &str,
    ) -> Result<ChargeResult, GatewayError> {
        let id = intent_id(gateway_ref)?;
        let request = self
            .http
            .get(self.url(&format!("/v1/payment_intents/{id}")));
        self.charged(request).await
    }

    async fn refund(
        &self,
        idempotency_key: &IdempotencyKey,
        charge: OrderId,
        charge_ref: &str,
        amount_minor: i64,
        _currency: Currency,
    ) -> Result<RefundResult, GatewayError> {
        let form = [
            ("payment_intent", charge_ref.to_owned()),
            ("amount", amount_minor.to_string()),
            ("metadata[order_id]", charge.to_string()),
        ];
        let request = self
            .http
            .post(self.url("/v1/refunds"))
            .header("Idempotency-Key", idempotency_key.as_str())
            .form(&form);
        match self.send::<Refund>(request).await? {
            Answer::Ok(refund) if matches!(refund.status.as_str(), "succeeded" | "pending") => {
                Ok(RefundResult {
                    gateway_ref: refund.id,
                })
            }
            Answer::Ok(refund) => Err(GatewayError::Refused(format!(
                "refund {} is {}",
                refund.id, refund.status
            ))),
            Answer::MethodRefused(detail) => Err(GatewayError::Refused(detail.reason())),
        }
    }

    async fn find_charge(
        &self,
        idempotency_key: OrderId,
    ) -> Result<Option<ChargeResult>, GatewayError> {
        let query = format!("metadata['order_id']:'{idempotency_key}'");
        let request = self
            .http
            .get(self.url("/v1/payment_intents/search"))
            .query(&[("query", query)]);
        match self.send::<SearchResult>(request).await? {
            // An intent prepared at placement and never confirmed charged nothing.
            Answer::Ok(found) => Ok(found.data.iter().find_map(PaymentIntent::charge_result)),
            Answer::MethodRefused(detail) => Err(GatewayError::Refused(detail.reason())),
        }
    }
}
