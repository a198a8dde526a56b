//! Admission tokens: what a waiting room signs when it admits a customer to an event's sale, and
//! what command-svc verifies offline on every hold of that event (header `Admission: <token>`).
//!
//! They are signed with a key of their own (`TV_ADMISSION_SECRET_FILE`, or
//! `TV_ADMISSION_SECRET`), never the bearer tokens' secret, and carry an audience of their own
//! ([`AUDIENCE`]): a customer's bearer token is never taken for an admission, nor an admission for
//! a bearer token. Verification here is the signature, the audience and the claims' shape; expiry
//! is deliberately not checked, because whether an admission is still live is the domain's
//! decision at the hold's own `now` (`admission_expired`, after `not_admitted` for a token of
//! another customer or event).

use crate::config::AuthConfig;
use crate::error::ConfigError;
use crate::secret::{self, Secret};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// The audience of every admission token.
pub const AUDIENCE: &str = "ticketview-admission";

/// What an admission token says: who (`sub`) may buy for which event, from `iat` until `exp`
/// (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionTokenClaims {
    pub sub: String,
    pub event_id: String,
    pub iat: i64,
    pub exp: i64,
    aud: String,
}

impl AdmissionTokenClaims {
    pub fn new(customer: &str, event_id: &str, iat: i64, exp: i64) -> Self {
        Self {
            sub: customer.to_owned(),
            event_id: event_id.to_owned(),
            iat,
            exp,
            aud: AUDIENCE.to_owned(),
        }
    }
}

/// A token that is not an admission signed with our key (forged, edited, another audience, not
/// a JWT). Which of these is not said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the admission token is not valid here")]
pub struct InvalidAdmission;

/// The admission key: signs (the waiting room) and verifies (command-svc). Cheap to clone.
#[derive(Clone)]
pub struct AdmissionKey(Arc<Inner>);

struct Inner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl AdmissionKey {
    pub fn new(secret: &Secret) -> Self {
        // HS256 only, whatever the token's header names; expiry is the domain's to judge.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["sub", "exp", "aud"]);
        Self(Arc::new(Inner {
            encoding: EncodingKey::from_secret(secret.bytes()),
            decoding: DecodingKey::from_secret(secret.bytes()),
            validation,
        }))
    }

    pub fn sign(&self, claims: &AdmissionTokenClaims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.0.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<AdmissionTokenClaims, InvalidAdmission> {
        jsonwebtoken::decode::<AdmissionTokenClaims>(token, &self.0.decoding, &self.0.validation)
            .map(|data| data.claims)
            .map_err(|_| InvalidAdmission)
    }
}

impl std::fmt::Debug for AdmissionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmissionKey")
            .field("algorithm", &"HS256")
            .finish_non_exhaustive()
    }
}

/// Where the admission key comes from, flattened into a binary's clap configuration. Optional:
/// a deployment without waiting rooms needs none, and then every hold of an event sold through a
/// waiting room is refused as not admitted.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AdmissionConfig {
    /// The admission tokens' HS256 secret itself (prefer --admission-secret-file). Hidden.
    #[arg(
        id = "admission_secret",
        long = "admission-secret",
        env = "TV_ADMISSION_SECRET",
        hide = true,
        hide_env_values = true,
        value_parser = Secret::unchecked
    )]
    pub secret: Option<Secret>,
    /// A file holding the secret that signs admission tokens (at least 32 random bytes, not a
    /// published default, not the bearer tokens' secret).
    #[arg(
        id = "admission_secret_file",
        long = "admission-secret-file",
        env = "TV_ADMISSION_SECRET_FILE",
        value_name = "PATH"
    )]
    pub secret_file: Option<PathBuf>,
}

impl AdmissionConfig {
    pub fn with_secret(secret: Secret) -> Self {
        Self {
            secret: Some(secret),
            secret_file: None,
        }
    }

    /// The configured key, `None` when there is none; refused when it is short, published, or
    /// the bearer tokens' secret (`bearer`'s): one leaked key must not let anyone mint both.
    pub fn key(&self, bearer: &AuthConfig) -> Result<Option<AdmissionKey>, ConfigError> {
        let value = self.secret.as_ref().filter(|s| !s.bytes().is_empty());
        let file = self
            .secret_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty());
        let Some(secret) = Secret::configured(value, file, secret::ADMISSION)? else {
            return Ok(None);
        };
        if bearer.shared_secret()?.as_ref() == Some(&secret) {
            return Err(ConfigError::SharedAdmissionSecret);
        }
        Ok(Some(AdmissionKey::new(&secret)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "admission-key-for-these-tests-0123456789";
    const OTHER: &str = "another-admission-key-for-tests-98765432";

    fn key(text: &str) -> AdmissionKey {
        AdmissionKey::new(&text.parse().unwrap())
    }

    #[test]
    fn a_signed_admission_verifies_to_its_claims_even_after_exp() {
        let claims = AdmissionTokenClaims::new("alice", "e1", 100, 160);
        let token = key(KEY).sign(&claims);
        assert_eq!(key(KEY).verify(&token), Ok(claims));
    }

    #[test]
    fn a_forged_or_edited_admission_is_invalid() {
        let claims = AdmissionTokenClaims::new("alice", "e1", 100, i64::MAX / 2);
        let forged = key(OTHER).sign(&claims);
        assert_eq!(key(KEY).verify(&forged), Err(InvalidAdmission));
        // Alice's signature over mallory's claims (taken from a token signed by someone else).
        let token = key(KEY).sign(&claims);
        let mallory = key(OTHER).sign(&AdmissionTokenClaims::new(
            "mallory",
            "e1",
            100,
            i64::MAX / 2,
        ));
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = mallory.split('.').nth(1).unwrap();
        assert_eq!(key(KEY).verify(&parts.join(".")), Err(InvalidAdmission));
        assert_eq!(key(KEY).verify("not a token"), Err(InvalidAdmission));
    }

    #[test]
    fn a_bearer_token_signed_with_the_same_bytes_is_no_admission() {
        let bearer = crate::Issuer::new(&KEY.parse().unwrap(), None).mint(
            "alice",
            &[crate::Role::Customer],
            std::time::Duration::from_secs(60),
        );
        assert_eq!(key(KEY).verify(&bearer), Err(InvalidAdmission));
    }

    #[test]
    fn the_admission_key_must_not_be_the_bearer_tokens_secret() {
        let bearer = |text: &str| AuthConfig::with_secret(text.parse().unwrap());
        let config = AdmissionConfig::with_secret(KEY.parse().unwrap());
        let error = config.key(&bearer(KEY)).unwrap_err();
        assert!(matches!(error, ConfigError::SharedAdmissionSecret));
        assert!(config.key(&bearer(OTHER)).unwrap().is_some());
        assert!(AdmissionConfig::default()
            .key(&bearer(OTHER))
            .unwrap()
            .is_none());
    }

    #[test]
    fn an_admission_key_beside_bearer_public_keys_needs_no_bearer_secret() {
        let bearer = crate::testing::public_keys_config();
        let config = AdmissionConfig::with_secret(KEY.parse().unwrap());
        assert!(config.key(&bearer).unwrap().is_some());
    }

    #[test]
    fn compose_s_old_admission_default_is_refused_naming_the_variable() {
        let config = AdmissionConfig {
            secret: Some(
                Secret::unchecked("ticketview-development-admission-key-not-for-production")
                    .unwrap(),
            ),
            secret_file: None,
        };
        let message = config
            .key(&AuthConfig::with_secret(OTHER.parse().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("TV_ADMISSION_SECRET holds a published default"),
            "{message}"
        );
    }
}
