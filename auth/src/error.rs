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

/// A configuration that gives no usable key. The message names the variable to set.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no key to verify tokens with: set TV_JWT_PUBLIC_KEYS_FILE to the issuers' public keys \
         (a JWKS file; `tv-keys generate DIR` writes one), or TV_JWT_SECRET_FILE to a file \
         holding the HS256 secret shared with every issuer (at least 32 random bytes; \
         TV_JWT_SECRET for the secret itself)"
    )]
    NoVerificationKey,
    #[error(
        "no key to sign tokens with: set TV_JWT_PRIVATE_KEY_FILE to an Ed25519 private key \
         (PKCS#8 PEM; `tv-keys generate DIR` writes one) whose public key the services hold, or \
         TV_JWT_SECRET_FILE to the services' HS256 secret (TV_JWT_SECRET for the secret itself)"
    )]
    NoSigningKey,
    #[error(
        "both an Ed25519 private key (TV_JWT_PRIVATE_KEY_FILE) and an HS256 secret \
         (TV_JWT_SECRET_FILE) are set: tokens are signed with one key; keep one"
    )]
    TwoSigningKeys,
    #[error("both {value} and {file} are set: keep one")]
    BothSet {
        value: &'static str,
        file: &'static str,
    },
    #[error(
        "{variable} holds a secret of {length} bytes; it needs at least 32 random ones \
         (for example: head -c 32 /dev/urandom | base64 > FILE, then set {file_variable}=FILE)"
    )]
    SecretTooShort {
        variable: &'static str,
        file_variable: &'static str,
        length: usize,
    },
    #[error(
        "{variable} holds a published default or placeholder secret, which anyone can sign \
         tokens with: generate one of your own (head -c 32 /dev/urandom | base64 > FILE, then \
         set {file_variable}=FILE)"
    )]
    KnownSecret {
        variable: &'static str,
        file_variable: &'static str,
    },
    #[error(
        "the admission secret is the bearer tokens' secret: give TV_ADMISSION_SECRET_FILE a key of \
         its own (head -c 32 /dev/urandom | base64 > .data/admission-secret)"
    )]
    SharedAdmissionSecret,
    #[error(
        "no ticket key: set TV_TICKET_SECRET_FILE to a file of at least 32 random bytes \
         (python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > .data/ticket-secret); \
         ticket codes are signed with it"
    )]
    NoTicketSecret,
    #[error(
        "the ticket key is the bearer tokens' or the admission tokens' secret: give \
         TV_TICKET_SECRET_FILE a key of its own"
    )]
    SharedTicketSecret,
    #[error("reading {variable} ({path}): {source}")]
    File {
        variable: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{variable} is not an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----): \
         {reason}; `tv-keys generate DIR` writes one"
    )]
    PrivateKey {
        variable: &'static str,
        reason: String,
    },
    #[error(
        "{variable} is not a usable set of public keys (a JWKS: {{\"keys\": [{{\"kty\": \"OKP\", \
         \"crv\": \"Ed25519\", \"x\": ..., \"kid\": ...}}]}}): {reason}"
    )]
    PublicKeys {
        variable: &'static str,
        reason: String,
    },
    #[error("generating a key: {0}")]
    Generate(String),
}
