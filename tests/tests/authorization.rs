//! Who may do what, against the real services: every command needs a bearer token, catalog
//! commands an operator's and holds and orders a customer's, whose subject is the customer. A
//! request refused for its token (401 `unauthenticated`, 403 `forbidden`), for a hold or an
//! order that is another customer's (answered exactly as one that does not exist: 404
//! `unknown_hold` / `unknown_order`) or for a body naming another customer than the token (403
//! `customer_mismatch`) appends nothing to any stream. On the read side, a hold and an order are
//! answered only to their customer or an operator, and to anyone else as if they did not exist.

use auth::{Claims, Issuer, Role};
use domain::ordering::OrderStatus;
use e2e::client::{customer_authorization, operator_authorization};
use e2e::orders::{order_id, wait_for_order};
use e2e::readside::ReadSide;
use e2e::{error_code, scenario, Api, CommandSvc, EventSpec, HoldBody, TestEnv, SEATED_SECTION};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tv_nats::{EventStore, Stream};

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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A token with every role, signed with a secret the services do not know.
fn forged() -> String {
    let secret = "not-the-services-secret-but-long-enough-0123"
        .parse()
        .expect("a secret");
    let token = Issuer::new(&secret, None).mint(
        "alice",
        &[Role::Customer, Role::Operator],
        Duration::from_secs(600),
    );
    format!("Bearer {token}")
}

/// A token with every role, signed with the right secret, that expired an hour ago.
fn expired() -> String {
    let token = auth::testing::issuer().mint_claims(&Claims {
        sub: "alice".into(),
        roles: vec![Role::Customer, Role::Operator],
        exp: now() - 3600,
        iat: now() - 7200,
        iss: None,
        aud: Some("ticketview".into()),
    });
    format!("Bearer {token}")
}

