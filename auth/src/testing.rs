//! A fixed secret and a fixed key pair for tests, so that a test's services and its client agree
//! without setup. They are public in this repository: never configure a deployment with them.

use crate::claims::Role;
use crate::config::AuthConfig;
use crate::issuer::Issuer;
use crate::public_keys::PublicKeys;
use crate::secret::Secret;
use crate::signing_key::SigningKey;
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

/// The tests' ticket key (public too; no other secret of the tests).
pub const TICKET_SECRET: &str = "ticketview-tests-only-ticket-key-is-public-5647382910";

/// Ticket key settings with the tests' ticket key.
pub fn ticket_secret_config() -> crate::TicketSecretConfig {
    crate::TicketSecretConfig::with_secret(TICKET_SECRET.parse().expect("long enough"))
}

/// A scanner's token for the tests: subject `scanner`, role scanner.
pub fn scanner_token(scanner: &str) -> String {
    issuer().mint(scanner, &[Role::Scanner], TOKEN_TTL)
}

/// The seed of the tests' Ed25519 key (public, like [`SECRET`]).
const SIGNING_SEED: [u8; 32] = *b"ticketview-tests-only-ed25519-k1";

/// The tests' Ed25519 private key.
pub fn signing_key() -> SigningKey {
    SigningKey::from_seed(&SIGNING_SEED)
}

/// The set holding the public half of [`signing_key`].
pub fn public_keys() -> PublicKeys {
    [signing_key().public_key().clone()].into_iter().collect()
}

/// Token settings of a verifier holding only the tests' public key (no secret).
pub fn public_keys_config() -> AuthConfig {
    AuthConfig {
        public_keys: Some(public_keys().to_json()),
        ..AuthConfig::default()
    }
}
