//! Errors of a query, and the one mapping to HTTP: `{"error": {"code", "message"}}` with a stable
//! snake_case code. Internal details are logged once here, never returned.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input: a path id or a query parameter that does not parse.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No valid token (401, with a `Bearer` challenge) or not the role (403).
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    /// Nothing with this id.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// `?after=` named a position the read model did not reach within the bounded wait.
    #[error("the read model has not reached {position} yet; retry shortly")]
    NotCaughtUp { position: String },
    /// `?after=` named a sequence beyond the end of its stream: no wait could reach it.
    #[error("{position} is beyond the end of its stream (last sequence {end})")]
    PositionAhead { position: String, end: u64 },
    /// The path exists but not with this method.
    #[error("this endpoint does not take this method")]
    MethodNotAllowed,
    /// PostgreSQL is unreachable or the read model is missing.
    #[error("read model unavailable: {0}")]
    Unavailable(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::read::ReadError> for ApiError {
    fn from(error: crate::read::ReadError) -> Self {
        ApiError::Unavailable(error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::BadRequest { code, message } => {
                (StatusCode::BAD_REQUEST, *code, message.clone())
            }
            ApiError::NotFound { code, message } => (StatusCode::NOT_FOUND, *code, message.clone()),
            ApiError::Auth(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED),
                e.code(),
                e.to_string(),
            ),
            ApiError::PositionAhead { .. } => {
                (StatusCode::BAD_REQUEST, "position_ahead", self.to_string())
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                self.to_string(),
            ),
            ApiError::NotCaughtUp { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not_caught_up",
                self.to_string(),
            ),
            ApiError::Unavailable(detail) => {
                tracing::error!(error = %detail, "query failed: read model unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "read_model_unavailable",
                    "the read model is unavailable; retry shortly".to_owned(),
                )
            }
        };
        let mut response = (
            status,
            Json(json!({"error": {"code": code, "message": message}})),
        )
            .into_response();
        if let ApiError::Auth(e) = &self {
            if let Some(challenge) = e.challenge() {
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static(challenge),
                );
            }
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}
