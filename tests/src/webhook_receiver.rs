//! An operator's webhook endpoint for the notifier's tests: an axum app on a loopback port that
//! answers with the statuses it is given, in turn (the last one from then on), and checks every
//! request's signature itself (HMAC-SHA256 over `"<timestamp>.<body>"`, compared in constant
//! time), as a receiver following `docs/SECURITY.md` would.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `TV-Webhook-Id`.
    pub id: String,
    /// True when the signature matched the secret, the timestamp and the body.
    pub verified: bool,
    pub body: serde_json::Value,
    /// The status it was answered with.
    pub answered: u16,
}

#[derive(Clone)]
struct Receiver {
    secret: Vec<u8>,
    statuses: Arc<Vec<u16>>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A running receiver; stops when dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// A receiver verifying with `secret`, answering `statuses` in turn (the last one repeated).
    pub async fn start(secret: &[u8], statuses: &[u16]) -> Self {
        assert!(!statuses.is_empty(), "a receiver needs a status to answer");
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = Receiver {
            secret: secret.to_vec(),
            statuses: Arc::new(statuses.to_vec()),
            received: received.clone(),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the webhook receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            received,
            task,
        }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hook(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let verified = verify(
        &receiver.secret,
        &header("TV-Webhook-Timestamp"),
        &header("TV-Webhook-Signature"),
        &body,
    );
    let mut received = receiver.received.lock().unwrap();
    let turn = received.len().min(receiver.statuses.len() - 1);
    let status = receiver.statuses[turn];
    received.push(Received {
        id: header("TV-Webhook-Id"),
        verified,
        body: serde_json::from_slice(&body).unwrap_or_default(),
        answered: status,
    });
    StatusCode::from_u16(status).expect("a valid status")
}

/// True when `signature` is `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
fn verify(secret: &[u8], timestamp: &str, signature: &str, body: &[u8]) -> bool {
    let Some(hex) = signature.strip_prefix("v1=") else {
        return false;
    };
    let Some(bytes) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    !timestamp.is_empty() && mac.verify_slice(&bytes).is_ok()
}
