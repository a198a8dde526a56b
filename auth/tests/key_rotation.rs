//! Ed25519 keys as an operator uses them: issuers sign with a private key, services hold the
//! public keys, and a rotation goes old key → old and new → new key. Forged key ids and
//! algorithm confusion (an HS256 token keyed with a public key) are refused on the way.

use auth::{AuthError, Claims, Issuer, PublicKeys, Role, Secret, SigningKey, Verifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TTL: Duration = Duration::from_secs(600);
const SHARED: &str = "the-shared-hs256-secret-of-these-tests-0123456789";

fn verifier(keys: &[&SigningKey]) -> Verifier {
    let set: PublicKeys = keys.iter().map(|k| k.public_key().clone()).collect();
    Verifier::with_keys(None, &set, None, auth::DEFAULT_AUDIENCE)
}

fn token(key: &SigningKey, subject: &str) -> String {
    Issuer::with_key(key, None).mint(subject, &[Role::Customer], TTL)
}

fn claims(subject: &str, role: Role) -> Claims {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Claims {
        sub: subject.into(),
        roles: vec![role],
        exp: now + 600,
        iat: now,
        iss: None,
        aud: Some(auth::DEFAULT_AUDIENCE.into()),
    }
}

/// A token signed HS256 with `secret`, its header naming `kid`.
fn hs256(secret: &[u8], kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        &claims("mallory", Role::Operator),
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// The public key of `key` as a JWK `x` (base64url text) and as its 32 raw bytes.
fn public_key_forms(key: &SigningKey) -> (String, Vec<u8>) {
    let set: PublicKeys = [key.public_key().clone()].into_iter().collect();
    let json: serde_json::Value = serde_json::from_str(&set.to_json()).unwrap();
    let x = json["keys"][0]["x"].as_str().unwrap().to_owned();
    let raw = jsonwebtoken::DecodingKey::from_ed_components(&x)
        .unwrap()
        .try_get_as_bytes()
        .unwrap()
        .to_vec();
    assert_eq!(raw.len(), 32);
    (x, raw)
}

#[test]
fn a_token_names_its_key_and_verifies_with_the_public_key_alone() {
    let key = SigningKey::generate().unwrap();
    let token = token(&key, "alice");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(key.kid()));
    let identity = verifier(&[&key]).verify(&token).unwrap();
    assert_eq!(identity.subject(), "alice");
    assert!(identity.has(Role::Customer));
}

#[test]
fn a_rotation_accepts_the_old_key_while_both_are_held_and_refuses_it_once_removed() {
    let old = SigningKey::generate().unwrap();
    let new = SigningKey::generate().unwrap();
    let before = token(&old, "alice");

    // Step 1: the services hold old and new; issuers still sign with old.
    let mut set: PublicKeys = [old.public_key().clone()].into_iter().collect();
    assert!(set.insert(new.public_key().clone()));
    let both = Verifier::with_keys(None, &set, None, auth::DEFAULT_AUDIENCE);
    assert_eq!(both.verify(&before).unwrap().subject(), "alice");

    // Step 2: issuers switch to the new key; tokens of either key are accepted.
    let after = token(&new, "bob");
    assert_eq!(both.verify(&after).unwrap().subject(), "bob");
    assert_eq!(both.verify(&before).unwrap().subject(), "alice");

    // Step 3: the old key leaves the set; its tokens are refused, the new key's are not.
    assert!(set.remove(old.kid()));
    let new_only = Verifier::with_keys(None, &set, None, auth::DEFAULT_AUDIENCE);
    assert_eq!(new_only.verify(&before), Err(AuthError::Invalid));
    assert_eq!(new_only.verify(&after).unwrap().subject(), "bob");
}

#[test]
fn a_token_with_an_unknown_forged_or_missing_kid_is_refused() {
    let ours = SigningKey::generate().unwrap();
    let theirs = SigningKey::generate().unwrap();
    let verifier = verifier(&[&ours]);

    // Signed by a key the service does not hold, under that key's own kid.
    assert_eq!(
        verifier.verify(&token(&theirs, "mallory")),
        Err(AuthError::Invalid)
    );
    // Signed by their key, claiming our kid.
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(ours.kid().to_owned());
    let forged = jsonwebtoken::encode(
        &header,
        &claims("mallory", Role::Operator),
        &EncodingKey::from_ed_der(&pkcs8_der(&theirs)),
    )
    .unwrap();
    assert_eq!(verifier.verify(&forged), Err(AuthError::Invalid));
    // Signed by our key without a kid, and under a kid nobody has.
    for kid in [None, Some("no-such-key")] {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_owned);
        let token = jsonwebtoken::encode(
            &header,
            &claims("alice", Role::Customer),
            &EncodingKey::from_ed_der(&pkcs8_der(&ours)),
        )
        .unwrap();
        assert_eq!(verifier.verify(&token), Err(AuthError::Invalid), "{kid:?}");
    }
}

