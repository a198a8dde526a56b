//! The API's error answer, `{"error": {"code", "message"}}`, for the refusals made here before
//! a service's own handlers run (time-outs, rate limits); the services map their own errors
//! themselves, to the same shape.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// A JSON error answer with a stable `code` and a `message` for people.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

/// `Retry-After` in whole seconds, rounded up and at least 1 (a client that retries sooner would
/// only be refused again).
pub fn retry_after(wait: Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

/// [`json_error`] with a `Retry-After` header.
pub fn json_error_retry_after(
    status: StatusCode,
    code: &str,
    message: &str,
    wait: Duration,
) -> Response {
    let mut response = json_error(status, code, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after(wait));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after(Duration::from_millis(1)), "1");
        assert_eq!(retry_after(Duration::ZERO), "1");
        assert_eq!(retry_after(Duration::from_millis(1_001)), "2");
        assert_eq!(retry_after(Duration::from_secs(3)), "3");
    }
}
