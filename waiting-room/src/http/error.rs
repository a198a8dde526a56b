//! Every failure as an HTTP status and `{"error": {"code", "message"}}`, with `Retry-After` on
//! 429 and 503.

use crate::places::QueueError;
use auth::AuthError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Duration;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<Duration>,
    challenge: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            challenge: None,
        }
    }

    /// `429 rate_limited`: try again after `wait`.
    pub fn rate_limited(wait: Duration) -> Self {
        Self {
            retry_after: Some(wait),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many joins; wait as Retry-After says (your place, if you have one, is kept)",
            )
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        let (status, code) = match &e {
            QueueError::UnknownEvent => (StatusCode::NOT_FOUND, "unknown_event"),
            QueueError::NoWaitingRoom => (StatusCode::CONFLICT, "no_waiting_room"),
            QueueError::Closed(_) => (StatusCode::CONFLICT, "queue_closed"),
            QueueError::NotInQueue => (StatusCode::NOT_FOUND, "not_in_queue"),
            QueueError::Starting => (StatusCode::SERVICE_UNAVAILABLE, "starting"),
            QueueError::Unavailable(detail) => {
                tracing::warn!(%detail, "answering 503");
                return Self {
                    retry_after: Some(Duration::from_secs(1)),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the queue's store is unavailable; retry (a join never takes two places)",
                    )
                };
            }
        };
        let retry_after =
            (status == StatusCode::SERVICE_UNAVAILABLE).then_some(Duration::from_secs(1));
        Self {
            retry_after,
            ..Self::new(status, code, e.to_string())
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        Self {
            challenge: e.challenge(),
            ..Self::new(status, e.code(), e.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
