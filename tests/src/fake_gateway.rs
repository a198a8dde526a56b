//! A fake payment gateway for the tests: an axum app on a free loopback port that speaks the wire
//! format of command-svc's HTTPS adapter (PaymentIntents, refunds, search, signed webhooks), and
//! counts what it was asked and what money moved.
//!
//! It is written from the format, not from the adapter: it signs its webhooks with its own HMAC
//! code, and checks the API key and every idempotency key as a real gateway would (the same key
//! with the same request is answered with the first answer, marked `Idempotent-Replayed`; with
//! another request it is a `400 idempotency_error`).
//!
//! The card token (`payment_method`) chooses the behaviour:
//! - [`CAPTURE`]: `succeeded` at once;
//! - [`DECLINE`]: `402 card_error`, `decline_code: insufficient_funds`, nothing taken;
//! - [`PROCESSING`]: `processing` until the test calls [`FakeGateway::settle`], which also posts
//!   the signed `payment_intent.succeeded` / `payment_failed` webhook;
//! - [`NO_ANSWER`]: charged, but the first request with each key is never answered (the client
//!   times out); a retry with the key gets the stored answer.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A token the fake charges at once.
pub const CAPTURE: &str = "pm_card_visa";
/// A token the fake declines.
pub const DECLINE: &str = "pm_card_insufficient_funds";
/// A token whose charge stays `processing` until the test settles it.
pub const PROCESSING: &str = "pm_card_processing";
/// A token whose first charge request per key is taken but never answered.
pub const NO_ANSWER: &str = "pm_card_no_answer";

/// The API key the fake accepts.
pub const API_KEY: &str = "sk_test_fake_gateway_key";
/// The secret the fake signs its webhooks with.
pub const WEBHOOK_SECRET: &str = "whsec_fake_gateway_0123456789abcdef";

/// One payment intent as the fake keeps it.
#[derive(Debug, Clone)]
struct Intent {
    id: String,
    order_id: String,
    amount: i64,
    currency: String,
    status: &'static str,
    decline_code: Option<&'static str>,
}

impl Intent {
    fn json(&self) -> Value {
        let mut intent = json!({
            "id": self.id, "object": "payment_intent", "amount": self.amount,
            "currency": self.currency, "status": self.status,
            "metadata": {"order_id": self.order_id},
        });
        if let Some(code) = self.decline_code {
            intent["last_payment_error"] =
                json!({"type": "card_error", "code": "card_declined", "decline_code": code});
        }
        intent
    }

    /// Money moved (or is moving) to the merchant.
    fn charged(&self) -> bool {
        matches!(self.status, "succeeded" | "processing")
    }
}

#[derive(Debug, Default)]
struct Ledger {
    intents: BTreeMap<String, Intent>,
    /// Idempotency key → (the request's fields, the answer's status and body).
    answers: HashMap<String, (BTreeMap<String, String>, u16, Value)>,
    /// Charge requests per order, replays included.
    charge_calls: HashMap<String, u32>,
    /// Refunds made: (intent, amount, refund id).
    refunds: Vec<(String, i64, String)>,
    refund_calls: u32,
    next_id: u64,
}

impl Ledger {
    fn id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("{kind}_fake{:06}", self.next_id)
    }
}

#[derive(Clone)]
struct Shared {
    ledger: Arc<Mutex<Ledger>>,
}

impl Shared {
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("the fake gateway's ledger")
    }
}

