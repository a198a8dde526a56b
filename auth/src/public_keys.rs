//! The public keys a verifier trusts: a JWKS (RFC 7517) of Ed25519 keys, `{"keys": [{"kty":
//! "OKP", "crv": "Ed25519", "x": …, "kid": …}]}`. A token names the key that signed it in its
//! header (`kid`); during a rotation the set holds the old key and the new one.
//!
//! Only public keys: a set that carries a private part (`d`) is refused, so that a verifier's
//! configuration can never sign. Only Ed25519: RSA, EC and symmetric (`oct`) entries are refused
//! rather than skipped, so that a set means what it says.

use crate::error::ConfigError;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, OctetKeyPairParameters,
    OctetKeyPairType, ThumbprintHash,
};
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The variable a verifier's key set is read from as a file.
pub(crate) const FILE_VARIABLE: &str = "TV_JWT_PUBLIC_KEYS_FILE";

/// One Ed25519 public key and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    /// The 32-byte public key, unpadded URL-safe base64 (the JWK's `x`).
    x: String,
}

impl PublicKey {
    /// The key `x` (base64url, as a JWK writes it) under the id `kid`, if it is an Ed25519 key.
    pub fn new(kid: &str, x: &str) -> Result<Self, String> {
        if kid.is_empty() {
            return Err("a key without a kid: every key needs one".into());
        }
        let key = DecodingKey::from_ed_components(x)
            .map_err(|_| format!("key {kid}: x is not base64url"))?;
        let bytes = key.try_get_as_bytes().map_err(|e| e.to_string())?;
        let bytes: &[u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("key {kid}: x has {} bytes, not 32", bytes.len()))?;
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| format!("key {kid}: x is not an Ed25519 public key"))?;
        Ok(Self {
            kid: kid.to_owned(),
            x: x.to_owned(),
        })
    }

    /// The key `x` under its RFC 7638 thumbprint as its id: what an issuer puts in `kid`.
    pub(crate) fn with_thumbprint(x: String) -> Self {
        let jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: x.clone(),
            }),
        };
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .expect("an Ed25519 JWK has an RFC 7638 thumbprint");
        Self { kid, x }
    }

    /// The id tokens signed with the matching private key carry in their header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_ed_components(&self.x).expect("x was checked when the key was built")
    }
}

/// A set of public keys, each under a distinct `kid`, in the order of its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicKeys(Vec<PublicKey>);

/// A JWK as a file holds it: the fields this crate reads and writes. `d` is read only to refuse
/// a private key.
#[derive(Serialize, Deserialize)]
struct JwkEntry {
    kty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing)]
    d: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    public_key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct JwkSetFile {
    keys: Vec<JwkEntry>,
}

