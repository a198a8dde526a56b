//! Who is calling, from the request's bearer token: an [`Operator`] for catalog commands, a
//! [`Customer`] for holds and orders. The customer is the token's subject, never the body's
//! `customer_id`; a body that still names one must name the same customer.

use super::error::ApiError;
use auth::{Identity, Role};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use domain::ids::CustomerId;

/// The caller's identity: the one the rate limits already verified ([`super::rate`]), else its
/// token verified now.
async fn identity<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<Identity, ApiError> {
    if let Some(super::rate::Verified(identity)) = parts.extensions.get() {
        return Ok(identity.clone());
    }
    Ok(Identity::from_request_parts(parts, state).await?)
}

/// A caller with the operator role.
pub struct Operator;

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let identity = identity(parts, state).await?;
        identity.require(Role::Operator)?;
        Ok(Self)
    }
}

/// A caller at the gate: the scanner role, or the operator's; its token's subject names it.
pub struct Scanner(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Scanner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let identity = identity(parts, state).await?;
        if !identity.has(Role::Operator) {
            identity.require(Role::Scanner)?;
        }
        Ok(Self(identity.subject().to_owned()))
    }
}

/// A caller with the customer role: the customer the token's subject names.
pub struct Customer(pub CustomerId);

impl<S: Send + Sync> FromRequestParts<S> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let identity = identity(parts, state).await?;
        identity.require(Role::Customer)?;
        let customer = CustomerId::parse(identity.subject()).map_err(|_| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the token's subject is not a customer id (1 to 64 letters, digits and - _ . : @)",
            )
        })?;
        Ok(Self(customer))
    }
}

impl Customer {
    /// The customer the request acts for. The body's `customer_id` is optional (API.md still
    /// shows it); when given, it must be the token's subject, or the request is refused (403).
    pub fn acting_as(self, in_body: Option<&str>) -> Result<CustomerId, ApiError> {
        let Some(in_body) = in_body else {
            return Ok(self.0);
        };
        let named = CustomerId::parse(in_body)?;
        match named == self.0 {
            true => Ok(self.0),
            false => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "customer_mismatch",
                "customer_id in the body is not the customer of the bearer token; leave it out",
            )),
        }
    }
}
