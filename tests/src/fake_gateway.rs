//! A fake payment gateway for the tests: an axum app on a free loopback port that speaks the wire
//! format of command-svc's HTTPS adapter (PaymentIntents, refunds, search, signed webhooks), and
//! counts what it was asked and what money moved.
//!
//! It is written from the format, not from the adapter: it signs its webhooks with its own HMAC
//! code, and checks the API key and every idempotency key as a real gateway would (the same key
//! with the same request is answered with the first answer, marked `Idempotent-Replayed`; with
//! another request it is a `400 idempotency_error`).
//!
//! An intent is created when the order is placed (`POST /v1/payment_intents` with the token as
//! `payment_method`, not confirmed: `requires_confirmation`, nothing charged) and confirmed when
//! it is charged (`POST /v1/payment_intents/<id>/confirm`). An intent created with
//! `confirm=true` is created and charged at once, as orders placed before references were.
//! A token the fake does not know is refused at creation: `400 invalid_request_error`,
//! `resource_missing` on `payment_method`, with a message that repeats the token (as real
//! gateways do), so a test can check that it is never kept. The known tokens (`payment_method`)
//! choose the behaviour of the charge:
//! - [`CAPTURE`]: `succeeded` at once;
//! - [`DECLINE`]: `402 card_error`, `decline_code: insufficient_funds`, nothing taken;
//! - [`PROCESSING`]: `processing` until the test calls [`FakeGateway::settle`], which also posts
//!   the signed `payment_intent.succeeded` / `payment_failed` webhook;
//! - [`NO_ANSWER`]: charged, but the first charge request with each key is never answered (the
//!   client times out); a retry with the key gets the stored answer;
//! - [`NO_ANSWER_AT_PLACEMENT`]: the intent is created, but the first creation request with each
//!   key is never answered; charged at once when confirmed.
//!
//! A token that extends a known one with `_<anything>` (`pm_card_visa_7f3a…`) behaves as it.

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
/// A token whose first intent creation per key (the order's placement) is taken but never
/// answered.
pub const NO_ANSWER_AT_PLACEMENT: &str = "pm_card_no_answer_at_placement";

/// The tokens the fake knows; any other is refused when the intent is created.
const KNOWN: [&str; 5] = [
    CAPTURE,
    DECLINE,
    PROCESSING,
    NO_ANSWER,
    NO_ANSWER_AT_PLACEMENT,
];

/// The known token `token` behaves as: itself, or one it extends with `_<anything>` (so that a
/// test can pay with a token no other test uses, and look for it afterwards).
fn known(token: &str) -> Option<&'static str> {
    KNOWN
        .into_iter()
        .filter(|k| {
            token == *k
                || token
                    .strip_prefix(k)
                    .is_some_and(|rest| rest.starts_with('_'))
        })
        .max_by_key(|k| k.len())
}

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
    /// The token, which the gateway keeps and shows (as a real one does).
    payment_method: String,
    status: &'static str,
    decline_code: Option<&'static str>,
}

