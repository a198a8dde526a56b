//! Who is calling: bearer tokens (JWT, HS256) shared by command-svc, query-svc, the load
//! generator and the tests.
//!
//! A token carries [`Claims`]: the subject (`sub`, a customer id or an operator's name), its
//! [`Role`]s, when it was issued and when it expires, and optionally its issuer. A [`Verifier`]
//! checks the signature, the expiry and the issuer and turns a token into an [`Identity`]; an
//! [`Issuer`] mints tokens. Both are built from [`AuthConfig`]: the shared secret comes from
//! `TV_JWT_SECRET` or the file named by `TV_JWT_SECRET_FILE`, never from a default, and a
//! [`Secret`] never prints itself. [`Identity`] is also an axum extractor for
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
mod secret;
pub mod testing;
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
pub use secret::Secret;
pub use verifier::Verifier;