#[test]
fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    let key = SigningKey::generate().unwrap();
    let (x, raw) = public_key_forms(&key);
    let set: PublicKeys = [key.public_key().clone()].into_iter().collect();
    let jwks = set.to_json();
    let keys_only = verifier(&[&key]);
    let with_secret = Verifier::with_keys(
        Some(&SHARED.parse::<Secret>().unwrap()),
        &set,
        None,
        auth::DEFAULT_AUDIENCE,
    );
    for secret in [x.as_bytes(), &raw, jwks.as_bytes()] {
        for kid in [Some(key.kid()), None] {
            let confused = hs256(secret, kid);
            assert_eq!(keys_only.verify(&confused), Err(AuthError::Invalid));
            assert_eq!(with_secret.verify(&confused), Err(AuthError::Invalid));
        }
    }
}

#[test]
fn a_service_with_public_keys_only_refuses_hs256_and_one_with_both_accepts_both() {
    let key = SigningKey::generate().unwrap();
    let secret: Secret = SHARED.parse().unwrap();
    let hs256_token = Issuer::new(&secret, None).mint("carol", &[Role::Customer], TTL);
    assert_eq!(
        verifier(&[&key]).verify(&hs256_token),
        Err(AuthError::Invalid)
    );

    // During a move from the shared secret to keys, a service may hold both.
    let set: PublicKeys = [key.public_key().clone()].into_iter().collect();
    let both = Verifier::with_keys(Some(&secret), &set, None, auth::DEFAULT_AUDIENCE);
    assert_eq!(both.verify(&hs256_token).unwrap().subject(), "carol");
    assert_eq!(both.verify(&token(&key, "dave")).unwrap().subject(), "dave");
}

#[test]
fn an_eddsa_token_still_needs_its_audience_and_a_short_life() {
    let key = SigningKey::generate().unwrap();
    let verifier = verifier(&[&key]);
    let elsewhere = Issuer::with_key(&key, None).with_audience("someone-else");
    assert_eq!(
        verifier.verify(&elsewhere.mint("alice", &[Role::Customer], TTL)),
        Err(AuthError::Invalid)
    );
    let two_days = Duration::from_secs(2 * 86_400);
    assert_eq!(
        verifier.verify(&token_for(&key, two_days)),
        Err(AuthError::Invalid)
    );
}

fn token_for(key: &SigningKey, ttl: Duration) -> String {
    Issuer::with_key(key, None).mint("alice", &[Role::Customer], ttl)
}

/// The PKCS#8 DER of `key`, from its PEM (what an attacker holding a key of their own has).
fn pkcs8_der(key: &SigningKey) -> Vec<u8> {
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    ed25519_dalek::SigningKey::from_pkcs8_pem(&key.to_pem())
        .unwrap()
        .to_pkcs8_der()
        .unwrap()
        .as_bytes()
        .to_vec()
}