impl Intent {
    fn json(&self) -> Value {
        let mut intent = json!({
            "id": self.id, "object": "payment_intent", "amount": self.amount,
            "currency": self.currency, "status": self.status,
            "payment_method": self.payment_method,
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
    /// Intent creations (placements) per order, replays included.
    create_calls: HashMap<String, u32>,
    /// Charge requests per order (confirmations, and creations with `confirm=true`), replays
    /// included.
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
            .route("/v1/payment_intents/{id}/confirm", post(confirm_intent))
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

    /// Intent creations the order's placement sent, replays included.
    pub fn create_calls(&self, order: &str) -> u32 {
        self.shared
            .ledger()
            .create_calls
            .get(order)
            .copied()
            .unwrap_or(0)
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

    /// Puts the order's settled intent back to `processing`: the gateway answers a lookup as if
    /// [`FakeGateway::settle`] had not happened yet, while its event can still be sent.
    pub fn reopen(&self, order: &str) {
        let mut ledger = self.shared.ledger();
        let intent = ledger
            .intents
            .values_mut()
            .find(|i| i.order_id == order)
            .unwrap_or_else(|| panic!("order {order} has no intent"));
        intent.status = "processing";
        intent.decline_code = None;
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

/// What a charge of a means of payment does: the intent's status, and a decline's code.
fn charge_outcome(token: &str) -> (&'static str, Option<&'static str>) {
    match known(token).unwrap_or(token) {
        PROCESSING => ("processing", None),
        DECLINE => ("requires_payment_method", Some("insufficient_funds")),
        _ => ("succeeded", None),
    }
}

/// The answer to a charge of `intent`: the intent, or a `402` card error with it.
fn charge_answer(intent: &Intent) -> (u16, Value) {
    match intent.decline_code {
        Some(code) => (
            402,
            json!({"error": {"type": "card_error", "code": "card_declined",
                "decline_code": code, "message": "Your card has insufficient funds.",
                "payment_intent": intent.json()}}),
        ),
        None => (200, intent.json()),
    }
}

/// The idempotency key of a request.
fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The answer to a request that moves money without an idempotency key.
fn missing_key() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "idempotency_key_missing",
    )
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        "api_key_invalid",
    )
}

/// Sleeps for good: the request was taken and stored, the answer never comes.
async fn never_answer() {
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

async fn create_intent(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(fields): Form<BTreeMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let Some(key) = idempotency_key(&headers) else {
        return missing_key();
    };
    let order = fields
        .get("metadata[order_id]")
        .cloned()
        .unwrap_or_default();
    let confirm = fields.get("confirm").map(String::as_str) == Some("true");
    let (status, body, hang) = {
        let mut ledger = shared.ledger();
        let calls = match confirm {
            true => &mut ledger.charge_calls,
            false => &mut ledger.create_calls,
        };
        *calls.entry(order.clone()).or_default() += 1;
        if let Some(replayed) = replay(&ledger, &key, &fields) {
            return replayed;
        }
        let (Some(amount), Some(currency), Some(token)) = (
            fields.get("amount").and_then(|a| a.parse::<i64>().ok()),
            fields.get("currency"),
            fields.get("payment_method"),
        ) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "parameter_missing",
            );
        };
        let (code, body, hang) = if known(token).is_none() {
            let body = json!({"error": {"type": "invalid_request_error",
                "code": "resource_missing", "param": "payment_method",
                "message": format!("No such PaymentMethod: '{token}'")}});
            (400, body, false)
        } else {
            let id = ledger.id("pi");
            let (status, decline_code) = match confirm {
                true => charge_outcome(token),
                false => ("requires_confirmation", None),
            };
            let intent = Intent {
                id: id.clone(),
                order_id: order,
                amount,
                currency: currency.clone(),
                payment_method: token.clone(),
                status,
                decline_code,
            };
            let (code, body) = charge_answer(&intent);
            ledger.intents.insert(id, intent);
            let hang = match confirm {
                true => known(token) == Some(NO_ANSWER),
                false => known(token) == Some(NO_ANSWER_AT_PLACEMENT),
            };
            (code, body, hang)
        };
        ledger
            .answers
            .insert(key, (fields.clone(), code, body.clone()));
        (code, body, hang)
    };
    if hang {
        never_answer().await;
    }
    answer(status, body, false)
}

async fn confirm_intent(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(mut fields): Form<BTreeMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let Some(key) = idempotency_key(&headers) else {
        return missing_key();
    };
    fields.insert("confirm:intent".into(), id.clone());
    let (status, body, hang) = {
        let mut ledger = shared.ledger();
        let Some(order) = ledger.intents.get(&id).map(|i| i.order_id.clone()) else {
            return error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "resource_missing",
            );
        };
        *ledger.charge_calls.entry(order).or_default() += 1;
        if let Some(replayed) = replay(&ledger, &key, &fields) {
            return replayed;
        }
        let intent = ledger.intents.get_mut(&id).expect("looked up above");
        if intent.status != "requires_confirmation" {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "payment_intent_unexpected_state",
            );
        }
        let (status, decline_code) = charge_outcome(&intent.payment_method);
        intent.status = status;
        intent.decline_code = decline_code;
        let hang = known(&intent.payment_method) == Some(NO_ANSWER);
        let (code, body) = charge_answer(intent);
        ledger
            .answers
            .insert(key, (fields.clone(), code, body.clone()));
        (code, body, hang)
    };
    if hang {
        never_answer().await;
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
