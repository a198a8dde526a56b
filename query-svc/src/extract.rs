//! Extractors whose rejections are the API's JSON errors: handlers take these, never axum's own
//! `Path` or `Query`, whose rejections are plain text.

use crate::error::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The query string every query takes.
#[derive(Debug, Deserialize)]
pub(crate) struct After {
    pub after: Option<String>,
}

/// The query string of `GET /events`: `?after=`, and the page (`limit`, `cursor`) and `status`
/// wanted, as sent (the handler parses them).
#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    pub after: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub status: Option<String>,
}

/// A query string parsed, with a malformed one answered as the API's JSON error.
pub(crate) struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(params)| Self(params))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// `?after=` parsed.
pub(crate) type AfterQuery = QueryParams<After>;

/// The caller's identity when the request carries a valid token, else why not: for an answer
/// that is public but shows more to some roles.
pub(crate) struct MaybeIdentity(pub Result<auth::Identity, auth::AuthError>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeIdentity {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(Self(auth::Identity::from_request_parts(parts, state).await))
    }
}

/// The path parameters of a route, as text; a segment that does not decode (`%FF`) is a 400
/// naming the parameter, like a malformed id.
pub(crate) struct PathParams<T>(pub T);

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
    let code = match key {
        Some("event_id") => "invalid_event_id",
        Some("section_id") => "invalid_section_id",
        Some("hold_id") => "invalid_hold_id",
        Some("order_id") => "invalid_order_id",
        Some("customer_id") => "invalid_customer_id",
        _ => "invalid_path",
    };
    let message = match key {
        Some(key) => format!("{key} in the path is malformed"),
        None => "the path is malformed".to_owned(),
    };
    ApiError::bad_request(code, message)
}
