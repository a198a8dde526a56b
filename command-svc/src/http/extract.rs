//! Extractors that turn malformed requests into the API's JSON errors: 400 for malformed JSON,
//! headers or path parameters, 413 for oversized bodies, 415 without a JSON content type, 422 for
//! values of the wrong shape. Handlers take these, never axum's own `Path` or `Json`, whose
//! rejections are plain text.

use super::error::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use domain::ids::IdempotencyKey;
use serde::de::DeserializeOwned;

/// A JSON body whose rejections are API errors.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let message = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
        }
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", message)
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is larger than this endpoint accepts",
        ),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            other.body_text(),
        ),
    }
}

/// The `Idempotency-Key` header, when present and valid.
pub struct OptionalKey(pub Option<IdempotencyKey>);

/// The `Idempotency-Key` header, required.
pub struct RequiredKey(pub IdempotencyKey);

fn key_from(parts: &Parts) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = parts.headers.get("idempotency-key") else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "Idempotency-Key must be visible ASCII",
        )
    })?;
    IdempotencyKey::parse(text).map(Some).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            e.to_string(),
        )
    })
}

impl<S: Send + Sync> FromRequestParts<S> for OptionalKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        key_from(parts).map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequiredKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        key_from(parts)?.map(Self).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_idempotency_key",
                "this request needs an Idempotency-Key header (any unique string per intended action)",
            )
        })
    }
}

/// The W3C trace context of the request's span (a child of the caller's `traceparent`), carried
/// into the headers of the commit the command produces.
pub struct TraceParent(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for TraceParent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(telemetry::propagation::current_traceparent()))
    }
}

/// The path parameters of a route, as text; a segment that does not decode (`%FF`) is a 400
/// naming the parameter, like a malformed id.
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(path_error(&rejection)),
        }
    }
}

fn path_error(rejection: &PathRejection) -> ApiError {
    let key = match rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::InvalidUtf8InPathParam { key }
            | ErrorKind::ParseErrorAtKey { key, .. }
            | ErrorKind::DeserializeError { key, .. } => Some(key.as_str()),
            _ => None,
        },
        _ => None,
    };
    match key {
        Some(key) => ApiError::new(
            StatusCode::BAD_REQUEST,
            id_code(key),
            format!("{key} in the path is malformed"),
        ),
        None => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            "the path is malformed",
        ),
    }
}

/// The code of a malformed path id.
fn id_code(what: &str) -> &'static str {
    match what {
        "event_id" => "invalid_event_id",
        "hold_id" => "invalid_hold_id",
        "order_id" => "invalid_order_id",
        _ => "invalid_id",
    }
}

/// A path id that must parse; a malformed one is a 400 naming the parameter.
pub fn parse_path<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            id_code(what),
            format!("{what} in the path is malformed"),
        )
    })
}