/// A seated event on sale and alice's hold of in it: (event id, hold id).
async fn alice_holds(api: &Api, key: &str) -> (String, String) {
    let event = api
        .create_on_sale(key, &EventSpec::seated().to_json())
        .await;
    let body = HoldBody::seats("alice", SEATED_SECTION, &["A-1", "A-2"]);
    let (status, hold) = api.hold(&event, &format!("{key}-hold"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    (
        event,
        hold["hold_id"].as_str().expect("a hold id").to_owned(),
    )
}

/// Someone else's hold or order is answered exactly as an id that does not exist: same status,
/// same code, same message.
fn assert_as_if_unknown(what: &str, answer: &(StatusCode, Value), unknown: &(StatusCode, Value)) {
    assert_eq!(unknown.0, StatusCode::NOT_FOUND, "{what}: {}", unknown.1);
    assert_eq!(answer, unknown, "{what}: answered unlike an unknown id");
}

/// The path of an id of the same kind that does not exist (`None` for a customer's order list).
fn unknown_twin(path: &str, event: &str) -> Option<String> {
    let random = uuid::Uuid::new_v4();
    if path.starts_with("/holds/") {
        Some(format!("/holds/{event}.{random}"))
    } else if path.starts_with("/orders/") {
        Some(format!("/orders/{random}"))
    } else {
        None
    }
}

fn assert_refused(what: &str, answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{what}: {}", answer.1);
    assert_eq!(error_code(&answer.1), Some(code), "{what}: {}", answer.1);
    assert!(
        answer.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: an error says why: {}",
        answer.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_without_a_valid_token_is_unauthenticated_and_appends_nothing() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let (event, hold) = alice_holds(&api, "no-token").await;
        let order = uuid::Uuid::new_v4();
        let callers = [
            ("no token", api.anonymous()),
            (
                "a Basic header",
                api.with_authorization("Basic YWxpY2U6cGFzcw=="),
            ),
            (
                "a bare token",
                api.with_authorization(auth::testing::operator_token().as_str()),
            ),
            ("a forged signature", api.with_authorization(&forged())),
            ("an expired token", api.with_authorization(&expired())),
        ];
        let before = stream_ends(&env.store).await;
        for (who, caller) in &callers {
            let answers = [
                caller
                    .try_create_event(Some("nt"), &EventSpec::seated().to_json())
                    .await,
                caller.try_publish(&event).await,
                caller
                    .hold(
                        &event,
                        "nt-hold",
                        &HoldBody::seats("alice", SEATED_SECTION, &["B-1"]),
                    )
                    .await,
                caller.release(&hold, "alice").await,
                caller
                    .place_order("nt-order", &hold, "alice", "tok_ok")
                    .await,
                caller.cancel_order(&order.to_string(), "alice").await,
            ];
            for answer in &answers {
                assert_refused(who, answer, StatusCode::UNAUTHORIZED, "unauthenticated");
            }
        }
        assert_eq!(
            stream_ends(&env.store).await,
            before,
            "a refused request appended to a stream"
        );

        // A 401 carries the Bearer challenge (RFC 6750).
        for (who, authorization) in [("no token", None), ("an expired token", Some(expired()))] {
            let mut request = api
                .http()
                .post(format!("{}/holds/{hold}/release", api.base_url()))
                .json(&json!({}));
            if let Some(authorization) = authorization {
                request = request.header("authorization", authorization);
            }
            let answer = request.send().await.expect("an answer");
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{who}");
            let challenge = answer
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(challenge.starts_with("Bearer"), "{who}: {challenge:?}");
        }
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_command_needs_its_role() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let (event, hold) = alice_holds(&api, "roles").await;
        let draft = api
            .create_event("roles-draft", &EventSpec::seated().to_json())
            .await;
        let before = stream_ends(&env.store).await;

        let alice = api.as_customer("alice");
        assert_refused(
            "a customer creating an event",
            &alice
                .try_create_event(Some("by-alice"), &EventSpec::seated().to_json())
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_refused(
            "a customer publishing an event",
            &alice.try_publish(&draft).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        let operator = api.with_authorization(&operator_authorization());
        assert_refused(
            "an operator placing a hold",
            &operator
                .hold(
                    &event,
                    "by-operator",
                    &json!({"section_id": SEATED_SECTION, "seats": ["C-1"]}),
                )
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_refused(
            "an operator ordering a hold",
            &operator
                .post(
                    "/orders",
                    Some("by-operator"),
                    &json!({"hold_id": hold, "payment": {"token": "tok_ok"}}),
                )
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_eq!(
            stream_ends(&env.store).await,
            before,
            "a refused request appended to a stream"
        );

        // With the role, the same requests go through.
        let (status, published) = api.try_publish(&draft).await;
        assert_eq!(status, StatusCode::OK, "{published}");
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_customer_s_hold_is_neither_released_nor_ordered() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let (_, hold) = alice_holds(&api, "not-yours").await;
        let mallory = api.as_customer("mallory");
        let before = stream_ends(&env.store).await;

        // With the body naming mallory, as the token does, and with no customer in the body.
        let (event, _) = hold.split_once('.').expect("<event>.<hold>");
        let unknown = format!("{event}.{}", uuid::Uuid::new_v4());
        assert_as_if_unknown(
            "mallory releasing alice's hold",
            &mallory.release(&hold, "mallory").await,
            &mallory.release(&unknown, "mallory").await,
        );
        assert_as_if_unknown(
            "mallory releasing alice's hold (no customer in the body)",
            &mallory
                .post(&format!("/holds/{hold}/release"), None, &json!({}))
                .await,
            &mallory
                .post(&format!("/holds/{unknown}/release"), None, &json!({}))
                .await,
        );
        assert_as_if_unknown(
            "mallory ordering alice's hold",
            &mallory
                .place_order("mallory-buys", &hold, "mallory", "tok_ok")
                .await,
            &mallory
                .place_order("mallory-buys-nothing", &unknown, "mallory", "tok_ok")
                .await,
        );
        assert_eq!(
            stream_ends(&env.store).await,
            before,
            "a refused request appended to a stream"
        );

        // Alice still can.
        let (status, released) = api.as_customer("alice").release(&hold, "alice").await;
        assert_eq!(status, StatusCode::OK, "{released}");
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_customer_s_order_is_not_cancelled() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let (_, hold) = alice_holds(&api, "order-not-yours").await;
        let (status, placed) = api
            .place_order("alice-buys", &hold, "alice", "tok_ok")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = placed["order_id"].as_str().expect("an order id").to_owned();
        // Fulfilment settles the order first, so that the streams stand still.
        wait_for_order(
            &env.store,
            order_id(&order),
            Duration::from_secs(20),
            |status| status == OrderStatus::Confirmed,
        )
        .await;
        let before = stream_ends(&env.store).await;

        let mallory = api.as_customer("mallory");
        let unknown = uuid::Uuid::new_v4().to_string();
        assert_as_if_unknown(
            "mallory cancelling alice's order",
            &mallory.cancel_order(&order, "mallory").await,
            &mallory.cancel_order(&unknown, "mallory").await,
        );
        assert_as_if_unknown(
            "mallory cancelling alice's order (no customer in the body)",
            &mallory
                .post(&format!("/orders/{order}/cancel"), None, &json!({}))
                .await,
            &mallory
                .post(&format!("/orders/{unknown}/cancel"), None, &json!({}))
                .await,
        );
        assert_eq!(
            stream_ends(&env.store).await,
            before,
            "a refused request appended to a stream"
        );
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_naming_another_customer_than_the_token_is_refused() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let (event, hold) = alice_holds(&api, "mismatch").await;
        let alice = api.as_customer("alice");
        let before = stream_ends(&env.store).await;

        let answers = [
            (
                "a hold for bob",
                alice
                    .hold(
                        &event,
                        "for-bob",
                        &HoldBody::seats("bob", SEATED_SECTION, &["D-1"]),
                    )
                    .await,
            ),
            ("a release for bob", alice.release(&hold, "bob").await),
            (
                "an order for bob",
                alice.place_order("for-bob", &hold, "bob", "tok_ok").await,
            ),
            (
                "a cancellation for bob",
                alice
                    .cancel_order(&uuid::Uuid::new_v4().to_string(), "bob")
                    .await,
            ),
        ];
        for (what, answer) in &answers {
            assert_refused(what, answer, StatusCode::FORBIDDEN, "customer_mismatch");
        }
        assert_eq!(
            stream_ends(&env.store).await,
            before,
            "a refused request appended to a stream"
        );

        // Without customer_id, the customer is the token's: alice's second hold is hers.
        let (status, second) = alice
            .hold(
                &event,
                "no-customer-in-body",
                &json!({"section_id": SEATED_SECTION, "seats": ["D-2"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        let second = second["hold_id"].as_str().expect("a hold id");
        assert_as_if_unknown(
            "bob releasing alice's hold placed without a customer in the body",
            &api.as_customer("bob").release(second, "bob").await,
            &api.as_customer("bob")
                .release(&format!("{event}.{}", uuid::Uuid::new_v4()), "bob")
                .await,
        );
        let (status, released) = alice
            .post(&format!("/holds/{second}/release"), None, &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{released}");
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_and_orders_are_read_only_by_their_customer_or_an_operator() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let (event, hold) = alice_holds(&api, "reads").await;
        let (status, placed) = api.place_order("reads-buy", &hold, "alice", "tok_ok").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = placed["order_id"].as_str().expect("an order id").to_owned();
        let after = placed["position"].as_str().expect("a position").to_owned();
        let hold_path = format!("/holds/{hold}");
        read.get_until(&hold_path, Duration::from_secs(20), |status, _| {
            status == StatusCode::OK
        })
        .await;
        read.get_until(
            &format!("/orders/{order}?after={after}"),
            Duration::from_secs(20),
            |status, _| status == StatusCode::OK,
        )
        .await;

        let alice = customer_authorization("alice");
        let bob = customer_authorization("bob");
        let operator = operator_authorization();
        for path in [
            format!("/holds/{hold}"),
            format!("/orders/{order}"),
            "/customers/alice/orders".to_owned(),
        ] {
            let (status, body) = read.get_as(&path, None).await;
            assert_eq!(
                (status, error_code(&body)),
                (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
                "{path} without a token: {body}"
            );
            let (status, body) = read.get_as(&path, Some(&forged())).await;
            assert_eq!(
                (status, error_code(&body)),
                (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
                "{path} with a forged token: {body}"
            );
            let as_bob = read.get_as(&path, Some(&bob)).await;
            match unknown_twin(&path, &event) {
                Some(unknown) => assert_as_if_unknown(
                    &format!("{path} as bob"),
                    &as_bob,
                    &read.get_as(&unknown, Some(&bob)).await,
                ),
                // Another customer's list: refused whoever it is, so it tells nothing.
                None => assert_eq!(
                    (as_bob.0, error_code(&as_bob.1)),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{path} as bob: {}",
                    as_bob.1
                ),
            }
            let (status, body) = read.get_as(&path, Some(&alice)).await;
            assert_eq!(status, StatusCode::OK, "{path} as alice: {body}");
            let (status, body) = read.get_as(&path, Some(&operator)).await;
            assert_eq!(status, StatusCode::OK, "{path} as an operator: {body}");
        }
        let (_, mine) = read.get_as("/customers/alice/orders", Some(&alice)).await;
        assert!(
            mine.as_array()
                .is_some_and(|orders| orders.iter().any(|o| o["order_id"] == order.as_str())),
            "alice's orders list her order: {mine}"
        );

        // The catalog and availability stay public.
        for path in [
            "/events".to_owned(),
            format!("/events/{event}"),
            format!("/events/{event}/availability"),
        ] {
            let (status, body) = read.get_as(&path, None).await;
            assert_eq!(status, StatusCode::OK, "{path} without a token: {body}");
        }
        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}
