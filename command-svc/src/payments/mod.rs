//! The money side of command-svc: the payment gateway behind a trait ([`PaymentGateway`]), its
//! adapters (the HTTPS gateway [`HttpGateway`] and the test gateway [`TestGateway`]), chosen by
//! configuration ([`GatewayConfig`]), and the gateway's signed webhook ([`PaymentWebhook`]).
//!
//! The gateway is called only by the fulfilment process manager (`crate::fulfilment`), never from
//! an HTTP handler's own code, and always with an idempotency key: the order id for its one charge,
//! the refund's key (decided first on the payment aggregate) for a refund. A retried call after a
//! crash, a timeout or a redelivered message therefore returns the first answer and never moves
//! money twice. A charge the gateway settles later is recorded as pending with the gateway's
//! reference, and only looked up by it afterwards.

mod gateway;
mod http_gateway;
pub mod intent;
mod settings;
pub mod signature;
mod test_gateway;
mod webhook;

pub use gateway::{ChargeResult, GatewayError, PaymentGateway, RefundResult};
pub use http_gateway::{HttpGateway, HttpGatewaySettings};
pub use settings::{GatewayConfig, GatewayConfigError, GatewayKind, Payments, PRODUCTION};
pub use signature::{sign, GatewaySecret, SignatureError, WebhookVerifier, SIGNATURE_HEADER};
pub use test_gateway::{TestGateway, TestGatewaySettings, TOKEN_DECLINE, TOKEN_OK, TOKEN_SLOW};
pub use webhook::{PaymentWebhook, WebhookError, WebhookOutcome};
