//! Minting tokens: for the token CLI, the load generator and the tests. A service only verifies.
//!
//! An issuer signs with an Ed25519 private key (EdDSA, its `kid` in the header) or with the
//! shared HS256 secret (no `kid`: there is one secret).

use crate::claims::{Claims, Role, DEFAULT_AUDIENCE};
use crate::secret::Secret;
use crate::signing_key::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Signs claims with a private key (EdDSA) or the shared secret (HS256).
#[derive(Clone)]
pub struct Issuer {
    key: EncodingKey,
    header: Header,
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
    /// An issuer signing with `secret` (HS256); with `issuer`, every token carries it as `iss`.
    pub fn new(secret: &Secret, issuer: Option<String>) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.bytes()),
            header: Header::new(Algorithm::HS256),
            issuer,
            audience: DEFAULT_AUDIENCE.to_owned(),
        }
    }

    /// An issuer signing with the private `key` (EdDSA): every token names the key by its `kid`.
    pub fn with_key(key: &SigningKey, issuer: Option<String>) -> Self {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        Self {
            key: key.encoding_key().clone(),
            header,
            issuer,
            audience: DEFAULT_AUDIENCE.to_owned(),
        }
    }

    /// The `kid` its tokens carry (none for HS256).
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
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
        jsonwebtoken::encode(&self.header, claims, &self.key)
            .expect("signing serialisable claims with a key checked at load does not fail")
    }
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("algorithm", &self.header.alg)
            .field("kid", &self.header.kid)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}
