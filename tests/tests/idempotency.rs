//! Retries and bad requests: a retried hold is one hold with one answer, forever; a reused key, a
//! malformed or an invalid request is refused, and none of them appends anything.

use e2e::SEATED_SECTION;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use tv_nats::Stream;

const RETRIES: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_hold_is_one_hold() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("idem-event", &EventSpec::seated().to_json())
            .await;
        let body = HoldBody::seats("alice", SEATED_SECTION, &["C-4", "C-5"]);

        let tasks: Vec<_> = (0..RETRIES)
            .map(|_| {
                let (api, event, body) = (api.clone(), event.clone(), body.clone());
                tokio::spawn(async move { api.hold(&event, "alice-key-1", &body).await })
            })
            .collect();
        let answers: Vec<(StatusCode, Value)> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|a| a.expect("a client task"))
            .collect();
        let (first_status, first) = &answers[0];
        assert_eq!(*first_status, StatusCode::CREATED, "{first}");
        assert_eq!(first["seats"], json!(["C-4", "C-5"]));
        assert!(first["position"].as_str().is_some_and(|p| p.contains(':')));
        for (status, answer) in &answers {
            assert_eq!(status, first_status, "{answer}");
            assert_eq!(answer, first, "every retry gets the first answer");
        }

        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("SeatsHeld"), 1, "one hold in the stream");
        let position = format!(
            "{}:{}",
            env.store.naming().stream(Stream::Inventory),
            log.commits
                .iter()
                .find(|(_, facts)| facts.iter().any(|f| f.kind() == "SeatsHeld"))
                .expect("the SeatsHeld commit")
                .0
        );
        assert_eq!(
            first["position"],
            position.as_str(),
            "position names the commit"
        );

        // A retry long after the rush still gets the first answer and appends nothing.
        let before = log.last_sequence;
        let (status, again) = api.hold(&event, "alice-key-1", &body).await;
        assert_eq!((status, &again), (StatusCode::CREATED, first));

        // The same key with another body is refused, and appends nothing.
        let other = HoldBody::seats("alice", SEATED_SECTION, &["C-4", "C-6"]);
        let (status, refused) = api.hold(&event, "alice-key-1", &other).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(error_code(&refused), Some("idempotency_key_reused"));
        let other = HoldBody::quantity("alice", SEATED_SECTION, 2);
        let (status, refused) = api.hold(&event, "alice-key-1", &other).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(error_code(&refused), Some("idempotency_key_reused"));
        let after = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            after.last_sequence, before,
            "a refused key appended something"
        );
        assert_eq!(after.count("SeatsHeld"), 1);

        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_are_refused_and_append_nothing() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale(
                "bad-event",
                &EventSpec::seated().with_ga("floor", 50).to_json(),
            )
            .await;
        let holds = format!("/events/{event}/holds");
        let stream_end = env
            .store
            .last_sequence(Stream::Inventory)
            .await
            .expect("stream info");
        let catalog_end = env
            .store
            .last_sequence(Stream::Catalog)
            .await
            .expect("stream info");
        let seats = |seats: &[&str]| HoldBody::seats("bob", SEATED_SECTION, seats);
        let quantity =
            |q: Value| json!({"customer_id": "bob", "section_id": "floor", "quantity": q});
        let unknown_event = uuid::Uuid::new_v4();

        let unknown_holds = format!("/events/{unknown_event}/holds");
        let (bad, unprocessable, not_found) = (
            StatusCode::BAD_REQUEST,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::NOT_FOUND,
        );
        let cases = [
            Case::new(
                "missing key",
                &holds,
                seats(&["A-1"]),
                bad,
                "missing_idempotency_key",
            )
            .without_key(),
            Case::raw(
                "malformed JSON",
                &holds,
                r#"{"customer_id": "bob", "#,
                bad,
                "malformed_json",
            ),
            Case::new(
                "unknown event",
                &unknown_holds,
                seats(&["A-1"]),
                not_found,
                "unknown_event",
            ),
            Case::new(
                "malformed event id",
                "/events/not-a-uuid/holds",
                seats(&["A-1"]),
                bad,
                "invalid_event_id",
            ),
            Case::new(
                "unknown section",
                &holds,
                HoldBody::seats("bob", "balcony", &["A-1"]),
                not_found,
                "unknown_section",
            ),
            Case::new(
                "unknown seat",
                &holds,
                seats(&["Z-1"]),
                unprocessable,
                "unknown_seat",
            ),
            Case::new(
                "seat twice",
                &holds,
                seats(&["A-1", "A-2", "A-1"]),
                unprocessable,
                "duplicate_seat",
            ),
            Case::new(
                "no seat",
                &holds,
                seats(&[]),
                unprocessable,
                "invalid_quantity",
            ),
            Case::new(
                "quantity 0",
                &holds,
                quantity(json!(0)),
                unprocessable,
                "invalid_quantity",
            ),
            Case::new(
                "quantity -1",
                &holds,
                quantity(json!(-1)),
                unprocessable,
                "invalid_request",
            ),
            Case::new(
                "quantity 10^12",
                &holds,
                quantity(json!(1_000_000_000_000u64)),
                unprocessable,
                "invalid_request",
            ),
            Case::new(
                "quantity over the limit",
                &holds,
                quantity(json!(9)),
                unprocessable,
                "invalid_quantity",
            ),
            Case::new(
                "seats and quantity",
                &holds,
                json!({"customer_id": "bob", "section_id": SEATED_SECTION,
                       "seats": ["A-1"], "quantity": 1}),
                unprocessable,
                "invalid_request",
            ),
            Case::new(
                "seats in general admission",
                &holds,
                HoldBody::seats("bob", "floor", &["A-1"]),
                unprocessable,
                "seats_in_general_admission",
            ),
            Case::new(
                "malformed seat label",
                &holds,
                seats(&["A-0"]),
                unprocessable,
                "invalid_seat",
            ),
            Case::new(
                "malformed customer",
                &holds,
                HoldBody::seats("has space", SEATED_SECTION, &["A-1"]),
                unprocessable,
                "invalid_customer_id",
            ),
            Case::new(
                "unknown field",
                &holds,
                json!({"customer_id": "bob", "section_id": "floor", "quantity": 1, "vip": true}),
                unprocessable,
                "invalid_request",
            ),
        ];
        for (i, case) in cases.iter().enumerate() {
            let key = format!("bad-{i}");
            let key = case.with_key.then_some(key.as_str());
            let (got, answer) = api.post_raw(&case.path, key, &case.body).await;
            let what = case.what;
            assert_eq!(got, case.status, "{what}: {answer}");
            assert_eq!(error_code(&answer), Some(case.code), "{what}: {answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{what}: an error says why: {answer}"
            );
        }

        let end = env
            .store
            .last_sequence(Stream::Inventory)
            .await
            .expect("info");
        assert_eq!(
            end, stream_end,
            "a refused request appended to the inventory"
        );
        let end = env
            .store
            .last_sequence(Stream::Catalog)
            .await
            .expect("info");
        assert_eq!(
            end, catalog_end,
            "a refused request appended to the catalog"
        );
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("SeatsHeld"), 0);

        // The same keys still work for a valid request afterwards: a refusal recorded nothing.
        let (status, body) = api.hold(&event, "bad-6", &seats(&["A-1", "A-2"])).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_gets_the_first_answer_on_another_instance_and_after_a_restart() {
    scenario(|env: TestEnv| async move {
        let http = e2e::client::http_client();
        let config = |snapshot_every| command_svc::Config {
            snapshot_every,
            ..command_svc::Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        // Default snapshots (none in a test this small): see snapshots.rs for why.
        let first = CommandSvc::spawn_with(config(1000), http.clone()).await;
        let second = CommandSvc::spawn_with(config(1000), http.clone()).await;
        let event = first
            .api()
            .create_on_sale("retry-event", &EventSpec::seated().to_json())
            .await;
        let carol = HoldBody::seats("carol", SEATED_SECTION, &["E-5", "E-6"]);

        // Half of the retries go to each instance: two writers, one hold.
        let tasks: Vec<_> = (0..RETRIES)
            .map(|i| {
                let api = if i % 2 == 0 {
                    first.api()
                } else {
                    second.api()
                }
                .clone();
                let (event, body) = (event.clone(), carol.clone());
                tokio::spawn(async move { api.hold(&event, "carol-key", &body).await })
            })
            .collect();
        let answers: Vec<(StatusCode, Value)> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|a| a.expect("a client task"))
            .collect();
        let carol_answer = answers[0].1.clone();
        for (status, answer) in &answers {
            assert_eq!(*status, StatusCode::CREATED, "{answer}");
            assert_eq!(
                answer, &carol_answer,
                "both instances give the first answer"
            );
        }
        assert_eq!(
            InventoryLog::read(&env.store, &event)
                .await
                .count("SeatsHeld"),
            1
        );
        first.shutdown().await;
        second.shutdown().await;

        // A fresh instance restores the event from the stream alone and still knows the hold;
        // it snapshots after every commit.
        let third = CommandSvc::spawn_with(config(1), http.clone()).await;
        let (status, again) = third.api().hold(&event, "carol-key", &carol).await;
        assert_eq!((status, &again), (StatusCode::CREATED, &carol_answer));
        let dan = HoldBody::seats("dan", SEATED_SECTION, &["E-7"]);
        let (status, dan_answer) = third.api().hold(&event, "dan-key", &dan).await;
        assert_eq!(status, StatusCode::CREATED, "{dan_answer}");
        let end = InventoryLog::read(&env.store, &event).await.last_sequence;
        // The snapshot is saved in the background: wait until it includes dan's commit.
        let snapshots = tv_nats::Snapshots::open(&env.store).await.expect("bucket");
        let key = format!("inventory.{event}");
        let saved = e2e::eventually(Duration::from_secs(10), || {
            let (snapshots, key) = (snapshots.clone(), key.clone());
            async move {
                let loaded = tokio::time::timeout(Duration::from_secs(2), snapshots.load(&key));
                match loaded.await {
                    Ok(Ok(Some((sequence, _)))) if sequence == end => Some(()),
                    _ => None,
                }
            }
        })
        .await;
        assert!(
            saved.is_some(),
            "no snapshot at sequence {end} with snapshot_every 1"
        );
        third.shutdown().await;

        // Restored from that snapshot: both holds are known, their seats taken.
        let fourth = CommandSvc::spawn_with(config(1000), http).await;
        let (status, again) = fourth.api().hold(&event, "carol-key", &carol).await;
        assert_eq!((status, &again), (StatusCode::CREATED, &carol_answer));
        let (status, again) = fourth.api().hold(&event, "dan-key", &dan).await;
        assert_eq!((status, &again), (StatusCode::CREATED, &dan_answer));
        let (status, taken) = fourth
            .api()
            .hold(
                &event,
                "erin-key",
                &HoldBody::seats("erin", SEATED_SECTION, &["E-6", "E-7"]),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{taken}");
        assert_eq!(error_code(&taken), Some("seat_unavailable"));
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            end
        );

        fourth.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_release_frees_the_seats_once_and_only_for_the_owner() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("release-event", &EventSpec::seated().to_json())
            .await;
        let (status, held) = api
            .hold(
                &event,
                "erin-1",
                &HoldBody::seats("erin", SEATED_SECTION, &["F-1", "F-2"]),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        let hold = held["hold_id"].as_str().expect("hold_id");

        // Someone else's hold is answered as one that does not exist.
        let (status, not_yours) = api.release(hold, "mallory").await;
        let unknown = format!("{event}.{}", uuid::Uuid::new_v4());
        let (unknown_status, refused) = api.release(&unknown, "erin").await;
        assert_eq!(unknown_status, StatusCode::NOT_FOUND, "{refused}");
        assert_eq!(error_code(&refused), Some("unknown_hold"));
        assert_eq!((status, &not_yours), (unknown_status, &refused));

        let (status, released) = api.release(hold, "erin").await;
        assert_eq!(status, StatusCode::OK, "{released}");
        assert_eq!(released["status"], "released");
        let end = InventoryLog::read(&env.store, &event).await.last_sequence;
        let (status, again) = api.release(hold, "erin").await;
        assert_eq!(status, StatusCode::OK, "a retried release: {again}");
        assert_eq!(again["status"], "released");

        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            log.last_sequence, end,
            "a retried release appended something"
        );
        assert_eq!(log.count("HoldReleased"), 1);
        assert!(
            log.seat_owners().is_empty(),
            "the seats are free in the stream"
        );

        let (status, body) = api
            .hold(
                &event,
                "frank-1",
                &HoldBody::seats("frank", SEATED_SECTION, &["F-2", "F-3"]),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "released seats are on sale again: {body}"
        );

        svc.shutdown().await;
    })
    .await;
}

/// One request that must be refused: what it is, where it goes, and the expected answer.
struct Case {
    what: &'static str,
    path: String,
    body: String,
    with_key: bool,
    status: StatusCode,
    code: &'static str,
}

impl Case {
    fn new(
        what: &'static str,
        path: &str,
        body: Value,
        status: StatusCode,
        code: &'static str,
    ) -> Self {
        Self::raw(what, path, &body.to_string(), status, code)
    }

    fn raw(
        what: &'static str,
        path: &str,
        body: &str,
        status: StatusCode,
        code: &'static str,
    ) -> Self {
        Self {
            what,
            path: path.to_owned(),
            body: body.to_owned(),
            with_key: true,
            status,
            code,
        }
    }

    fn without_key(mut self) -> Self {
        self.with_key = false;
        self
    }
}
