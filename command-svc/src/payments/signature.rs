//! Webhook signatures: `Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC of
//! `"<t>.<raw body>"` under the webhook secret the gateway and TicketView share.
//!
//! A request is believed only when one `v1` matches (compared in constant time; several are
//! allowed, so that a gateway can sign with an old and a new secret while it rotates) and `t` is
//! within the tolerance of now, either way: a captured request replayed later is refused. The
//! clock comes in as an argument; nothing here reads it.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;

/// The header the gateway signs its webhook requests in.
pub const SIGNATURE_HEADER: &str = "gateway-signature";

/// A secret shared with the gateway (its API key, its webhook secret). `Debug` and `Display`
/// say only how long it is.
#[derive(Clone, PartialEq, Eq)]
pub struct GatewaySecret(Arc<str>);

impl GatewaySecret {
    /// The secret in `text`, without surrounding whitespace; `None` when nothing is left.
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| Self(text.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for GatewaySecret {
    type Err = String;

    /// For clap; the error never echoes the value.
    fn from_str(text: &str) -> Result<Self, String> {
        Self::new(text).ok_or_else(|| "empty".to_owned())
    }
}

impl fmt::Debug for GatewaySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GatewaySecret(<{} bytes, redacted>)", self.0.len())
    }
}

impl fmt::Display for GatewaySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a webhook request is not believed. Which check failed is logged, never answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signature header")]
    Missing,
    #[error("the signature header is not `t=<unix>,v1=<hex>`")]
    Malformed,
    #[error("the signature's timestamp is {age} s away from now (at most {tolerance} s)")]
    OutsideTolerance { age: i64, tolerance: i64 },
    #[error("no signature matches the body")]
    Mismatch,
}

/// Checks webhook signatures with one secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    secret: GatewaySecret,
    /// How far from now a signature's timestamp may be, in seconds: the replay window.
    tolerance_secs: i64,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret", &self.secret)
            .field("tolerance_secs", &self.tolerance_secs)
            .finish()
    }
}

impl WebhookVerifier {
    pub fn new(secret: GatewaySecret, tolerance_secs: u64) -> Self {
        Self {
            secret,
            tolerance_secs: i64::try_from(tolerance_secs).unwrap_or(i64::MAX),
        }
    }

    /// Believes `body` if `header` signs it within the tolerance of `now` (unix seconds).
    pub fn verify(
        &self,
        header: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => {
                    timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Malformed)?)
                }
                Some(("v1", hex)) => {
                    signatures.push(decode_hex(hex).ok_or(SignatureError::Malformed)?)
                }
                // Other schemes (`v0`, future ones) are not ours to check.
                Some(_) => {}
                None => return Err(SignatureError::Malformed),
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed);
        }
        let age = now.saturating_sub(timestamp);
        if age.saturating_abs() > self.tolerance_secs {
            return Err(SignatureError::OutsideTolerance {
                age,
                tolerance: self.tolerance_secs,
            });
        }
        let matches = signatures.iter().any(|signature| {
            mac(&self.secret, timestamp, body)
                .verify_slice(signature)
                .is_ok()
        });
        matches.then_some(()).ok_or(SignatureError::Mismatch)
    }
}

/// The header value that signs `body` at `timestamp`: what the gateway sends (and the tests'
/// fake gateway).
pub fn sign(secret: &GatewaySecret, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", encode_hex(&digest))
}

fn mac(secret: &GatewaySecret, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_900_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    fn secret() -> GatewaySecret {
        GatewaySecret::new("whsec_test_0123456789abcdef").unwrap()
    }

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(secret(), 300)
    }

    #[test]
    fn a_signature_of_the_body_within_the_window_is_believed() {
        let header = sign(&secret(), NOW - 299, BODY);
        assert_eq!(verifier().verify(Some(&header), BODY, NOW), Ok(()));
        // A second signature (a secret being rotated) may come first.
        let rotated = format!(
            "t={},v1={},{}",
            NOW,
            "00".repeat(32),
            &sign(&secret(), NOW, BODY)[13..]
        );
        assert_eq!(verifier().verify(Some(&rotated), BODY, NOW), Ok(()));
    }

    #[test]
    fn another_body_secret_or_a_stale_timestamp_is_refused() {
        let header = sign(&secret(), NOW, BODY);
        assert_eq!(
            verifier().verify(Some(&header), b"{}", NOW),
            Err(SignatureError::Mismatch)
        );
        let other = sign(
            &GatewaySecret::new("whsec_another_secret").unwrap(),
            NOW,
            BODY,
        );
        assert_eq!(
            verifier().verify(Some(&other), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let stale = sign(&secret(), NOW - 301, BODY);
        assert!(matches!(
            verifier().verify(Some(&stale), BODY, NOW),
            Err(SignatureError::OutsideTolerance { age: 301, .. })
        ));
        let future = sign(&secret(), NOW + 301, BODY);
        assert!(matches!(
            verifier().verify(Some(&future), BODY, NOW),
            Err(SignatureError::OutsideTolerance { .. })
        ));
        // The timestamp is signed: moving it forward breaks the signature.
        let moved = header.replace(&NOW.to_string(), &(NOW + 1).to_string());
        assert_eq!(
            verifier().verify(Some(&moved), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_missing_or_malformed_header_is_refused() {
        assert_eq!(
            verifier().verify(None, BODY, NOW),
            Err(SignatureError::Missing)
        );
        for header in [
            "",
            "v1=00",
            "t=1",
            "t=x,v1=00",
            "t=1,v1=zz",
            "t=1,v1=0",
            "garbage",
        ] {
            assert_eq!(
                verifier().verify(Some(header), BODY, NOW),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn secrets_never_show() {
        let shown = format!("{:?} {} {:?}", secret(), secret(), verifier());
        assert!(!shown.contains("whsec"), "{shown}");
    }
}
