//! Verification: signature (HS256 only), expiry, audience, lifetime and, when configured, the
//! issuer.

use crate::claims::{Claims, Identity, DEFAULT_AUDIENCE, MAX_TOKEN_LIFETIME_SECONDS};
use crate::error::AuthError;
use crate::secret::Secret;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::sync::Arc;

/// Seconds of clock difference between an issuer and a service that an expiry tolerates.
const LEEWAY_SECONDS: u64 = 30;

/// Checks tokens against the shared secret. Cheap to clone (one allocation behind a pointer).
#[derive(Clone)]
pub struct Verifier(Arc<Inner>);

struct Inner {
    key: DecodingKey,
    validation: Validation,
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
        // Only HS256: a token naming another algorithm (`none`, or RS256 with the secret posing
        // as a public key) is refused, whatever its header says.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_audience(&[audience]);
        let mut required = vec!["exp", "sub", "aud"];
        if let Some(issuer) = issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Self(Arc::new(Inner {
            key: DecodingKey::from_secret(secret.bytes()),
            validation,
            issuer: issuer.map(str::to_owned),
        }))
    }

    /// The identity a token stands for, or why it stands for none.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        match jsonwebtoken::decode::<Claims>(token, &self.0.key, &self.0.validation) {
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

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithm", &"HS256")
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