/// The fake gateway, serving until dropped.
pub struct FakeGateway {
    pub base_url: String,
    shared: Shared,
    http: reqwest::Client,
    task: JoinHandle<()>,
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGateway {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        let shared = Shared {
            ledger: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/payment_intents", post(create_intent))
            .route("/v1/payment_intents/search", get(search_intents))
            .route("/v1/payment_intents/{id}", get(read_intent))
            .route("/v1/refunds", post(create_refund))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the fake gateway");
        let base_url = format!("http://{}", listener.local_addr().expect("its address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url,
            shared,
            http: reqwest::Client::new(),
            task,
        }
    }

    /// Charges that took money for the order (intents that succeeded or are processing).
    pub fn charges(&self, order: &str) -> usize {
        let ledger = self.shared.ledger();
        ledger
            .intents
            .values()
            .filter(|i| i.order_id == order && i.charged())
            .count()
    }

    /// Intents created for the order, whatever became of them.
    pub fn intents(&self, order: &str) -> Vec<String> {
        let ledger = self.shared.ledger();
        ledger
            .intents
            .values()
            .filter(|i| i.order_id == order)
            .map(|i| i.id.clone())
            .collect()
    }

    /// Charge requests the order got, replays included.
    pub fn charge_calls(&self, order: &str) -> u32 {
        self.shared
            .ledger()
            .charge_calls
            .get(order)
            .copied()
            .unwrap_or(0)
    }

    /// The money refunded on the intent.
    pub fn refunded(&self, intent: &str) -> i64 {
        let ledger = self.shared.ledger();
        ledger
            .refunds
            .iter()
            .filter(|(i, _, _)| i == intent)
            .map(|(_, amount, _)| amount)
            .sum()
    }

    /// Refunds made (not refund requests).
    pub fn refunds_made(&self) -> usize {
        self.shared.ledger().refunds.len()
    }

    /// Settles the order's processing intent (`succeeded` or a decline) and returns the webhook
    /// event that announces it, unsent.
    pub fn settle(&self, order: &str, succeeded: bool) -> Value {
        let mut ledger = self.shared.ledger();
        let intent = ledger
            .intents
            .values_mut()
            .find(|i| i.order_id == order && i.status == "processing")
            .unwrap_or_else(|| panic!("order {order} has no processing intent"));
        let kind = if succeeded {
            intent.status = "succeeded";
            "payment_intent.succeeded"
        } else {
            intent.status = "requires_payment_method";
            intent.decline_code = Some("insufficient_funds");
            "payment_intent.payment_failed"
        };
        let object = intent.json();
        let id = ledger.id("evt");
        json!({
            "id": id, "object": "event", "type": kind,
            "created": time::OffsetDateTime::now_utc().unix_timestamp(),
            "data": {"object": object},
        })
    }

    /// Posts `event` to `url` signed at `timestamp` with `secret`: the status command-svc answered.
    pub async fn send_webhook(
        &self,
        url: &str,
        event: &Value,
        secret: &str,
        timestamp: i64,
    ) -> StatusCode {
        let body = serde_json::to_vec(event).expect("an event serializes");
        let signature = signature(secret, timestamp, &body);
        self.post_webhook(url, body, Some(signature)).await
    }

    /// Posts a raw body with the given signature header (or none).
    pub async fn post_webhook(
        &self,
        url: &str,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> StatusCode {
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("Gateway-Signature", signature);
        }
        request.send().await.expect("command-svc answers").status()
    }
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "t.body">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

fn error(status: StatusCode, kind: &str, code: &str) -> Response {
    let body = json!({"error": {"type": kind, "code": code, "message": code}});
    (status, Json(body)).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {API_KEY}"))
}

fn answer(status: u16, body: Value, replayed: bool) -> Response {
    let status = StatusCode::from_u16(status).expect("a status");
    let mut response = (status, Json(body)).into_response();
    if replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    response
}

/// The stored answer to `key` if it was used before: the replay, or a 400 for another request.
fn replay(ledger: &Ledger, key: &str, fields: &BTreeMap<String, String>) -> Option<Response> {
    let (first, status, body) = ledger.answers.get(key)?;
    Some(if first == fields {
        answer(*status, body.clone(), true)
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            "idempotency_key_reused",
        )
    })
}

async fn create_intent(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<BTreeMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "api_key_invalid",
        );
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "idempotency_key_missing",
        );
    };
    let order = fields
        .get("metadata[order_id]")
        .cloned()
        .unwrap_or_default();
    let (status, body, hang) = {
        let mut ledger = shared.ledger();
        *ledger.charge_calls.entry(order.clone()).or_default() += 1;
        if let Some(replayed) = replay(&ledger, key, &fields) {
            return replayed;
        }
        let (Some(amount), Some(currency), Some(token), Some("true")) = (
            fields.get("amount").and_then(|a| a.parse::<i64>().ok()),
            fields.get("currency"),
            fields.get("payment_method"),
            fields.get("confirm").map(String::as_str),
        ) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "parameter_missing",
            );
        };
        let id = ledger.id("pi");
        let (status, decline_code) = match token.as_str() {
            CAPTURE | NO_ANSWER => ("succeeded", None),
            PROCESSING => ("processing", None),
            _ => ("requires_payment_method", Some("insufficient_funds")),
        };
        let intent = Intent {
            id: id.clone(),
            order_id: order,
            amount,
            currency: currency.clone(),
            status,
            decline_code,
        };
        let (code, body) = match decline_code {
            Some(code) => (
                402,
                json!({"error": {"type": "card_error", "code": "card_declined",
                    "decline_code": code, "message": "Your card has insufficient funds.",
                    "payment_intent": intent.json()}}),
            ),
            None => (200, intent.json()),
        };
        ledger.intents.insert(id, intent);
        ledger
            .answers
            .insert(key.to_owned(), (fields.clone(), code, body.clone()));
        (code, body, token == NO_ANSWER)
    };
    if hang {
        // Taken and stored; the answer never comes.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    answer(status, body, false)
}

async fn read_intent(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "api_key_invalid",
        );
    }
    match shared.ledger().intents.get(&id) {
        Some(intent) => Json(intent.json()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_missing",
        ),
    }
}

async fn search_intents(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "api_key_invalid",
        );
    }
    // Only the query the adapter sends: metadata['order_id']:'<order>'.
    let order = query
        .get("query")
        .and_then(|q| q.strip_prefix("metadata['order_id']:'"))
        .and_then(|q| q.strip_suffix('\''))
        .unwrap_or_default()
        .to_owned();
    let data: Vec<Value> = shared
        .ledger()
        .intents
        .values()
        .filter(|i| i.order_id == order)
        .map(Intent::json)
        .collect();
    Json(json!({"object": "search_result", "data": data})).into_response()
}

async fn create_refund(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<BTreeMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "api_key_invalid",
        );
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "idempotency_key_missing",
        );
    };
    let mut ledger = shared.ledger();
    ledger.refund_calls += 1;
    if let Some(replayed) = replay(&ledger, key, &fields) {
        return replayed;
    }
    let intent_id = fields.get("payment_intent").cloned().unwrap_or_default();
    let amount = fields
        .get("amount")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(0);
    let captured = match ledger.intents.get(&intent_id) {
        Some(intent) if intent.status == "succeeded" => intent.amount,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "charge_not_refundable",
            )
        }
    };
    let refunded: i64 = ledger
        .refunds
        .iter()
        .filter(|(i, _, _)| *i == intent_id)
        .map(|(_, a, _)| a)
        .sum();
    if amount <= 0 || refunded + amount > captured {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "amount_too_large",
        );
    }
    let id = ledger.id("re");
    ledger.refunds.push((intent_id.clone(), amount, id.clone()));
    let body = json!({"id": id, "object": "refund", "amount": amount,
        "payment_intent": intent_id, "status": "succeeded"});
    ledger
        .answers
        .insert(key.to_owned(), (fields, 200, body.clone()));
    answer(200, body, false)
}
