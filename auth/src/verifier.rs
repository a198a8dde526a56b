//! Verification: signature, expiry, audience, lifetime and, when configured, the issuer.
//!
//! The key is chosen by the token's header, among the keys configured and no others: `EdDSA`
//! with a `kid` of the public key set, or `HS256` when a shared secret is configured. A token
//! whose `kid` is in no set, or that names another algorithm (`none`, `RS256`, `HS256` on a
//! verifier without a secret), is invalid like a bad signature; an HS256 token is checked
//! against the secret, never against a public key's bytes.

use crate::claims::{Claims, Identity, DEFAULT_AUDIENCE, MAX_TOKEN_LIFETIME_SECONDS};
use crate::error::AuthError;
use crate::public_keys::PublicKeys;
use crate::secret::Secret;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::collections::HashMap;
use std::sync::Arc;

/// Seconds of clock difference between an issuer and a service that an expiry tolerates.
const LEEWAY_SECONDS: u64 = 30;

/// Checks tokens against the configured keys. Cheap to clone (one allocation behind a pointer).
#[derive(Clone)]
pub struct Verifier(Arc<Inner>);

struct Inner {
    /// The shared HS256 secret, when one is configured.
    shared: Option<DecodingKey>,
    /// Ed25519 public keys by `kid`.
    public: HashMap<String, DecodingKey>,
    hs256: Validation,
    eddsa: Validation,
    issuer: Option<String>,
}

impl Verifier {
    /// A verifier of tokens signed with `secret` for the default audience; with `issuer`, only
    /// tokens whose `iss` is it.
    pub fn new(secret: &Secret, issuer: Option<&str>) -> Self {
        Self::for_audience(secret, issuer, DEFAULT_AUDIENCE)
    }

    /// [`Verifier::new`] for tokens whose `aud` is `audience`.
    pub fn for_audience(secret: &Secret, issuer: Option<&str>, audience: &str) -> Self {
        Self::with_keys(Some(secret), &PublicKeys::default(), issuer, audience)
    }

    /// A verifier of tokens signed with one of the private keys of `keys` (EdDSA) or, when there
    /// is one, with `secret` (HS256: while issuers move from the secret to keys).
    pub fn with_keys(
        secret: Option<&Secret>,
        keys: &PublicKeys,
        issuer: Option<&str>,
        audience: &str,
    ) -> Self {
        Self(Arc::new(Inner {
            shared: secret.map(|secret| DecodingKey::from_secret(secret.bytes())),
            public: keys
                .iter()
                .map(|key| (key.kid().to_owned(), key.decoding_key()))
                .collect(),
            hs256: validation(Algorithm::HS256, issuer, audience),
            eddsa: validation(Algorithm::EdDSA, issuer, audience),
            issuer: issuer.map(str::to_owned),
        }))
    }

    /// The identity a token stands for, or why it stands for none.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let (key, validation) = match header.alg {
            Algorithm::EdDSA => (
                header.kid.as_deref().and_then(|kid| self.0.public.get(kid)),
                &self.0.eddsa,
            ),
            Algorithm::HS256 => (self.0.shared.as_ref(), &self.0.hs256),
            _ => (None, &self.0.hs256),
        };
        let key = key.ok_or(AuthError::Invalid)?;
        match jsonwebtoken::decode::<Claims>(token, key, validation) {
            Ok(data)
                if data.claims.exp.saturating_sub(data.claims.iat) > MAX_TOKEN_LIFETIME_SECONDS =>
            {
                Err(AuthError::Invalid)
            }
            Ok(data) => Ok(Identity::from_claims(data.claims)),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(AuthError::Expired),
            Err(_) => Err(AuthError::Invalid),
        }
    }
}

