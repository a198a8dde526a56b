//! 3,000 buyers ask for 1-4 tickets of a 1,000-ticket general-admission floor at once: never more
//! than 1,000 held, by the answers and by the stream, and the floor sells out.

use e2e::stream::section;
use e2e::GA_SECTION;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use std::collections::HashSet;
use std::time::Instant;

const CAPACITY: u32 = 1_000;
const CLIENTS: usize = 3_000;
/// Buyers of one ticket each who come after the rush.
const LATECOMERS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn general_admission_is_never_oversold() {
    scenario(rush).await;
}

async fn rush(env: TestEnv) {
    let svc = CommandSvc::spawn(&env.prefix).await;
    let api = svc.api().clone();
    let event = api
        .create_on_sale("ga-event", &EventSpec::ga(CAPACITY).to_json())
        .await;

    let mut rng = StdRng::seed_from_u64(e2e::seed(0x6a_0002));
    let wanted: Vec<u32> = (0..CLIENTS).map(|_| rng.random_range(1..=4)).collect();
    let demand: u32 = wanted.iter().sum();
    assert!(demand > CAPACITY);

    let started = Instant::now();
    let tasks: Vec<_> = wanted
        .iter()
        .enumerate()
        .map(|(i, &quantity)| {
            let api = api.clone();
            let event = event.clone();
            tokio::spawn(async move {
                let customer = format!("fan-{i}");
                let body = HoldBody::quantity(&customer, GA_SECTION, quantity);
                api.hold(&event, &format!("k-{i}"), &body).await
            })
        })
        .collect();
    let answers = futures::future::join_all(tasks).await;
    eprintln!("{CLIENTS} holds answered in {:?}", started.elapsed());

    let mut held_by_answers = 0;
    let mut hold_ids = HashSet::new();
    let mut smallest_refused = u32::MAX;
    for (&quantity, answer) in wanted.iter().zip(answers) {
        let (status, body) = answer.expect("a client task");
        match status {
            StatusCode::CREATED => {
                assert_eq!(body["quantity"], quantity, "{body}");
                assert_eq!(
                    body["seats"],
                    serde_json::json!([]),
                    "GA holds name no seat: {body}"
                );
                assert!(
                    hold_ids.insert(body["hold_id"].to_string()),
                    "hold id twice: {body}"
                );
                held_by_answers += quantity;
            }
            StatusCode::CONFLICT => {
                assert_eq!(error_code(&body), Some("sold_out"), "{body}");
                smallest_refused = smallest_refused.min(quantity);
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    eprintln!(
        "{} holds for {held_by_answers} tickets; smallest refused request {smallest_refused}",
        hold_ids.len()
    );
    assert!(
        held_by_answers <= CAPACITY,
        "answers hold {held_by_answers} > {CAPACITY}"
    );

    let floor = section(GA_SECTION);
    let now = time::OffsetDateTime::now_utc();
    let state = InventoryLog::read(&env.store, &event).await.fold();
    let availability = state
        .availability(now)
        .into_iter()
        .find(|s| s.section_id == floor)
        .expect("the floor in the aggregate");
    assert_eq!(availability.capacity, CAPACITY);
    assert_eq!(availability.held, held_by_answers, "stream vs answers");
    assert_eq!(availability.sold, 0);
    assert_eq!(availability.available, CAPACITY - held_by_answers);
    assert_eq!(state.holds_count(), hold_ids.len());
    // Nothing frees tickets here, so what was left when a request was refused is an upper bound
    // of what is left now: a sold-out answer was never given while the request still fitted.
    assert!(
        availability.available < smallest_refused,
        "{} tickets left, yet a request for {smallest_refused} was refused",
        availability.available
    );

    // Latecomers ask for one ticket each: exactly what is left is sold, then sold out.
    let left = availability.available as usize;
    let mut placed = 0;
    for i in 0..LATECOMERS {
        let customer = format!("late-{i}");
        let (status, body) = api
            .hold(
                &event,
                &customer,
                &HoldBody::quantity(&customer, GA_SECTION, 1),
            )
            .await;
        match status {
            StatusCode::CREATED => placed += 1,
            StatusCode::CONFLICT => assert_eq!(error_code(&body), Some("sold_out"), "{body}"),
            other => panic!("latecomer: unexpected {other}: {body}"),
        }
    }
    assert_eq!(placed, left.min(LATECOMERS), "latecomers got the leftovers");
    let state = InventoryLog::read(&env.store, &event).await.fold();
    let floor_now = &state.availability(time::OffsetDateTime::now_utc())[0];
    assert_eq!(floor_now.held, CAPACITY, "the floor is exactly sold out");
    assert_eq!(floor_now.available, 0);

    svc.shutdown().await;
}