impl PublicKeys {
    /// The set in the JWKS file at `path` (`TV_JWT_PUBLIC_KEYS_FILE`).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            variable: FILE_VARIABLE,
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text, FILE_VARIABLE)
    }

    /// The set in the JWKS `text`, read from `variable` (named in the error).
    pub fn from_json(text: &str, variable: &'static str) -> Result<Self, ConfigError> {
        Self::parse(text).map_err(|reason| ConfigError::PublicKeys { variable, reason })
    }

    fn parse(text: &str) -> Result<Self, String> {
        let file: JwkSetFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut keys = Self::default();
        for (index, entry) in file.keys.iter().enumerate() {
            let kid = entry
                .kid
                .as_deref()
                .ok_or_else(|| format!("key {index} has no kid: every key needs one"))?;
            if entry.d.is_some() {
                return Err(format!(
                    "key {kid} holds a private key (d): give verifiers the public keys only \
                     (tv-keys writes them to jwks.json, apart from private.pem)"
                ));
            }
            let (kty, crv) = (entry.kty.as_deref(), entry.crv.as_deref());
            if (kty, crv) != (Some("OKP"), Some("Ed25519")) {
                return Err(format!(
                    "key {kid} is kty {} crv {}: only Ed25519 keys (kty OKP, crv Ed25519) are \
                     accepted",
                    kty.unwrap_or("(none)"),
                    crv.unwrap_or("(none)")
                ));
            }
            if entry.alg.as_deref().is_some_and(|alg| alg != "EdDSA") {
                return Err(format!("key {kid} is for alg {:?}, not EdDSA", entry.alg));
            }
            if entry.public_key_use.as_deref().is_some_and(|u| u != "sig") {
                return Err(format!(
                    "key {kid} is for use {:?}, not sig",
                    entry.public_key_use
                ));
            }
            let x = entry
                .x
                .as_deref()
                .ok_or_else(|| format!("key {kid} has no x (its public key)"))?;
            if !keys.insert(PublicKey::new(kid, x)?) {
                return Err(format!("two keys have the kid {kid}"));
            }
        }
        if keys.0.is_empty() {
            return Err("the set holds no key".into());
        }
        Ok(keys)
    }

    /// The set as a JWKS document (what `tv-keys` writes).
    pub fn to_json(&self) -> String {
        let file = JwkSetFile {
            keys: self
                .0
                .iter()
                .map(|key| JwkEntry {
                    kty: Some("OKP".into()),
                    crv: Some("Ed25519".into()),
                    x: Some(key.x.clone()),
                    d: None,
                    kid: Some(key.kid.clone()),
                    public_key_use: Some("sig".into()),
                    alg: Some("EdDSA".into()),
                })
                .collect(),
        };
        let mut json = serde_json::to_string_pretty(&file).expect("a JWKS serialises");
        json.push('\n');
        json
    }

    /// Adds `key`; `false` (and no change) when the set already has a key with its kid.
    pub fn insert(&mut self, key: PublicKey) -> bool {
        if self.get(key.kid()).is_some() {
            return false;
        }
        self.0.push(key);
        true
    }

    /// Removes the key `kid`; `false` when there was none.
    pub fn remove(&mut self, kid: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|key| key.kid != kid);
        self.0.len() != before
    }

    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.0.iter().find(|key| key.kid == kid)
    }

    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<PublicKey> for PublicKeys {
    /// The keys, the first of each kid kept.
    fn from_iter<I: IntoIterator<Item = PublicKey>>(keys: I) -> Self {
        let mut set = Self::default();
        for key in keys {
            set.insert(key);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::SigningKey;

    fn refused(json: &str) -> String {
        PublicKeys::from_json(json, "TV_JWT_PUBLIC_KEYS")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_written_set_reads_back_as_the_same_keys() {
        let keys: PublicKeys = [
            SigningKey::generate().unwrap(),
            SigningKey::generate().unwrap(),
        ]
        .iter()
        .map(|key| key.public_key().clone())
        .collect();
        let json = keys.to_json();
        assert!(json.contains(r#""kty": "OKP""#), "{json}");
        assert_eq!(PublicKeys::from_json(&json, FILE_VARIABLE).unwrap(), keys);
    }

    #[test]
    fn a_set_holding_a_private_key_is_refused() {
        let public = SigningKey::generate().unwrap().public_key().clone();
        let json = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{}","d":"c2VjcmV0","kid":"{}"}}]}}"#,
            public.x, public.kid
        );
        let message = refused(&json);
        assert!(message.contains("holds a private key (d)"), "{message}");
        assert!(!message.contains("c2VjcmV0"), "{message}");
    }

    #[test]
    fn keys_of_other_types_without_kid_or_with_a_bad_x_are_refused() {
        let oct = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0LWtleS1vZi0zMi1ieXRlcy0wMTIzNDU2Nzg5","kid":"h"}]}"#;
        assert!(
            refused(oct).contains("only Ed25519 keys"),
            "{}",
            refused(oct)
        );
        let no_kid = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
        assert!(refused(no_kid).contains("no kid"), "{}", refused(no_kid));
        let short = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"k"}]}"#;
        assert!(refused(short).contains("not 32"), "{}", refused(short));
        assert!(refused(r#"{"keys":[]}"#).contains("no key"));
        assert!(refused("not json").contains("TV_JWT_PUBLIC_KEYS is not a usable set"));
    }

    #[test]
    fn two_keys_under_one_kid_are_refused() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let json = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"a"}},{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"a"}}]}}"#
        );
        assert!(refused(&json).contains("two keys have the kid a"));
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037, appendix A.3: the thumbprint of the RFC's example Ed25519 key.
        let key = PublicKey::with_thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into());
        assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