/// The checks of a token signed with `algorithm`: that algorithm only, whatever the header says
/// (the header chose the key; this makes the library check it again), the claims every token
/// needs, the audience and the issuer.
fn validation(algorithm: Algorithm, issuer: Option<&str>, audience: &str) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECONDS;
    validation.set_audience(&[audience]);
    let mut required = vec!["exp", "sub", "aud"];
    if let Some(issuer) = issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    validation.set_required_spec_claims(&required);
    validation
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.0.public.keys().collect();
        kids.sort();
        f.debug_struct("Verifier")
            .field("hs256", &self.0.shared.is_some())
            .field("eddsa_kids", &kids)
            .field("issuer", &self.0.issuer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Role;
    use crate::issuer::{now, Issuer};
    use std::time::Duration;

    fn secret(text: &str) -> Secret {
        text.parse().unwrap()
    }

    const OURS: &str = "our-own-secret-of-at-least-32-bytes-0001";
    const THEIRS: &str = "someone-else-s-secret-at-least-32-bytes-02";

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "alice".into(),
            roles: vec![Role::Customer],
            exp,
            iat: now(),
            iss: None,
            aud: Some(DEFAULT_AUDIENCE.into()),
        }
    }

    #[test]
    fn a_token_minted_with_the_secret_verifies_to_its_subject_and_roles() {
        let issuer = Issuer::new(&secret(OURS), None);
        let token = issuer.mint("alice", &[Role::Customer], Duration::from_secs(60));
        let identity = Verifier::new(&secret(OURS), None).verify(&token).unwrap();
        assert_eq!(identity.subject(), "alice");
        assert!(identity.has(Role::Customer));
        assert!(!identity.has(Role::Operator));
    }

    #[test]
    fn a_token_for_another_audience_or_for_none_is_invalid() {
        let theirs = Issuer::new(&secret(OURS), None).with_audience("someone-else");
        let token = theirs.mint("alice", &[Role::Customer], Duration::from_secs(60));
        let verifier = Verifier::new(&secret(OURS), None);
        assert_eq!(verifier.verify(&token), Err(AuthError::Invalid));
        let mut without = claims(now() + 60);
        without.aud = None;
        let token = Issuer::new(&secret(OURS), None).mint_claims(&without);
        assert_eq!(verifier.verify(&token), Err(AuthError::Invalid));
        let ours = Verifier::for_audience(&secret(OURS), None, "someone-else");
        let token = theirs.mint("alice", &[Role::Customer], Duration::from_secs(60));
        assert_eq!(ours.verify(&token).unwrap().subject(), "alice");
    }

    #[test]
    fn a_token_living_longer_than_a_day_is_invalid_and_an_hour_is_always_fine() {
        let issuer = Issuer::new(&secret(OURS), None);
        let verifier = Verifier::new(&secret(OURS), None);
        let hour = issuer.mint("alice", &[Role::Customer], Duration::from_secs(3600));
        assert!(verifier.verify(&hour).is_ok());
        let day = Duration::from_secs(crate::claims::MAX_TOKEN_LIFETIME_SECONDS);
        let longer = issuer.mint("alice", &[Role::Customer], day + Duration::from_secs(1));
        assert_eq!(verifier.verify(&longer), Err(AuthError::Invalid));
    }

    #[test]
    fn an_absurd_ttl_neither_overflows_nor_verifies() {
        let issuer = Issuer::new(&secret(OURS), None);
        let token = issuer.mint("alice", &[Role::Customer], Duration::from_secs(u64::MAX));
        let verifier = Verifier::new(&secret(OURS), None);
        assert_eq!(verifier.verify(&token), Err(AuthError::Invalid));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() {
        let forged = Issuer::new(&secret(THEIRS), None).mint(
            "alice",
            &[Role::Operator],
            Duration::from_secs(60),
        );
        let verifier = Verifier::new(&secret(OURS), None);
        assert_eq!(verifier.verify(&forged), Err(AuthError::Invalid));
    }

    #[test]
    fn a_token_whose_claims_were_edited_after_signing_is_invalid() {
        let token = Issuer::new(&secret(OURS), None).mint(
            "alice",
            &[Role::Customer],
            Duration::from_secs(60),
        );
        let mut parts: Vec<&str> = token.split('.').collect();
        // Another subject and role under alice's signature.
        let mut other = claims(now() + 60);
        other.sub = "mallory".into();
        other.roles = vec![Role::Operator];
        let payload = base64_url::encode(&serde_json::to_vec(&other).unwrap());
        parts[1] = &payload;
        let tampered = parts.join(".");
        let verifier = Verifier::new(&secret(OURS), None);
        assert_eq!(verifier.verify(&tampered), Err(AuthError::Invalid));
    }

    #[test]
    fn an_expired_token_is_expired_and_one_inside_the_leeway_is_not() {
        let issuer = Issuer::new(&secret(OURS), None);
        let verifier = Verifier::new(&secret(OURS), None);
        let expired = issuer.mint_claims(&claims(now() - LEEWAY_SECONDS - 60));
        assert_eq!(verifier.verify(&expired), Err(AuthError::Expired));
        let just_past = issuer.mint_claims(&claims(now() - 1));
        assert!(verifier.verify(&just_past).is_ok());
    }

    #[test]
    fn a_configured_issuer_is_required() {
        let verifier = Verifier::new(&secret(OURS), Some("ticketview"));
        let ours = Issuer::new(&secret(OURS), Some("ticketview".into()));
        let other = Issuer::new(&secret(OURS), Some("elsewhere".into()));
        let none = Issuer::new(&secret(OURS), None);
        let ttl = Duration::from_secs(60);
        assert!(verifier
            .verify(&ours.mint("a", &[Role::Customer], ttl))
            .is_ok());
        assert_eq!(
            verifier.verify(&other.mint("a", &[Role::Customer], ttl)),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            verifier.verify(&none.mint("a", &[Role::Customer], ttl)),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn an_unsigned_token_and_garbage_are_invalid() {
        let verifier = Verifier::new(&secret(OURS), None);
        let header = base64_url::encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = base64_url::encode(&serde_json::to_vec(&claims(now() + 60)).unwrap());
        assert_eq!(
            verifier.verify(&format!("{header}.{payload}.")),
            Err(AuthError::Invalid)
        );
        for garbage in ["", "a.b.c", "not a token", "...."] {
            assert_eq!(
                verifier.verify(garbage),
                Err(AuthError::Invalid),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn a_verifier_s_debug_output_holds_no_secret() {
        let verifier = Verifier::new(&secret(OURS), Some("ticketview"));
        let shown = format!("{verifier:?}");
        assert!(!shown.contains(OURS), "{shown}");
        assert!(shown.contains("ticketview"), "{shown}");
    }

    /// Unpadded URL-safe base64, as JWTs use, for hand-made tokens.
    mod base64_url {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        pub fn encode(bytes: &[u8]) -> String {
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
                for i in 0..=chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                }
            }
            out
        }
    }
}
