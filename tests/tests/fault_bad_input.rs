//! Bad input that `idempotency.rs` does not already send: bodies too large, not UTF-8, not JSON,
//! of the wrong content type or shape; malformed and unknown ids on every command; keys that are
//! not visible ASCII. Each is refused with its documented status and stable code, as a JSON error,
//! and appends nothing to any stream.
//!
//! (Covered in `idempotency.rs`, not repeated here: a missing key, malformed JSON, an unknown or
//! malformed event id on a hold, unknown section and seat, a seat twice, no seat, quantity 0, -1,
//! 10^12 and over the limit, seats and quantity together, seats in general admission, a malformed
//! seat label or customer, an unknown field in a hold, an unknown hold of a known event.)
//!
//! `scripts/fuzz` sends thousands more, generated from the OpenAPI documents; the tests marked
//! `BUG` below reproduce what it found, one each, and fail until the service is fixed.

use e2e::{error_code, scenario, CommandSvc, EventSpec, TestEnv, SEATED_SECTION};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tv_nats::{EventStore, Stream};

/// One refused request: what it is, where it goes, and the answer it must get.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

impl Case {
    /// A POST with a JSON content type and a fresh idempotency key.
    fn post(what: &'static str, path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            what,
            method: Method::POST,
            path: path.to_owned(),
            headers: vec![
                ("content-type", HeaderValue::from_static("application/json")),
                (
                    "idempotency-key",
                    HeaderValue::from_str(&format!("bad-input-{}", uuid::Uuid::new_v4()))
                        .expect("a header value"),
                ),
            ],
            body: body.into(),
            status: StatusCode::IM_A_TEAPOT,
            code: "",
        }
    }

    fn json(what: &'static str, path: &str, body: &Value) -> Self {
        Self::post(what, path, body.to_string())
    }

    fn header(mut self, name: &'static str, value: HeaderValue) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value));
        self
    }

    fn without(mut self, name: &'static str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self
    }

    fn expect(mut self, status: StatusCode, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }
}

/// Sends a case with the token the client would send (an operator's on catalog commands, the
/// body's customer's on the others), so that the input, not the token, is what is refused.
async fn send(http: &reqwest::Client, base_url: &str, case: &Case) -> (StatusCode, Value) {
    let mut request = http.request(case.method.clone(), format!("{base_url}{}", case.path));
    for (name, value) in &case.headers {
        request = request.header(HeaderName::from_static(name), value.clone());
    }
    if !case
        .headers
        .iter()
        .any(|(name, _)| *name == "authorization")
    {
        request = request.header(
            "authorization",
            e2e::client::authorization_for_raw(&case.path, &case.body),
        );
    }
    let response = request
        .body(case.body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: no answer: {e}", case.what));
    let status = response.status();
    let json_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bytes = response.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        Value::String(format!(
            "not JSON (content type JSON: {json_type}): {}",
            String::from_utf8_lossy(&bytes)
        ))
    });
    (status, body)
}

/// The last sequence of every stream of the store's prefix.
async fn stream_ends(store: &EventStore) -> Vec<(Stream, u64)> {
    let mut ends = Vec::new();
    for stream in Stream::ALL {
        let end = store
            .last_sequence(stream)
            .await
            .unwrap_or_else(|e| panic!("stream info of {stream:?}: {e}"));
        ends.push((stream, end));
    }
    ends
}

