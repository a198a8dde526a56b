//! Minting tokens: for the token CLI, the load generator and the tests. A service only verifies.

use crate::claims::{Claims, Role, DEFAULT_AUDIENCE};
use crate::secret::Secret;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Signs claims with the shared secret (HS256).
#[derive(Clone)]
pub struct Issuer {
    key: EncodingKey,
    issuer: Option<String>,
    audience: String,
}

/// Seconds since the Unix epoch, as `exp` and `iat` count them.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Issuer {
    /// An issuer signing with `secret`; with `issuer`, every token carries it as `iss`.
    pub fn new(secret: &Secret, issuer: Option<String>) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.bytes()),
            issuer,
            audience: DEFAULT_AUDIENCE.to_owned(),
        }
    }

    /// The same issuer minting for another audience.
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.audience = audience.to_owned();
        self
    }

    /// A token for `subject` with `roles`, valid for `ttl` from now.
    pub fn mint(&self, subject: &str, roles: &[Role], ttl: Duration) -> String {
        let iat = now();
        self.mint_claims(&Claims {
            sub: subject.to_owned(),
            roles: roles.to_vec(),
            // Saturating: an absurd ttl gives a token the verifier refuses for its lifetime,
            // never an `exp` that wrapped around into the past or a panic.
            exp: iat.saturating_add(ttl.as_secs()),
            iat,
            iss: self.issuer.clone(),
            aud: Some(self.audience.clone()),
        })
    }

    /// A token carrying exactly `claims` (tests mint expired ones with it).
    pub fn mint_claims(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.key)
            .expect("HS256 signing of serialisable claims with a non-empty key does not fail")
    }
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}
