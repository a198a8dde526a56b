//! A small HTTP client of command-svc's API, as a buyer or an operator would use it.
//!
//! Answers come back as `(StatusCode, serde_json::Value)`: tests assert on the wire format, not on
//! the service's own types. Transport failures panic (on loopback they are a test failure).
//!
//! Every request carries a bearer token signed with the tests' secret (`auth::testing`), which
//! the spawned services trust: an operator's on catalog commands, a customer's for the customer
//! the body names (`customer_id`) on holds and orders ([`authorization_for`]). Tests of authorization itself pick the token,
//! or none, with [`Api::with_authorization`] and [`Api::anonymous`].

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// One client for a whole test: its pool keeps a connection per concurrent request, so that a
/// race of hundreds of clients is not serialised by connection setup. A client is not shared
/// across tests: each test has its own runtime, and pooled connections belong to one.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

/// command-svc at one base URL.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base_url: String,
    acting: Acting,
}

/// Which `Authorization` header the requests of an [`Api`] carry.
#[derive(Clone)]
enum Acting {
    /// An operator on catalog commands, else the customer the body names ([`authorization_for`]).
    AsTheBodySays,
    /// This exact header value.
    Exactly(String),
    /// None.
    Anonymous,
}

/// The customer whose token goes with a body that names no valid customer (the service then
/// refuses a malformed `customer_id` with 422, as it did before tokens; a body without one acts
/// for this customer).
const FALLBACK_CUSTOMER: &str = "e2e-customer";

/// `Bearer <token>` for a customer.
pub fn customer_authorization(customer: &str) -> String {
    format!("Bearer {}", auth::testing::customer_token(customer))
}

/// `Bearer <token>` for an operator.
pub fn operator_authorization() -> String {
    format!("Bearer {}", auth::testing::operator_token())
}

/// Whether `path` is an operator's command: `POST /events`, `.../publish`, `.../close`,
/// `.../cancel`, `.../blocks`, `/blocks/{id}/release`.
fn operator_route(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    path == "/events"
        || path.starts_with("/blocks/")
        || (path.starts_with("/events/")
            && (path.ends_with("/publish")
                || path.ends_with("/close")
                || path.ends_with("/cancel")
                || path.ends_with("/blocks")))
}

/// The `Authorization` header of a request to `path` with this JSON body: an operator's token on
/// catalog commands; elsewhere the token of the customer the body's `customer_id` names.
pub fn authorization_for(path: &str, body: &Value) -> String {
    if operator_route(path) {
        return operator_authorization();
    }
    match body.get("customer_id") {
        Some(Value::String(customer)) if domain::ids::CustomerId::parse(customer).is_ok() => {
            customer_authorization(customer)
        }
        _ => customer_authorization(FALLBACK_CUSTOMER),
    }
}

/// [`authorization_for`] a raw body, which may not even be JSON.
pub fn authorization_for_raw(path: &str, body: &[u8]) -> String {
    let body = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    authorization_for(path, &body)
}

/// The `error.code` of an error answer.
pub fn error_code(body: &Value) -> Option<&str> {
    body.pointer("/error/code").and_then(Value::as_str)
}

/// Bodies of `POST /events/{id}/holds`.
pub struct HoldBody;

impl HoldBody {
    /// Named seats (`"A-1"`, …) in a seated section.
    pub fn seats(customer: &str, section: &str, seats: &[impl AsRef<str>]) -> Value {
        let seats: Vec<&str> = seats.iter().map(AsRef::as_ref).collect();
        json!({ "customer_id": customer, "section_id": section, "seats": seats })
    }

    /// A quantity: best available in a seated section, capacity in a general-admission one.
    pub fn quantity(customer: &str, section: &str, quantity: u32) -> Value {
        json!({ "customer_id": customer, "section_id": section, "quantity": quantity })
    }
}

