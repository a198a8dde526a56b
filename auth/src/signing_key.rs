//! An Ed25519 private key that signs bearer tokens (EdDSA): read from a PKCS#8 PEM file
//! (`TV_JWT_PRIVATE_KEY_FILE`, what `tv-keys generate` and `openssl genpkey -algorithm ed25519`
//! write) or generated. Only issuers hold one; services hold its public key ([`PublicKey`]).
//!
//! Its key id is the RFC 7638 thumbprint of the public key: an issuer and the verifiers' key set
//! agree on it without anyone naming keys, and a new key always has a new id.

use crate::error::ConfigError;
use crate::public_keys::PublicKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey};
use rand::TryRngCore;

/// The variable a private key is read from as a file.
pub(crate) const FILE_VARIABLE: &str = "TV_JWT_PRIVATE_KEY_FILE";

/// A private key and its public half. `Debug` shows the key id only.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    encoding: EncodingKey,
    public: PublicKey,
}

impl SigningKey {
    /// A new key from the operating system's random numbers.
    pub fn generate() -> Result<Self, ConfigError> {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|e| ConfigError::Generate(e.to_string()))?;
        Ok(Self::from_seed(&seed))
    }

    /// The key whose 32-byte secret is `seed` (the tests' fixed key).
    pub(crate) fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_dalek(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    fn from_dalek(key: ed25519_dalek::SigningKey) -> Self {
        let der = Self::pkcs8(&key)
            .to_pkcs8_der()
            .expect("an Ed25519 key encodes as PKCS#8");
        let encoding = EncodingKey::from_ed_der(der.as_bytes());
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
            .expect("an Ed25519 PKCS#8 key has a public JWK");
        let AlgorithmParameters::OctetKeyPair(public) = jwk.algorithm else {
            unreachable!("an Ed25519 key's JWK is an octet key pair")
        };
        Self {
            key,
            encoding,
            public: PublicKey::with_thumbprint(public.x),
        }
    }

    /// The key in `pem` (PKCS#8, `-----BEGIN PRIVATE KEY-----`), read from `variable`.
    pub fn from_pem(pem: &str, variable: &'static str) -> Result<Self, ConfigError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self::from_dalek)
            .map_err(|e| ConfigError::PrivateKey {
                variable,
                reason: e.to_string(),
            })
    }

    /// The key in the PEM file at `path` (`TV_JWT_PRIVATE_KEY_FILE`).
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let pem = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            variable: FILE_VARIABLE,
            path: path.to_owned(),
            source,
        })?;
        Self::from_pem(&pem, FILE_VARIABLE)
    }

    /// The key as PKCS#8 PEM, without the public key inside (RFC 8410's form, as OpenSSL
    /// writes it). Keep it private: it signs any token.
    pub fn to_pem(&self) -> String {
        Self::pkcs8(&self.key)
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key encodes as PEM")
            .to_string()
    }

    fn pkcs8(key: &ed25519_dalek::SigningKey) -> KeypairBytes {
        KeypairBytes {
            secret_key: key.to_bytes(),
            public_key: None,
        }
    }

    /// Its public half, under the id tokens carry.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The `kid` of the tokens it signs.
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_written_as_pem_reads_back_with_the_same_kid() {
        let key = SigningKey::generate().unwrap();
        let pem = key.to_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
        let read = SigningKey::from_pem(&pem, FILE_VARIABLE).unwrap();
        assert_eq!(read.kid(), key.kid());
        assert_eq!(read.public_key(), key.public_key());
    }

    #[test]
    fn two_generated_keys_differ() {
        let (a, b) = (
            SigningKey::generate().unwrap(),
            SigningKey::generate().unwrap(),
        );
        assert_ne!(a.kid(), b.kid());
    }

    #[test]
    fn an_openssl_key_is_read() {
        // RFC 8410, section 10.3: an Ed25519 private key as `openssl genpkey` writes it.
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                   -----END PRIVATE KEY-----\n";
        let key = SigningKey::from_pem(pem, FILE_VARIABLE).unwrap();
        assert_eq!(key.to_pem(), pem);
    }

    #[test]
    fn what_is_not_an_ed25519_key_is_refused_without_being_echoed() {
        let error = SigningKey::from_pem(
            "ticketview-not-a-key-at-all-0123456789",
            "TV_JWT_PRIVATE_KEY",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("TV_JWT_PRIVATE_KEY is not an Ed25519 private key"),
            "{error}"
        );
        assert!(!error.contains("not-a-key-at-all"), "{error}");
    }

    #[test]
    fn debug_shows_the_kid_and_not_the_key() {
        let key = SigningKey::from_seed(&[7; 32]);
        let shown = format!("{key:?}");
        assert!(shown.contains(key.kid()), "{shown}");
        assert!(!shown.contains("BEGIN"), "{shown}");
        assert!(!shown.contains("secret_key"), "{shown}");
    }
}
