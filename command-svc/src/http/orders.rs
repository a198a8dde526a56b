//! `POST /orders` and `POST /orders/{order_id}/cancel`.

use super::caller::Customer;
use super::error::ApiError;
use super::extract::{parse_path, JsonBody, PathParams, RequiredKey, TraceParent};
use super::AppState;
use crate::orders::{OrderOutcome, PlaceOrder};
use crate::payments::CardToken;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::ids::{HoldId, OrderId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderBody {
    hold_id: String,
    /// Optional: the customer is the token's subject; when given, it must be the same.
    customer_id: Option<String>,
    payment: PaymentBody,
}

/// `payment.token`: the card token, parsed into a [`CardToken`] at once (which never prints it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    token: String,
}

impl std::fmt::Debug for PaymentBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentBody { token: <redacted> }")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    customer_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct OrderAnswer {
    order_id: OrderId,
    status: &'static str,
    position: String,
}

impl From<OrderOutcome> for OrderAnswer {
    fn from(outcome: OrderOutcome) -> Self {
        Self {
            order_id: outcome.order_id,
            status: outcome.status,
            position: outcome.position.to_string(),
        }
    }
}

/// A payment token: an opaque reference of visible ASCII, never card data.
fn card_token(body: &PaymentBody) -> Result<CardToken, ApiError> {
    CardToken::parse(&body.token).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payment_token",
            "payment.token is 1 to 200 visible ASCII characters",
        )
    })
}

/// The customer is the token's; a hold of another customer is `404 unknown_hold`. The card token
/// is exchanged for the gateway's reference before the order is placed: a refused one is
/// `402 payment_refused` (the order failed, its seats are back on sale), no answer from the
/// gateway `503 payment_gateway_unavailable` (retry with the same key).
#[tracing::instrument(skip(caller, state, key, trace, body), fields(order_id))]
pub async fn place(
    caller: Customer,
    State(state): State<AppState>,
    RequiredKey(key): RequiredKey,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<PlaceOrderBody>,
) -> Result<(StatusCode, Json<OrderAnswer>), ApiError> {
    let hold_id: HoldId = body.hold_id.parse()?;
    let customer_id = caller.acting_as(body.customer_id.as_deref())?;
    let card_token = card_token(&body.payment)?;
    let order_id = OrderId::derive(&customer_id, &key);
    tracing::Span::current().record("order_id", tracing::field::display(order_id));
    let outcome = state
        .orders
        .place(PlaceOrder {
            order_id,
            hold_id,
            customer_id,
            card_token,
            traceparent: trace,
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(outcome.into())))
}

/// The customer is the token's; an order of another customer is `404 unknown_order`.
#[tracing::instrument(skip(caller, state, trace, body), fields(order_id = %order_id))]
pub async fn cancel(
    caller: Customer,
    State(state): State<AppState>,
    PathParams(order_id): PathParams<String>,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<Json<OrderAnswer>, ApiError> {
    let order_id: OrderId = parse_path(&order_id, "order_id")?;
    let customer_id = caller.acting_as(body.customer_id.as_deref())?;
    let outcome = state.orders.cancel(order_id, customer_id, trace).await?;
    Ok(Json(outcome.into()))
}
