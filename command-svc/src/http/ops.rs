//! Operations endpoints: health, readiness, metrics, the OpenAPI document.

use super::error::ApiError;
use super::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready while NATS is connected and every stream has the replica count `TV_STREAM_REPLICAS` asks
/// for (the reading is in the body either way).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let nats = state.store.is_connected();
    let (replicated, replication) = state.store.replication_readiness().await;
    let ready = nats && replicated;
    let body = Json(serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "nats": if nats { "connected" } else { "disconnected" },
        "replication": replication,
    }));
    if ready {
        body.into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        telemetry::render_metrics(),
    )
}

pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../../openapi.json"),
    )
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take this method",
    )
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