fn assert_json_error(what: &str, body: &Value, code: &str) {
    assert_eq!(error_code(body), Some(code), "{what}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: an error says why: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused_with_their_code_and_append_nothing() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("bad-input-event", &EventSpec::seated().to_json())
            .await;
        let holds = format!("/events/{event}/holds");
        let hold = json!({"customer_id": "bob", "section_id": SEATED_SECTION, "quantity": 1});
        let unknown_event = uuid::Uuid::new_v4();
        let unknown_hold = format!("{unknown_event}.{}", uuid::Uuid::new_v4());
        let valid_event = EventSpec::seated().to_json();
        let event_with = |field: &str, value: Value| {
            let mut body = valid_event.clone();
            body[field] = value;
            body
        };
        let (bad, too_large, unsupported, unprocessable, not_found) = (
            StatusCode::BAD_REQUEST,
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::NOT_FOUND,
        );
        // Just over the 1 MiB limit, and valid JSON otherwise.
        let oversized = json!({"customer_id": "x".repeat(1024 * 1024), "section_id": "stalls", "quantity": 1});
        let cases = [
            Case::json("hold over 1 MiB", &holds, &oversized).expect(too_large, "body_too_large"),
            Case::json("event over 1 MiB", "/events", &event_with("name", json!("n".repeat(1024 * 1024))))
                .expect(too_large, "body_too_large"),
            Case::post(
                "hold not UTF-8",
                &holds,
                b"{\"customer_id\": \"\xff\xfe\", \"section_id\": \"stalls\", \"quantity\": 1}".to_vec(),
            )
            .expect(bad, "malformed_json"),
            Case::post("event not UTF-8", "/events", b"{\"name\": \"\xc3\x28\"}".to_vec())
                .expect(bad, "malformed_json"),
            Case::json("hold as text/plain", &holds, &hold)
                .header("content-type", HeaderValue::from_static("text/plain"))
                .expect(unsupported, "unsupported_media_type"),
            Case::json("hold without a content type", &holds, &hold)
                .without("content-type")
                .expect(unsupported, "unsupported_media_type"),
            Case::json("release as form data", &format!("/holds/{unknown_hold}/release"), &json!({"customer_id": "bob"}))
                .header("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"))
                .expect(unsupported, "unsupported_media_type"),
            Case::json("event as text/plain", "/events", &valid_event)
                .header("content-type", HeaderValue::from_static("text/plain"))
                .expect(unsupported, "unsupported_media_type"),
            Case::post("trailing garbage", &holds, format!("{hold} and more"))
                .expect(bad, "malformed_json"),
            Case::post("empty body", &holds, "").expect(bad, "malformed_json"),
            Case::post("body null", &holds, "null").expect(unprocessable, "invalid_request"),
            Case::post("body a list", &holds, "[]").expect(unprocessable, "invalid_request"),
            Case::post("deeply nested", &holds, "[".repeat(100_000))
                .expect(unprocessable, "invalid_request"),
            Case::json("quantity a string", &holds, &json!({"customer_id": "bob", "section_id": SEATED_SECTION, "quantity": "2"}))
                .expect(unprocessable, "invalid_request"),
            Case::json("quantity a fraction", &holds, &json!({"customer_id": "bob", "section_id": SEATED_SECTION, "quantity": 1.5}))
                .expect(unprocessable, "invalid_request"),
            Case::json("quantity 2^32", &holds, &json!({"customer_id": "bob", "section_id": SEATED_SECTION, "quantity": 4_294_967_296u64}))
                .expect(unprocessable, "invalid_request"),
            Case::json("customer of 65 characters", &holds, &json!({"customer_id": "c".repeat(65), "section_id": SEATED_SECTION, "quantity": 1}))
                .expect(unprocessable, "invalid_customer_id"),
            Case::json("malformed section id", &holds, &json!({"customer_id": "bob", "section_id": "no such!", "quantity": 1}))
                .expect(unprocessable, "invalid_section_id"),
            Case::json("key of 201 characters", &holds, &hold)
                .header("idempotency-key", HeaderValue::from_str(&"k".repeat(201)).expect("a value"))
                .expect(bad, "invalid_idempotency_key"),
            Case::json("key with a space", &holds, &hold)
                .header("idempotency-key", HeaderValue::from_static("two words"))
                .expect(bad, "invalid_idempotency_key"),
            Case::json("key not ASCII", &holds, &hold)
                .header("idempotency-key", HeaderValue::from_bytes(b"caf\xc3\xa9").expect("a value"))
                .expect(bad, "invalid_idempotency_key"),
            Case::json("event key with a space", "/events", &valid_event)
                .header("idempotency-key", HeaderValue::from_static("two words"))
                .expect(bad, "invalid_idempotency_key"),
            Case::json("malformed hold id", "/holds/not-a-hold/release", &json!({"customer_id": "bob"}))
                .expect(bad, "invalid_hold_id"),
            Case::json("hold id without its event", &format!("/holds/{}/release", uuid::Uuid::new_v4()), &json!({"customer_id": "bob"}))
                .expect(bad, "invalid_hold_id"),
            Case::json("hold of an unknown event", &format!("/holds/{unknown_hold}/release"), &json!({"customer_id": "bob"}))
                .expect(not_found, "unknown_hold"),
            Case::json("release with an unknown field", &format!("/holds/{event}.{}/release", uuid::Uuid::new_v4()), &json!({"customer_id": "bob", "force": true}))
                .expect(unprocessable, "invalid_request"),
            Case::json("release of a malformed customer", &format!("/holds/{event}.{}/release", uuid::Uuid::new_v4()), &json!({"customer_id": "has space"}))
                .expect(unprocessable, "invalid_customer_id"),
            Case::post("publish a malformed id", "/events/not-a-uuid/publish", "")
                .expect(bad, "invalid_event_id"),
            Case::post("publish an unknown event", &format!("/events/{unknown_event}/publish"), "")
                .expect(not_found, "unknown_event"),
            Case::json("event with an unknown field", "/events", &event_with("vip", json!(true)))
                .expect(unprocessable, "invalid_request"),
            Case::json("event without sections", "/events", &event_with("sections", json!([])))
                .expect(unprocessable, "invalid_event"),
            Case::json("event with a negative price", "/events", &{
                let mut body = valid_event.clone();
                body["sections"][0]["price_minor"] = json!(-1);
                body
            })
            .expect(unprocessable, "invalid_event"),
            Case::json("event starting at no time", "/events", &event_with("starts_at", json!("tomorrow")))
                .expect(unprocessable, "invalid_request"),
            Case::json("event with hold_ttl_seconds -5", "/events", &event_with("hold_ttl_seconds", json!(-5)))
                .expect(unprocessable, "invalid_request"),
            Case::post("event body a string", "/events", "\"an event\"")
                .expect(unprocessable, "invalid_request"),
        ];

        let http = api.http().clone();
        let before = stream_ends(&env.store).await;
        for case in &cases {
            let (status, body) = send(&http, &svc.base_url, case).await;
            assert_eq!(status, case.status, "{}: {body}", case.what);
            assert_json_error(case.what, &body, case.code);
        }
        let after = stream_ends(&env.store).await;
        assert_eq!(after, before, "a refused request appended to a stream");

        // The service is still well after all that: a valid hold is taken and stored.
        let (status, body) = api.hold(&event, "bad-input-valid", &hold).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_ne!(stream_ends(&env.store).await, before, "the valid hold was stored");

        svc.shutdown().await;
    })
    .await;
}

