//! A fixed secret for tests, so that a test's services and its client agree without setup.
//! It is public in this repository: never configure a deployment with it.

use crate::claims::Role;
use crate::config::AuthConfig;
use crate::issuer::Issuer;
use crate::secret::Secret;
use std::time::Duration;

/// The tests' secret (known to everyone, hence for tests only).
pub const SECRET: &str = "ticketview-tests-only-this-secret-is-public-0123456789";

/// How long a test token lives: longer than any test.
pub const TOKEN_TTL: Duration = Duration::from_secs(3600);

pub fn secret() -> Secret {
    SECRET.parse().expect("the test secret is long enough")
}

/// Token settings with the tests' secret and no issuer check.
pub fn config() -> AuthConfig {
    AuthConfig::with_secret(secret())
}

pub fn issuer() -> Issuer {
    Issuer::new(&secret(), None)
}

/// A customer's token for the tests: subject `customer`, role customer.
pub fn customer_token(customer: &str) -> String {
    issuer().mint(customer, &[Role::Customer], TOKEN_TTL)
}

/// An operator's token for the tests: subject `operator`, role operator.
pub fn operator_token() -> String {
    issuer().mint("operator", &[Role::Operator], TOKEN_TTL)
}

/// The tests' admission secret (public too; not the bearer tokens' secret).
pub const ADMISSION_SECRET: &str = "ticketview-tests-only-admission-secret-is-public-987654";

/// Admission settings with the tests' admission secret.
pub fn admission_config() -> crate::AdmissionConfig {
    crate::AdmissionConfig::with_secret(ADMISSION_SECRET.parse().expect("long enough"))
}

/// An admission of `customer` to `event_id` from `iat` to `exp` (Unix seconds), signed with the
/// tests' admission secret.
pub fn admission_token(customer: &str, event_id: &str, iat: i64, exp: i64) -> String {
    crate::AdmissionKey::new(&ADMISSION_SECRET.parse().expect("long enough")).sign(
        &crate::AdmissionTokenClaims::new(customer, event_id, iat, exp),
    )
}
