//! An event sold through a waiting room, against command-svc: a hold needs an `Admission` token
//! of its customer for its event, signed with the admission key and still live. Every refusal is
//! a clear `403` and appends nothing; an event without a waiting room ignores the header.

use e2e::client::customer_authorization;
use e2e::{error_code, scenario, CommandSvc, EventSpec, InventoryLog, TestEnv, GA_SECTION};
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a formattable time")
}

/// A GA event whose sale opened a minute ago, behind a waiting room that opened ten minutes ago.
fn queued_event() -> Value {
    let now = OffsetDateTime::now_utc();
    let mut body = EventSpec::ga(100)
        .sale_opens_at(&rfc3339(now - Duration::minutes(1)))
        .to_json();
    body["waiting_room"] = json!({
        "opens_at": rfc3339(now - Duration::minutes(10)),
        "admit_per_minute": 600,
        "max_active": 1000,
    });
    body
}

/// `POST /events/{event}/holds` for two GA tickets as `customer`, with `admission` if any.
async fn hold(
    svc: &CommandSvc,
    event: &str,
    customer: &str,
    key: &str,
    admission: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = svc
        .api()
        .http()
        .post(format!("{}/events/{event}/holds", svc.api().base_url()))
        .header("Authorization", customer_authorization(customer))
        .header("Idempotency-Key", key)
        .json(&json!({ "section_id": GA_SECTION, "quantity": 2 }));
    if let Some(token) = admission {
        request = request.header("Admission", token);
    }
    let response = request.send().await.expect("command-svc answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON answer"))
}

/// An admission of `customer` to `event` that ends `lasts` from now, signed with `key`'s secret.
fn admission(customer: &str, event: &str, lasts: Duration) -> String {
    let now = OffsetDateTime::now_utc();
    auth::testing::admission_token(
        customer,
        event,
        now.unix_timestamp() - 5,
        (now + lasts).unix_timestamp(),
    )
}

#[track_caller]
fn assert_refused(answer: &(StatusCode, Value), code: &str) {
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    assert_eq!(error_code(&answer.1), Some(code), "{}", answer.1);
    assert!(answer.1["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_needs_a_live_admission_of_its_customer_to_its_event() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let event = svc.api().create_on_sale("queued", &queued_event()).await;
        let other_event = svc
            .api()
            .create_on_sale("plain", &EventSpec::ga(100).to_json())
            .await;
        let hour = Duration::hours(1);

        // Refusals first: each a 403 with its code, none of them appends anything.
        assert_refused(
            &hold(&svc, &event, "alice", "k1", None).await,
            "not_admitted",
        );
        let expired = admission("alice", &event, -Duration::seconds(1));
        assert_refused(
            &hold(&svc, &event, "alice", "k2", Some(&expired)).await,
            "admission_expired",
        );
        let bobs = admission("bob", &event, hour);
        assert_refused(
            &hold(&svc, &event, "alice", "k3", Some(&bobs)).await,
            "not_admitted",
        );
        let elsewhere = admission("alice", &other_event, hour);
        assert_refused(
            &hold(&svc, &event, "alice", "k4", Some(&elsewhere)).await,
            "not_admitted",
        );
        let forged =
            auth::AdmissionKey::new(&"someone-else-s-admission-key-0123456789".parse().unwrap())
                .sign(&auth::AdmissionTokenClaims::new(
                    "alice",
                    &event,
                    0,
                    (OffsetDateTime::now_utc() + hour).unix_timestamp(),
                ));
        assert_refused(
            &hold(&svc, &event, "alice", "k5", Some(&forged)).await,
            "not_admitted",
        );
        assert_refused(
            &hold(&svc, &event, "alice", "k6", Some("not.a.token")).await,
            "not_admitted",
        );
        // A customer's bearer token is no admission, even for its own customer.
        let bearer = auth::testing::customer_token("alice");
        assert_refused(
            &hold(&svc, &event, "alice", "k7", Some(&bearer)).await,
            "not_admitted",
        );
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("SeatsHeld"), 0, "a refused hold appended nothing");

        // Admitted: the hold is placed, and its retry (even without the header) is the same.
        let alices = admission("alice", &event, hour);
        let (status, placed) = hold(&svc, &event, "alice", "k8", Some(&alices)).await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        let (status, again) = hold(&svc, &event, "alice", "k8", None).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again["hold_id"], placed["hold_id"]);
        assert_eq!(
            InventoryLog::read(&env.store, &event)
                .await
                .count("SeatsHeld"),
            1
        );

        // An event without a waiting room does not look at the header.
        let (status, plain) = hold(&svc, &other_event, "alice", "k9", Some("not.a.token")).await;
        assert_eq!(status, StatusCode::CREATED, "{plain}");
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_room_that_opens_after_the_sale_is_refused_at_creation() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let mut body = queued_event();
        body["waiting_room"]["opens_at"] = body["sale_opens_at"].clone();
        let (status, refused) = svc.api().try_create_event(Some("late-room"), &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("waiting_room.opens_at"), "{refused}");
        svc.shutdown().await;
    })
    .await;
}
