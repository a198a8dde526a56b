//! Who is calling: bearer tokens (JWT) checked by command-svc, query-svc and the waiting room,
//! minted by tv-token, the load generator and the tests.
//!
//! A token carries [`Claims`]: the subject (`sub`, a customer id or an operator's name), its
//! [`Role`]s, when it was issued and when it expires, and optionally its issuer. A [`Verifier`]
//! checks the signature, the expiry and the issuer and turns a token into an [`Identity`]; an
//! [`Issuer`] mints tokens. Both are built from [`AuthConfig`], never from a default: issuers
//! sign with an Ed25519 private key ([`SigningKey`], EdDSA, its `kid` in the header) and services
//! hold only the public keys ([`PublicKeys`], a JWKS, old and new during a rotation); or all of
//! them share an HS256 [`Secret`], which is refused when short or published
//! ([`KNOWN_SECRETS`]) and never prints itself. [`Identity`] is also an axum extractor for
//! `Authorization: Bearer <token>` (the router carries the verifier as an extension, [`layer`]).
//!
//! Boundaries: this crate says who the caller is and which roles it has; what a role may do, and
//! whether a hold or an order is the caller's, is for the services and the domain to decide.

mod admission;
mod claims;
mod config;
mod error;
mod extract;
mod issuer;
mod known_secrets;
mod public_keys;
mod secret;
mod signing_key;
pub mod testing;
mod ticket_secret;
mod verifier;

pub use admission::{
    AdmissionConfig, AdmissionKey, AdmissionTokenClaims, InvalidAdmission,
    AUDIENCE as ADMISSION_AUDIENCE,
};
pub use claims::{Claims, Identity, Role, DEFAULT_AUDIENCE, MAX_TOKEN_LIFETIME_SECONDS};
pub use config::AuthConfig;
pub use error::{AuthError, ConfigError};
pub use extract::layer;
pub use issuer::Issuer;
pub use known_secrets::{KNOWN_SECRETS, PLACEHOLDER_WORDS};
pub use public_keys::{PublicKey, PublicKeys};
pub use secret::Secret;
pub use signing_key::SigningKey;
pub use ticket_secret::TicketSecretConfig;
pub use verifier::Verifier;
