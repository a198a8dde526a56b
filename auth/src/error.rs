//! Why a request is not authenticated or not allowed, and why a configuration has no usable secret.

use crate::claims::Role;
use std::path::PathBuf;

/// A request the token does not let through: 401 (who are you?) or 403 (not you, not this).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("this request needs a token: send Authorization: Bearer <token>")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("the token has expired; get a new one")]
    Expired,
    /// A bad signature, a wrong issuer, a token that is not a JWT or lacks a claim. Which one is
    /// not said: a forger learns nothing from the answer.
    #[error("the token is not valid here")]
    Invalid,
    #[error("this request needs the {} role", .needed.as_str())]
    Forbidden { needed: Role },
}

impl AuthError {
    /// 401 for a caller who is not authenticated, 403 for one without the role.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Forbidden { .. } => 403,
            _ => 401,
        }
    }

    /// The API's stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Forbidden { .. } => "forbidden",
            _ => "unauthenticated",
        }
    }

    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750, section 3).
    pub fn challenge(&self) -> Option<&'static str> {
        match self {
            AuthError::Missing => Some("Bearer realm=\"ticketview\""),
            AuthError::Malformed => Some("Bearer realm=\"ticketview\", error=\"invalid_request\""),
            AuthError::Expired | AuthError::Invalid => {
                Some("Bearer realm=\"ticketview\", error=\"invalid_token\"")
            }
            AuthError::Forbidden { .. } => None,
        }
    }
}

/// A configuration that gives no usable secret. The message names the variable to set.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no token secret is configured: set TV_JWT_SECRET_FILE to a file holding at least 32 \
         random bytes (or TV_JWT_SECRET to the secret itself); every service and token issuer \
         must share it"
    )]
    NoSecret,
    #[error("both TV_JWT_SECRET and TV_JWT_SECRET_FILE are set: keep one")]
    TwoSecrets,
    #[error(
        "the token secret has {length} bytes; it needs at least 32 (for example: \
         head -c 32 /dev/urandom | base64 > .data/jwt-secret)"
    )]
    SecretTooShort { length: usize },
    #[error("both TV_ADMISSION_SECRET and TV_ADMISSION_SECRET_FILE are set: keep one")]
    TwoAdmissionSecrets,
    #[error(
        "the admission secret is the bearer tokens' secret: give TV_ADMISSION_SECRET_FILE a key of \
         its own (head -c 32 /dev/urandom | base64 > .data/admission-secret)"
    )]
    SharedAdmissionSecret,
    #[error("reading the token secret from {path} (TV_JWT_SECRET_FILE): {source}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
}
