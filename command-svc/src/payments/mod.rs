//! The money side of command-svc: the payment gateway behind a trait ([`PaymentGateway`]), its
//! adapters (the HTTPS gateway [`HttpGateway`] and the test gateway [`TestGateway`]), chosen by
//! configuration ([`GatewayConfig`]), and the gateway's signed webhook ([`PaymentWebhook`]).
//!
//! The gateway is called, always with an idempotency key derived from the order, at two places:
//! by the order service when an order is placed, to exchange the customer's card token
//! ([`CardToken`], never stored, logged or printed) for the gateway's reference of the payment it
//! prepares; and by the fulfilment process manager (`crate::fulfilment`), to charge by that
//! reference (the order id is the key of its one charge) and to refund (the refund's key, decided
//! first on the payment aggregate). A retried call after a
//! crash, a timeout or a redelivered message therefore returns the first answer and never moves
//! money twice. A charge the gateway settles later is recorded as pending with the gateway's
//! reference, and only looked up by it afterwards.

mod card_token;
mod gateway;
mod http_gateway;
pub mod intent;
mod settings;
pub mod signature;
mod test_gateway;
mod webhook;

pub use card_token::{CardToken, InvalidCardToken, MAX_TOKEN_LEN};
pub use gateway::{ChargeResult, GatewayError, PaymentGateway, RefundResult};
pub use http_gateway::{HttpGateway, HttpGatewaySettings};
pub use settings::{GatewayConfig, GatewayConfigError, GatewayKind, Payments, PRODUCTION};
pub use signature::{sign, GatewaySecret, SignatureError, WebhookVerifier, SIGNATURE_HEADER};
pub use test_gateway::{TestGateway, TestGatewaySettings, TOKEN_DECLINE, TOKEN_OK, TOKEN_SLOW};
pub use webhook::{PaymentWebhook, WebhookError, WebhookOutcome};
