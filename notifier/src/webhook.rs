//! Signed webhooks to operators' systems (`TV_WEBHOOK_URLS`): each notice POSTed as JSON to every
//! endpoint.
//!
//! Headers (`docs/SECURITY.md`, "Webhook signatures"):
//! - `TV-Webhook-Id`: the notice id, the same on every retry (a receiver dedupes on it);
//! - `TV-Webhook-Timestamp`: Unix seconds when this attempt was signed;
//! - `TV-Webhook-Signature`: `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
//!
//! A 2xx answer is delivered; anything else, or no answer in time, is retried with backoff.

use crate::notice::Notification;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::time::Duration;

pub const ID_HEADER: &str = "TV-Webhook-Id";
pub const TIMESTAMP_HEADER: &str = "TV-Webhook-Timestamp";
pub const SIGNATURE_HEADER: &str = "TV-Webhook-Signature";

/// `v1=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// The JSON a notice is POSTed as.
pub fn payload(notice: &Notification) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": notice.id,
        "kind": notice.kind.as_str(),
        "order_id": notice.order_id,
        "customer_id": notice.customer_id,
        "stream": notice.stream,
        "stream_sequence": notice.stream_sequence,
        "data": notice.body,
    }))
    .expect("a JSON value serialises")
}

/// POSTs notices to endpoints, signed with one secret.
#[derive(Clone)]
pub struct Webhooks {
    client: reqwest::Client,
    secret: Vec<u8>,
}

impl Webhooks {
    pub fn new(secret: Vec<u8>, timeout: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= 16,
            "the webhook secret (TV_WEBHOOK_SECRET_FILE) must be at least 16 bytes"
        );
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, secret })
    }

    /// POSTs `notice` to `url`; an error says what went wrong (status or transport).
    pub async fn send(&self, url: &str, notice: &Notification) -> Result<(), String> {
        let body = payload(notice);
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let answer = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(ID_HEADER, &notice.id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature(&self.secret, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        match answer.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("POST {url}: answered {status}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently:
        // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test_secret_0123
        assert_eq!(
            signature(b"whsec_test_secret_0123", 1_700_000_000, br#"{"a":1}"#),
            "v1=b1e06771f9a20c020fc4b9be257996790d615bbe4d030159b6a5669fdada024c"
        );
        // Another timestamp or body, another signature.
        assert_ne!(
            signature(b"whsec_test_secret_0123", 1_700_000_001, br#"{"a":1}"#),
            signature(b"whsec_test_secret_0123", 1_700_000_000, br#"{"a":1}"#)
        );
        assert_ne!(
            signature(b"whsec_test_secret_0123", 1_700_000_000, br#"{"a":2}"#),
            signature(b"whsec_test_secret_0123", 1_700_000_000, br#"{"a":1}"#)
        );
    }
}
