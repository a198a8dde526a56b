//! `Authorization: Bearer <token>` as an axum extractor: a handler that takes an [`Identity`]
//! runs only for a caller with a valid token. The router carries the verifier ([`layer`]).
//!
//! The header is read here and nowhere else, and neither it nor the token is logged: the request
//! span records the method, the route and the status only.

use crate::claims::Identity;
use crate::error::AuthError;
use crate::verifier::Verifier;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The layer that hands `verifier` to the [`Identity`] extractor: `router.layer(auth::layer(v))`.
pub fn layer(verifier: Verifier) -> axum::Extension<Verifier> {
    axum::Extension(verifier)
}

/// The bearer token of a request, when the header is there.
fn bearer(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AuthError> {
        // A router without the layer accepts nobody rather than everybody.
        let verifier = parts
            .extensions
            .get::<Verifier>()
            .ok_or(AuthError::Invalid)?;
        verifier.verify(bearer(parts)?)
    }
}

/// The API's JSON error, with the `WWW-Authenticate` challenge on a 401. Services that map
/// errors themselves use [`AuthError::status`], [`AuthError::code`] and [`AuthError::challenge`].
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        let body = serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string() }
        });
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(challenge) = self.challenge() {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Role;
    use crate::issuer::Issuer;
    use crate::secret::Secret;
    use std::time::Duration;

    const SECRET: &str = "extractor-test-secret-of-32-bytes-or-more";

    async fn extract(authorization: Option<&str>, with_layer: bool) -> Result<Identity, AuthError> {
        let secret: Secret = SECRET.parse().unwrap();
        let mut request = axum::http::Request::builder().uri("/");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        if with_layer {
            parts.extensions.insert(Verifier::new(&secret, None));
        }
        Identity::from_request_parts(&mut parts, &()).await
    }

    fn token() -> String {
        Issuer::new(&SECRET.parse().unwrap(), None).mint(
            "alice",
            &[Role::Customer],
            Duration::from_secs(60),
        )
    }

    #[tokio::test]
    async fn a_bearer_token_is_read_whatever_the_scheme_s_case() {
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let identity = extract(Some(&format!("{scheme} {}", token())), true)
                .await
                .unwrap();
            assert_eq!(identity.subject(), "alice");
        }
    }

    #[tokio::test]
    async fn a_missing_or_malformed_header_is_unauthenticated() {
        assert_eq!(extract(None, true).await, Err(AuthError::Missing));
        let basic = "Basic YWxpY2U6c2VjcmV0";
        assert_eq!(extract(Some(basic), true).await, Err(AuthError::Malformed));
        assert_eq!(
            extract(Some("Bearer "), true).await,
            Err(AuthError::Malformed)
        );
        assert_eq!(
            extract(Some(&token()), true).await,
            Err(AuthError::Malformed)
        );
    }

    #[tokio::test]
    async fn without_the_layer_nobody_gets_in() {
        let header = format!("Bearer {}", token());
        assert_eq!(extract(Some(&header), false).await, Err(AuthError::Invalid));
    }

    #[tokio::test]
    async fn a_401_carries_a_bearer_challenge_and_the_json_error() {
        let response = AuthError::Expired.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        let forbidden = AuthError::Forbidden {
            needed: Role::Operator,
        }
        .into_response();
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        assert!(forbidden.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
