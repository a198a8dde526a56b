//! The waiting room in front of command-svc, end to end on real NATS: one place per customer
//! whatever the retries and instances, the same places after a restart, the prequeue shuffled
//! from a recorded seed, admissions paced and bounded, and a hold that needs the token the
//! waiting room signs. Bad input is a clear error and appends nothing.

use domain::ids::CustomerId;
use domain::waiting_room::{shuffle_prequeue, WaitingRoomEvent};
use e2e::client::customer_authorization;
use e2e::GA_SECTION;
use e2e::{error_code, queue_facts, scenario, CommandSvc, EventSpec, TestEnv, WaitingRoomSvc};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a formattable time")
}

/// A GA event of 100 whose sale opens `sale_in` from now (negative: already open), behind a
/// waiting room that opened ten minutes ago.
fn queued_event(sale_in: time::Duration, admit_per_minute: u32, max_active: u32) -> Value {
    queued_ga(100, sale_in, admit_per_minute, max_active)
}

/// [`queued_event`] with a GA section of `capacity`.
fn queued_ga(
    capacity: u32,
    sale_in: time::Duration,
    admit_per_minute: u32,
    max_active: u32,
) -> Value {
    let now = OffsetDateTime::now_utc();
    let mut body = EventSpec::ga(capacity)
        .sale_opens_at(&rfc3339(now + sale_in))
        .to_json();
    body["waiting_room"] = json!({
        "opens_at": rfc3339(now - time::Duration::minutes(10)),
        "admit_per_minute": admit_per_minute,
        "max_active": max_active,
        "admission_ttl_seconds": 60,
    });
    body
}

/// How many joins of each customer the stream holds.
async fn joins_per_customer(env: &TestEnv, event: &str) -> HashMap<CustomerId, usize> {
    let mut joins = HashMap::new();
    for fact in queue_facts(&env.store, event).await {
        if let WaitingRoomEvent::CustomerJoined { customer_id, .. } = fact.event {
            *joins.entry(customer_id).or_default() += 1;
        }
    }
    joins
}