/// Found by `scripts/fuzz`: a repeated query parameter is answered with the API's JSON error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_svc_answers_a_malformed_query_string_with_a_json_error() {
    let prefix = e2e::unique_prefix();
    let database_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:15432/postgres".into());
    // The query string is refused before any read: the database is never queried for it.
    let mut config = query_svc::Config::for_test(&e2e::nats_url(), &database_url, &prefix);
    config.bind = "127.0.0.1:0".parse().expect("an address");
    let app = query_svc::build(config).await.expect("query-svc starts");
    let base_url = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let http = e2e::client::http_client();
    let event = uuid::Uuid::new_v4();
    for path in [
        "/events?after=a&after=b".to_owned(),
        format!("/events/{event}/availability?after=a&after=b"),
    ] {
        let case = Case {
            what: "a repeated query parameter",
            method: Method::GET,
            path,
            headers: Vec::new(),
            body: Vec::new(),
            status: StatusCode::BAD_REQUEST,
            code: "invalid_position",
        };
        let (status, body) = send(&http, &base_url, &case).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {body}", case.path);
        assert!(
            error_code(&body).is_some(),
            "{}: every error is {{\"error\": {{\"code\", \"message\"}}}}: {body}",
            case.path
        );
    }
    let _ = stop.send(());
    let _ = task.await;
}

