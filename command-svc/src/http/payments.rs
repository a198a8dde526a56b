//! `POST /payments/webhook`: the payment gateway announces how a charge ended.
//!
//! No bearer token; the `Gateway-Signature` header is the credential, checked on the raw body
//! before anything is parsed. A request that does not verify is `400 invalid_signature`, with no
//! hint of which check failed, and records nothing; without a webhook secret (the test gateway)
//! nothing verifies. A believed event is answered `200` once it is
//! recorded (also when it was ignored, so the gateway stops sending it); `503` makes the gateway
//! send it again later.

use super::error::ApiError;
use super::AppState;
use crate::payments::{WebhookError, WebhookOutcome, SIGNATURE_HEADER};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

#[tracing::instrument(skip_all)]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = body.map_err(|rejection| {
        ApiError::new(
            rejection.status(),
            "invalid_body",
            "the body could not be read",
        )
    })?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match state.webhook.receive(signature, &body, now).await {
        Ok(WebhookOutcome::Settled) => Ok(Json(serde_json::json!({ "received": true }))),
        Ok(WebhookOutcome::Ignored(why)) => {
            tracing::info!(why, "payment webhook ignored");
            Ok(Json(serde_json::json!({ "received": true })))
        }
        // No webhook secret (the test gateway): no signature can be believed, so none is.
        Err(WebhookError::NotConfigured) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_signature",
            "the request is not signed by the payment gateway",
        )),
        Err(WebhookError::Signature(e)) => {
            tracing::warn!(error = %e, "payment webhook refused");
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_signature",
                "the request is not signed by the payment gateway",
            ))
        }
        Err(WebhookError::Malformed(e)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not a webhook event: {e}"),
        )),
        Err(WebhookError::Unavailable(e)) => {
            tracing::warn!(error = %e, "payment webhook: answering 503");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the event store is unavailable; send the event again",
            ))
        }
    }
}