impl Api {
    pub fn new(http: reqwest::Client, base_url: &str) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            acting: Acting::AsTheBodySays,
        }
    }

    /// The same service, every request with `Authorization: <authorization>` (a forged or
    /// expired token, another customer's).
    pub fn with_authorization(&self, authorization: &str) -> Self {
        Self {
            acting: Acting::Exactly(authorization.to_owned()),
            ..self.clone()
        }
    }

    /// The same service, every request as `customer` whatever the body says.
    pub fn as_customer(&self, customer: &str) -> Self {
        self.with_authorization(&customer_authorization(customer))
    }

    /// The same service, without any `Authorization` header.
    pub fn anonymous(&self) -> Self {
        Self {
            acting: Acting::Anonymous,
            ..self.clone()
        }
    }

    fn authorize(
        &self,
        request: reqwest::RequestBuilder,
        path: &str,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        match &self.acting {
            Acting::AsTheBodySays => request.header("Authorization", authorization_for(path, body)),
            Acting::Exactly(value) => request.header("Authorization", value),
            Acting::Anonymous => request,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The same service through another client (another base URL, same pool).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    async fn answer(request: reqwest::RequestBuilder, what: &str) -> (StatusCode, Value) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{what}: body not read: {e}"));
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{what}: answered {status} with a body that is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, body)
    }

    /// `POST <path>` with a JSON body and an optional `Idempotency-Key`.
    pub async fn post(&self, path: &str, key: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(body);
        let mut request = self.authorize(request, path, body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        Self::answer(request, &format!("POST {path}")).await
    }

    /// `POST <path>` with a raw body sent as JSON (for malformed input).
    pub async fn post_raw(&self, path: &str, key: Option<&str>, body: &str) -> (StatusCode, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        // Not JSON (malformed input): the token of the route's role all the same.
        let parsed = serde_json::from_str(body).unwrap_or(Value::Null);
        let mut request = self.authorize(request, path, &parsed);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        Self::answer(request, &format!("POST {path}")).await
    }

    /// `POST /events`; the answer as it came.
    pub async fn try_create_event(&self, key: Option<&str>, event: &Value) -> (StatusCode, Value) {
        self.post("/events", key, event).await
    }

    /// `POST /events`, which must succeed: the new event's id.
    pub async fn create_event(&self, key: &str, event: &Value) -> String {
        let (status, body) = self.try_create_event(Some(key), event).await;
        assert_eq!(status, StatusCode::CREATED, "creating an event: {body}");
        body["event_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no event_id in {body}"))
            .to_owned()
    }

    /// `POST /events/{id}/publish`; the answer as it came.
    pub async fn try_publish(&self, event_id: &str) -> (StatusCode, Value) {
        self.post(&format!("/events/{event_id}/publish"), None, &Value::Null)
            .await
    }

    /// `POST /events/{id}/publish`, which must succeed.
    pub async fn publish(&self, event_id: &str) -> Value {
        let (status, body) = self.try_publish(event_id).await;
        assert_eq!(status, StatusCode::OK, "publishing {event_id}: {body}");
        assert_eq!(body["status"], "on_sale", "publishing {event_id}: {body}");
        body
    }

    /// `POST /events/{id}/close` (operator); the answer as it came.
    pub async fn close_sale(&self, event_id: &str) -> (StatusCode, Value) {
        self.post(&format!("/events/{event_id}/close"), None, &Value::Null)
            .await
    }

    /// Creates and publishes an event: its id.
    pub async fn create_on_sale(&self, key: &str, event: &Value) -> String {
        let event_id = self.create_event(key, event).await;
        self.publish(&event_id).await;
        event_id
    }

    /// `POST /events/{id}/holds` with `Idempotency-Key: key`.
    pub async fn hold(&self, event_id: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        self.post(&format!("/events/{event_id}/holds"), Some(key), body)
            .await
    }

    /// `hold`, retried with the same key after a 429 or 503 (as the API asks a client to do), at
    /// most `retries` times. Returns the last answer and how many retries it took.
    pub async fn hold_retrying(
        &self,
        event_id: &str,
        key: &str,
        body: &Value,
        retries: u32,
    ) -> (StatusCode, Value, u32) {
        let mut attempt = 0;
        loop {
            let (status, answer) = self.hold(event_id, key, body).await;
            let retryable = status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE;
            if !retryable || attempt >= retries {
                return (status, answer, attempt);
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
        }
    }

    /// `POST /holds/{hold_id}/release`.
    pub async fn release(&self, hold_id: &str, customer: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/holds/{hold_id}/release"),
            None,
            &json!({ "customer_id": customer }),
        )
        .await
    }

    /// `POST /events/{id}/waitlist` as `customer`, with `Idempotency-Key: key`.
    pub async fn join_waitlist(
        &self,
        event_id: &str,
        customer: &str,
        key: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.as_customer(customer)
            .post(&format!("/events/{event_id}/waitlist"), Some(key), body)
            .await
    }

    /// `POST /waitlist/{id}/leave` as `customer`.
    pub async fn leave_waitlist(&self, waitlist_id: &str, customer: &str) -> (StatusCode, Value) {
        self.as_customer(customer)
            .post(&format!("/waitlist/{waitlist_id}/leave"), None, &json!({}))
            .await
    }

    /// `POST /orders` for a hold, paying with `token` (`tok_ok`, `tok_decline`, `tok_slow`).
    pub async fn place_order(
        &self,
        key: &str,
        hold_id: &str,
        customer: &str,
        token: &str,
    ) -> (StatusCode, Value) {
        let body = json!({
            "hold_id": hold_id,
            "customer_id": customer,
            "payment": { "token": token },
        });
        self.post("/orders", Some(key), &body).await
    }

    /// `POST /orders/{order_id}/cancel`.
    pub async fn cancel_order(&self, order_id: &str, customer: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/orders/{order_id}/cancel"),
            None,
            &json!({ "customer_id": customer }),
        )
        .await
    }
}