async fn hold(
    svc: &CommandSvc,
    event: &str,
    customer: &str,
    admission: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = svc
        .api()
        .http()
        .post(format!("{}/events/{event}/holds", svc.api().base_url()))
        .header("Authorization", customer_authorization(customer))
        .header("Idempotency-Key", format!("hold-{customer}"))
        .json(&json!({ "section_id": GA_SECTION, "quantity": 2 }));
    if let Some(token) = admission {
        request = request.header("Admission", token);
    }
    let response = request.send().await.expect("command-svc answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admitted_customer_holds_with_the_token_and_nobody_holds_without_one() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let room = WaitingRoomSvc::spawn(&env.prefix).await;
        let event = svc
            .api()
            .create_on_sale(
                "queued",
                &queued_event(time::Duration::minutes(-1), 600, 100),
            )
            .await;

        let (status, first) = room.join(&event, "ann").await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["event_id"], event.as_str());
        let (status, again) = room.join(&event, "ann").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a second join keeps the place: {again}"
        );
        assert_eq!(again["joined_at"], first["joined_at"]);

        let refused = hold(&svc, &event, "ann", None).await;
        assert_eq!(refused.0, StatusCode::FORBIDDEN, "{}", refused.1);
        assert_eq!(error_code(&refused.1), Some("not_admitted"));

        let admitted = room.admitted(&event, "ann", Duration::from_secs(10)).await;
        let token = admitted["admission_token"].as_str().expect("a token");
        assert!(admitted["admitted_until"].is_string(), "{admitted}");
        // Bob cannot use Ann's token.
        let stolen = hold(&svc, &event, "bob", Some(token)).await;
        assert_eq!(error_code(&stolen.1), Some("not_admitted"), "{}", stolen.1);
        let held = hold(&svc, &event, "ann", Some(token)).await;
        assert_eq!(held.0, StatusCode::CREATED, "{}", held.1);

        let (status, counters) = room.counters(&event).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(counters["state"], "open");
        assert_eq!(counters["admitted_total"], 1);
        assert_eq!(counters["active"], 1);
        assert_eq!(counters["admit_per_minute"], 600);

        let (status, left) = room.leave(&event, "ann").await;
        assert_eq!(status, StatusCode::OK, "{left}");
        assert_eq!(left["state"], "left");
        assert_eq!(room.me(&event, "ann").await.1["state"], "left");
        let (_, counters) = room.counters(&event).await;
        assert_eq!(
            counters["active"], 0,
            "leaving ends the admission: {counters}"
        );
        room.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_racing_joins_on_two_instances_give_one_place_each_and_the_same_answers() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        // Nobody is admitted during the race: the sale opens in an hour.
        let event = svc
            .api()
            .create_on_sale("race", &queued_event(time::Duration::hours(1), 600, 100))
            .await;
        let one = WaitingRoomSvc::spawn(&env.prefix).await;
        let two = WaitingRoomSvc::spawn(&env.prefix).await;
        let customers: Vec<String> = (0..125).map(|i| format!("racer-{i}")).collect();
        // Each customer joins four times at once, twice on each instance.
        let joins = customers.iter().flat_map(|customer| {
            let (one, two, event) = (&one, &two, &event);
            (0..4).map(move |i| async move {
                let room = if i % 2 == 0 { one } else { two };
                loop {
                    let (status, view) = room.join(event, customer).await;
                    if status.is_success() {
                        return (customer.clone(), status, view);
                    }
                    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{view}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        });
        let answers = join_all(joins).await;
        assert_eq!(answers.len(), 500);
        let mut created: HashMap<&str, usize> = HashMap::new();
        for (customer, status, view) in &answers {
            assert_eq!(view["state"], "prequeue", "{view}");
            if *status == StatusCode::CREATED {
                *created.entry(customer.as_str()).or_default() += 1;
            }
        }
        for customer in &customers {
            assert!(
                created.get(customer.as_str()).copied().unwrap_or(0) <= 1,
                "{customer} was told twice that a place was created"
            );
        }
        let joins = joins_per_customer(&env, &event).await;
        assert_eq!(joins.len(), customers.len());
        assert!(joins.values().all(|n| *n == 1), "one join each: {joins:?}");
        // Both instances and a fresh one give each customer the same place.
        one.shutdown().await;
        let three = WaitingRoomSvc::spawn(&env.prefix).await;
        for customer in &customers {
            let (_, on_two) = two.me(&event, customer).await;
            let (_, on_three) = three.me(&event, customer).await;
            assert_eq!(on_two["joined_at"], on_three["joined_at"], "{customer}");
            assert_eq!(on_two["state"], "prequeue");
        }
        let (_, counters) = three.counters(&event).await;
        assert_eq!(counters["waiting"], 125, "{counters}");
        assert_eq!(counters["state"], "prequeue");
        two.shutdown().await;
        three.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prequeue_is_shuffled_at_the_opening_from_a_recorded_seed_and_admitted_in_that_order() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let event = svc
            .api()
            .create_on_sale(
                "shuffle",
                &queued_event(time::Duration::seconds(4), 6_000, 3),
            )
            .await;
        let room = WaitingRoomSvc::spawn(&env.prefix).await;
        let customers: Vec<String> = (0..40).map(|i| format!("early-{i:02}")).collect();
        for customer in &customers {
            let (status, view) = room.join(&event, customer).await;
            assert_eq!(status, StatusCode::CREATED, "{view}");
            assert_eq!(view["state"], "prequeue");
            assert!(
                view["position"].is_null(),
                "no position before the draw: {view}"
            );
        }
        // After the opening: positions are a permutation, three are admitted (max_active), the
        // rest wait in the drawn order.
        let positions = e2e::eventually(Duration::from_secs(10), || async {
            let (_, counters) = room.counters(&event).await;
            (counters["active"] == 3).then_some(())
        })
        .await;
        assert!(positions.is_some(), "three admitted after the opening");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut by_position = Vec::new();
        let mut admitted = HashSet::new();
        for customer in &customers {
            let (_, view) = room.me(&event, customer).await;
            match view["state"].as_str() {
                Some("admitted") => {
                    admitted.insert(customer.clone());
                }
                Some("waiting") => {
                    by_position.push((view["position"].as_u64().unwrap(), customer.clone()))
                }
                other => panic!("{customer} is {other:?}: {view}"),
            }
        }
        assert_eq!(admitted.len(), 3, "max_active bounds live admissions");
        by_position.sort();
        let positions: Vec<u64> = by_position.iter().map(|(p, _)| *p).collect();
        assert_eq!(positions, (1..=37).collect::<Vec<_>>());

        // The stream's seed recomputes the order: the admitted first, then the waiting by place.
        let facts = queue_facts(&env.store, &event).await;
        let in_join_order: Vec<CustomerId> = facts
            .iter()
            .filter_map(|f| match &f.event {
                WaitingRoomEvent::CustomerJoined { customer_id, .. } => Some(customer_id.clone()),
                _ => None,
            })
            .collect();
        let seed = facts
            .iter()
            .find_map(|f| match &f.event {
                WaitingRoomEvent::PrequeueShuffled {
                    seed, prequeue_len, ..
                } => {
                    assert_eq!(*prequeue_len, 40);
                    Some(*seed)
                }
                _ => None,
            })
            .expect("a recorded shuffle");
        let drawn = shuffle_prequeue(&in_join_order, &seed);
        let drawn: Vec<String> = drawn.iter().map(|c| c.as_str().to_owned()).collect();
        let first_three: HashSet<String> = drawn[..3].iter().cloned().collect();
        assert_eq!(first_three, admitted);
        let waiting: Vec<String> = by_position.into_iter().map(|(_, c)| c).collect();
        assert_eq!(waiting, drawn[3..].to_vec());
        assert_ne!(drawn, customers, "the draw changed the join order");
        room.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_clear_errors_and_append_nothing() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let room = WaitingRoomSvc::spawn(&env.prefix).await;
        let plain = svc
            .api()
            .create_on_sale("plain", &EventSpec::ga(10).to_json())
            .await;
        let draft = svc
            .api()
            .create_event("draft", &queued_event(time::Duration::minutes(-1), 60, 10))
            .await;
        let unknown = uuid::Uuid::new_v4().to_string();

        let cases = [
            (
                room.join(&unknown, "ann").await,
                StatusCode::NOT_FOUND,
                "unknown_event",
            ),
            (
                room.join(&draft, "ann").await,
                StatusCode::NOT_FOUND,
                "unknown_event",
            ),
            (
                room.join(&plain, "ann").await,
                StatusCode::CONFLICT,
                "no_waiting_room",
            ),
            (
                room.me(&plain, "ann").await,
                StatusCode::CONFLICT,
                "no_waiting_room",
            ),
            (
                room.counters(&unknown).await,
                StatusCode::NOT_FOUND,
                "unknown_event",
            ),
            (
                room.join("not-a-uuid", "ann").await,
                StatusCode::BAD_REQUEST,
                "invalid_event_id",
            ),
            (
                room.send(
                    reqwest::Method::POST,
                    &format!("/events/{unknown}/queue"),
                    None,
                )
                .await,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
            ),
        ];
        for ((status, body), expected, code) in cases {
            assert_eq!(status, expected, "{body}");
            assert_eq!(error_code(&body), Some(code), "{body}");
        }
        // An operator's token is not a customer's.
        let operator = room
            .http_as(&e2e::client::operator_authorization())
            .post(format!("{}/events/{plain}/queue", room.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(operator.status(), StatusCode::FORBIDDEN);

        let queued = svc
            .api()
            .create_on_sale("queued", &queued_event(time::Duration::minutes(-1), 60, 10))
            .await;
        let (status, body) = room.me(&queued, "ann").await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, Some("not_in_queue"))
        );
        let (status, body) = room.leave(&queued, "ann").await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, Some("not_in_queue"))
        );

        // A forged admission token is refused by command-svc.
        let forged =
            auth::AdmissionKey::new(&"a-forged-key-of-at-least-32-bytes-long".parse().unwrap())
                .sign(&auth::AdmissionTokenClaims::new(
                    "ann",
                    &queued,
                    0,
                    i64::MAX / 2,
                ));
        let refused = hold(&svc, &queued, "ann", Some(&forged)).await;
        assert_eq!(
            error_code(&refused.1),
            Some("not_admitted"),
            "{}",
            refused.1
        );

        let stored = env
            .store
            .last_sequence(tv_nats::Stream::Queue)
            .await
            .expect("the queue stream");
        assert_eq!(stored, 0, "nothing was appended to the queue stream");
        room.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_order_ends_the_admission_and_lets_the_next_customer_in() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let room = WaitingRoomSvc::spawn(&env.prefix).await;
        // One live admission at a time, each for 60 s.
        let event = svc
            .api()
            .create_on_sale(
                "one-at-a-time",
                &queued_event(time::Duration::minutes(-1), 600, 1),
            )
            .await;
        assert_eq!(room.join(&event, "ann").await.0, StatusCode::CREATED);
        let admitted = room.admitted(&event, "ann", Duration::from_secs(10)).await;
        assert_eq!(room.join(&event, "bob").await.0, StatusCode::CREATED);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, bob) = room.me(&event, "bob").await;
        assert_eq!(
            bob["state"], "waiting",
            "max_active 1 keeps Bob waiting: {bob}"
        );
        assert_eq!(bob["position"], 1);

        let token = admitted["admission_token"].as_str().unwrap();
        let (status, held) = hold(&svc, &event, "ann", Some(token)).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        let hold_id = held["hold_id"].as_str().unwrap();
        let (status, order) = svc
            .api()
            .as_customer("ann")
            .place_order("ann-order", hold_id, "ann", "tok_ok")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{order}");
        // Ann's order is confirmed long before her admission would run out: Bob goes in.
        let bob = room.admitted(&event, "bob", Duration::from_secs(15)).await;
        assert!(bob["admission_token"].is_string());
        let ended = queue_facts(&env.store, &event).await.into_iter().any(|f| {
            matches!(
                f.event,
                WaitingRoomEvent::AdmissionEnded {
                    ref customer_id,
                    reason: domain::waiting_room::AdmissionEndReason::OrderConfirmed,
                    ..
                } if customer_id.as_str() == "ann"
            )
        });
        assert!(ended, "the stream records why Ann's admission ended");
        room.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admissions_follow_the_configured_rate_and_stream_to_the_customer() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let room = WaitingRoomSvc::spawn(&env.prefix).await;
        // 1,200 a minute: one every 50 ms, from an opening 4 s away with everyone waiting, so the
        // line never runs dry and the schedule alone sets the pace.
        let event = svc
            .api()
            .create_on_sale(
                "paced",
                &queued_event(time::Duration::seconds(4), 1_200, 1_000),
            )
            .await;
        let customers: Vec<String> = (0..60).map(|i| format!("paced-{i:02}")).collect();
        let joins = join_all(customers.iter().map(|c| room.join(&event, c))).await;
        for (status, view) in joins {
            assert_eq!(status, StatusCode::CREATED, "{view}");
            assert_eq!(
                view["state"], "prequeue",
                "joined before the opening: {view}"
            );
        }
        // The last customer follows their place as server-sent events until admitted.
        let last = customers.last().unwrap().clone();
        let response = reqwest::Client::new()
            .get(format!("{}/events/{event}/queue/me/stream", room.base_url))
            .header("Authorization", customer_authorization(&last))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let mut response = response;
        let mut text = String::new();
        let mut states = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !states.iter().any(|s: &Value| s["state"] == "admitted") {
            let chunk = tokio::time::timeout_at(deadline, response.chunk())
                .await
                .expect("the stream went on until the admission")
                .expect("the stream is readable")
                .expect("the stream is open");
            text.push_str(std::str::from_utf8(&chunk).unwrap());
            while let Some(end) = text.find("\n\n") {
                let message: String = text.drain(..end + 2).collect();
                assert!(message.contains("event: queue"), "{message}");
                let data = message
                    .lines()
                    .find_map(|l| l.strip_prefix("data:"))
                    .expect("a data line");
                states.push(serde_json::from_str(data.trim()).unwrap());
            }
        }
        assert!(
            states.len() >= 2,
            "the place was pushed as it changed: {states:?}"
        );
        assert_eq!(states[0]["state"], "prequeue", "{states:?}");
        let admitted = states.last().unwrap();
        assert!(admitted["admission_token"].is_string());

        // Once all 60 are in, the stream's admissions are 50 ms apart on average (first to last).
        let all_in = e2e::eventually(Duration::from_secs(15), || async {
            (room.counters(&event).await.1["admitted_total"] == 60).then_some(())
        })
        .await;
        assert!(all_in.is_some(), "all 60 admitted");
        let times: Vec<OffsetDateTime> = queue_facts(&env.store, &event)
            .await
            .into_iter()
            .filter_map(|f| match f.event {
                WaitingRoomEvent::CustomerAdmitted { admitted_at, .. } => Some(admitted_at),
                _ => None,
            })
            .collect();
        assert_eq!(times.len(), 60);
        let span = (times[59] - times[0]).as_seconds_f64();
        let per_minute = 59.0 * 60.0 / span;
        eprintln!("admitted at {per_minute:.0}/min over {span:.2} s (configured 1,200)");
        assert!(
            (per_minute - 1_200.0).abs() / 1_200.0 < 0.05,
            "admitted at {per_minute:.0}/min over {span:.2} s"
        );
        room.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_out_event_closes_its_queue_and_says_why() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let room = WaitingRoomSvc::spawn(&env.prefix).await;
        // Two seats; Ann buys both.
        let event = svc
            .api()
            .create_on_sale(
                "two-seats",
                &queued_ga(2, time::Duration::minutes(-1), 600, 10),
            )
            .await;
        assert_eq!(room.join(&event, "ann").await.0, StatusCode::CREATED);
        assert_eq!(room.join(&event, "bob").await.0, StatusCode::CREATED);
        let admitted = room.admitted(&event, "ann", Duration::from_secs(10)).await;
        let token = admitted["admission_token"].as_str().unwrap();
        let (status, held) = hold(&svc, &event, "ann", Some(token)).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        // Held is not sold: the queue stays open while the seats may come back.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(room.counters(&event).await.1["state"], "open");
        let (status, order) = svc
            .api()
            .as_customer("ann")
            .place_order(
                "ann-order",
                held["hold_id"].as_str().unwrap(),
                "ann",
                "tok_ok",
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{order}");

        let closed = e2e::eventually(Duration::from_secs(15), || async {
            let (_, counters) = room.counters(&event).await;
            (counters["state"] == "closed").then_some(counters)
        })
        .await;
        assert!(
            closed.is_some(),
            "the queue closed once both seats were sold"
        );
        let (status, body) = room.join(&event, "carol").await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(error_code(&body), Some("queue_closed"));
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("sold out"),
            "{body}"
        );
        let recorded = queue_facts(&env.store, &event).await.into_iter().any(|f| {
            matches!(
                f.event,
                WaitingRoomEvent::QueueClosed {
                    reason: domain::waiting_room::CloseReason::SoldOut,
                    ..
                }
            )
        });
        assert!(recorded, "the stream says why the queue closed");
        room.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}