/// Found by `scripts/fuzz`: a method a route does not take is answered with a JSON 405.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_is_answered_with_a_json_error() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let http = svc.api().http().clone();
        let case = Case {
            what: "GET on a POST route",
            method: Method::GET,
            path: format!("/events/{}/holds", uuid::Uuid::new_v4()),
            headers: Vec::new(),
            body: Vec::new(),
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
        };
        let (status, body) = send(&http, &svc.base_url, &case).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
        assert!(
            error_code(&body).is_some(),
            "every error is {{\"error\": {{\"code\", \"message\"}}}}: {body}"
        );
        svc.shutdown().await;
    })
    .await;
}

/// A path segment that does not decode to UTF-8 (`%FF`) is refused as a malformed id, with the
/// API's JSON error, on both services; before, axum's plain-text rejection went out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_does_not_decode_is_answered_with_a_json_error() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = e2e::readside::ReadSide::spawn(&env.prefix).await;
        let http = svc.api().http().clone();
        let event = uuid::Uuid::new_v4();
        let bad = StatusCode::BAD_REQUEST;
        let commands = [
            Case::post("publish %FF", "/events/%FF/publish", "").expect(bad, "invalid_event_id"),
            Case::json(
                "hold in event %FF",
                "/events/%FF/holds",
                &json!({"section_id": SEATED_SECTION, "quantity": 1}),
            )
            .expect(bad, "invalid_event_id"),
            Case::json("release %FF", "/holds/%FF/release", &json!({}))
                .expect(bad, "invalid_hold_id"),
            Case::json("cancel %C3%28", "/orders/%C3%28/cancel", &json!({}))
                .expect(bad, "invalid_order_id"),
        ];
        for case in &commands {
            let (status, body) = send(&http, &svc.base_url, case).await;
            assert_eq!(status, case.status, "{}: {body}", case.what);
            assert_json_error(case.what, &body, case.code);
        }
        let operator = e2e::client::operator_authorization();
        for (path, code) in [
            ("/events/%FF".to_owned(), "invalid_event_id"),
            ("/events/%FF/availability".to_owned(), "invalid_event_id"),
            (
                format!("/events/{event}/sections/%FF/seats"),
                "invalid_section_id",
            ),
            ("/holds/%FF".to_owned(), "invalid_hold_id"),
            ("/orders/%FF".to_owned(), "invalid_order_id"),
            ("/customers/%FF/orders".to_owned(), "invalid_customer_id"),
        ] {
            let (status, body) = read.get_as(&path, Some(&operator)).await;
            assert_eq!(status, bad, "{path}: {body}");
            assert_json_error(&path, &body, code);
        }
        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

/// Found in review: command-svc labelled its request metric with the method as sent, so that
/// every invented method made new time series. Now it is `other`, like a path no route matches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invented_method_or_path_never_becomes_a_metric_label() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let http = svc.api().http().clone();
        let invented = "XYZZYCOMMAND0815";
        let method = Method::from_bytes(invented.as_bytes()).expect("a method token");
        let answer = http
            .request(method, format!("{}/events", svc.base_url))
            .send()
            .await
            .expect("an answer");
        assert!(answer.status().is_client_error(), "{}", answer.status());
        let answer = http
            .get(format!("{}/no-route-qq9vz", svc.base_url))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        let metrics = http
            .get(format!("{}/metrics", svc.base_url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        assert!(
            metrics.contains("tv_http_request_seconds"),
            "requests are measured: {metrics}"
        );
        for line in metrics
            .lines()
            .filter(|l| l.starts_with("tv_http_request_seconds"))
        {
            assert!(!line.contains(invented), "a method became a label: {line}");
            assert!(!line.contains("qq9vz"), "a path became a label: {line}");
        }
        svc.shutdown().await;
    })
    .await;
}
