//! Seat blocks from outside: an operator blocks 20 seats of a 100-seat hall and 200 buyers race
//! for the hall, blocked seats included; nobody gets a blocked seat, as the answers, the stream and
//! the folded aggregate all tell. A released block's seats go to the waiting list before the
//! public. Only an operator blocks or releases; a retry, a second release and bad input append
//! nothing. The read side shows blocked seats in availability, the seat map and the report.

use domain::inventory::{InventoryEvent, SeatStatus};
use e2e::client::customer_authorization;
use e2e::readside::ReadSide;
use e2e::stream::{section, Occupant};
use e2e::{error_code, scenario, seat_labels, CommandSvc, EventSpec, HoldBody, InventoryLog};
use e2e::{TestEnv, GA_SECTION, SEATED_SECTION};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const BUYERS: usize = 200;
const SETTLED: Duration = Duration::from_secs(30);

async fn block(
    api: &e2e::client::Api,
    event: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, Value) {
    api.post(&format!("/events/{event}/blocks"), Some(key), body)
        .await
}

async fn release(api: &e2e::client::Api, block_id: &str) -> (StatusCode, Value) {
    api.post(&format!("/blocks/{block_id}/release"), None, &json!({}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_buyers_never_get_a_blocked_seat() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("blocks-race", &EventSpec::seated().to_json())
            .await;

        // Rows A and B (20 seats) for the press, in two blocks; a retry names the same block.
        let row = |r: &str| (1..=10).map(|n| format!("{r}-{n}")).collect::<Vec<_>>();
        let mut blocked: HashSet<String> = HashSet::new();
        let mut blocks = Vec::new();
        for r in ["A", "B"] {
            let body = json!({"section_id": SEATED_SECTION, "seats": row(r), "reason": "press"});
            let (status, answer) = block(&api, &event, &format!("press-{r}"), &body).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
            assert_eq!(answer["status"], "blocked", "{answer}");
            assert!(
                answer["block_id"].as_str().unwrap().starts_with(&event),
                "a block id carries its event: {answer}"
            );
            let before = InventoryLog::read(&env.store, &event).await.last_sequence;
            let (status, again) = block(&api, &event, &format!("press-{r}"), &body).await;
            assert_eq!(status, StatusCode::CREATED, "{again}");
            assert_eq!(again["block_id"], answer["block_id"]);
            let after = InventoryLog::read(&env.store, &event).await.last_sequence;
            assert_eq!(before, after, "a retried block appends nothing");
            blocked.extend(row(r));
            blocks.push(answer["block_id"].as_str().unwrap().to_owned());
        }
        // A held or blocked seat cannot be blocked.
        let body = json!({"section_id": SEATED_SECTION, "seats": ["B-10", "C-1"], "reason": "x"});
        let (status, answer) = block(&api, &event, "again", &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert_eq!(error_code(&answer), Some("seat_unavailable"));

        // The race: named seats anywhere in the hall (blocked ones too), or a quantity.
        let labels = seat_labels();
        let mut rng = StdRng::seed_from_u64(e2e::seed(0xb10c_0001));
        let requests: Vec<(String, Value)> = (0..BUYERS)
            .map(|i| {
                let customer = format!("buyer-{i}");
                let body = match rng.random_bool(0.7) {
                    true => {
                        let start = rng.random_range(0..labels.len() - 1);
                        HoldBody::seats(&customer, SEATED_SECTION, &labels[start..start + 2])
                    }
                    false => HoldBody::quantity(&customer, SEATED_SECTION, rng.random_range(1..=2)),
                };
                (customer, body)
            })
            .collect();
        let started = Instant::now();
        let answers = futures::future::join_all(requests.iter().map(|(customer, body)| {
            let (api, event) = (api.clone(), event.clone());
            async move { api.hold(&event, &format!("k-{customer}"), body).await }
        }))
        .await;
        eprintln!("{BUYERS} holds answered in {:?}", started.elapsed());
        let mut won = 0;
        for ((customer, _), (status, answer)) in requests.iter().zip(&answers) {
            match *status {
                StatusCode::CREATED => {
                    won += 1;
                    for seat in answer["seats"].as_array().unwrap() {
                        let seat = seat.as_str().unwrap();
                        assert!(!blocked.contains(seat), "{customer} got blocked {seat}");
                    }
                }
                StatusCode::CONFLICT => {
                    let code = error_code(answer).unwrap_or_default();
                    assert!(
                        ["seat_unavailable", "sold_out", "no_adjacent_seats"].contains(&code),
                        "{customer}: {answer}"
                    );
                }
                other => panic!("{customer}: unexpected {other}: {answer}"),
            }
        }
        assert!(won > 0, "nobody got a seat");

        // The stream replayed by hand (panics on a seat taken twice) and the folded aggregate.
        let log = InventoryLog::read(&env.store, &event).await;
        let owners = log.seat_owners();
        let state = log.fold();
        let stalls = section(SEATED_SECTION);
        let now = time::OffsetDateTime::now_utc();
        for label in &blocked {
            let owner = owners.get(&(stalls.clone(), label.clone()));
            assert!(
                matches!(owner, Some(Occupant::Blocked(_))),
                "{label}: {owner:?}"
            );
            let status = state.seat_status(&stalls, &label.parse().unwrap(), now);
            assert!(matches!(status, Some(SeatStatus::Blocked(_))), "{label}");
        }
        assert_eq!(log.count("SeatsBlocked"), 2);
        assert_eq!(log.count("SeatsHeld"), won);
        let stalls_now = &state.availability(now)[0];
        assert_eq!(stalls_now.blocked, 20);
        assert_eq!(
            stalls_now.available + stalls_now.held + stalls_now.blocked,
            100
        );

        // Released: the seats are on sale again, once.
        for block_id in &blocks {
            let (status, answer) = release(&api, block_id).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(answer["status"], "released", "{answer}");
        }
        let (status, hold) = api
            .hold(
                &event,
                "late",
                &HoldBody::seats("late", SEATED_SECTION, &["A-5"]),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_released_block_goes_to_the_waiting_list_first() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("blocks-waitlist", &EventSpec::ga(10).to_json())
            .await;
        let body = json!({"section_id": GA_SECTION, "quantity": 4, "reason": "production"});
        let (status, answer) = block(&api, &event, "prod", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let block_id = answer["block_id"].as_str().unwrap().to_owned();
        // The other 6 are held: sold out.
        for i in 0..3 {
            let customer = format!("holder-{i}");
            let body = HoldBody::quantity(&customer, GA_SECTION, 2);
            let (status, answer) = api.hold(&event, "h", &body).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
        }
        let (status, entry) = api
            .join_waitlist(
                &event,
                "waiter",
                "w",
                &json!({"section_id": GA_SECTION, "quantity": 3}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{entry}");

        let (status, answer) = release(&api, &block_id).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        // The waiting entry got 3 in the same commit; the public gets the one left, no more.
        let log = InventoryLog::read(&env.store, &event).await;
        let (_, last) = log.commits.last().unwrap();
        let kinds: Vec<&str> = last.iter().map(InventoryEvent::kind).collect();
        assert_eq!(kinds, ["BlockReleased", "SeatsHeld", "WaitlistOffered"]);
        let (status, answer) = api
            .hold(&event, "p", &HoldBody::quantity("public", GA_SECTION, 2))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert_eq!(error_code(&answer), Some("sold_out"), "{answer}");
        let (status, answer) = api
            .hold(&event, "p", &HoldBody::quantity("public", GA_SECTION, 1))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");

        // Releasing again answers the same and appends nothing.
        let before = InventoryLog::read(&env.store, &event).await.last_sequence;
        let (status, answer) = release(&api, &block_id).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "released");
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            before
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_an_operator_blocks_and_bad_input_appends_nothing() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("blocks-auth", &EventSpec::seated().to_json())
            .await;
        let body = json!({"section_id": SEATED_SECTION, "seats": ["C-3"], "reason": "press"});
        let (status, answer) = block(&api, &event, "b", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let block_id = answer["block_id"].as_str().unwrap().to_owned();
        let before = InventoryLog::read(&env.store, &event).await.last_sequence;

        let customer = api.with_authorization(&customer_authorization("mallory"));
        let (status, answer) = block(&customer, &event, "m", &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        let (status, answer) = release(&customer, &block_id).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        let (status, _) = release(&api.anonymous(), &block_id).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let bad = [
            (
                json!({"section_id": SEATED_SECTION, "seats": ["C-4"], "reason": ""}),
                422,
            ),
            (
                json!({"section_id": SEATED_SECTION, "reason": "press"}),
                422,
            ),
            (
                json!({"section_id": SEATED_SECTION, "quantity": 0, "reason": "press"}),
                422,
            ),
            (
                json!({"section_id": SEATED_SECTION, "seats": ["Z-1"], "reason": "press"}),
                422,
            ),
            (
                json!({"section_id": "nowhere", "quantity": 1, "reason": "press"}),
                404,
            ),
            (
                json!({"section_id": SEATED_SECTION, "quantity": 101, "reason": "press"}),
                409,
            ),
        ];
        for (i, (body, expected)) in bad.iter().enumerate() {
            let (status, answer) = block(&api, &event, &format!("bad-{i}"), body).await;
            assert_eq!(status.as_u16(), *expected, "{body}: {answer}");
        }
        let (status, answer) = api
            .post(&format!("/events/{event}/blocks"), None, &body)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "no key: {answer}");
        let unknown = format!("{event}.00000000-0000-4000-8000-000000000000");
        let (status, answer) = release(&api, &unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(error_code(&answer), Some("unknown_block"));
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            before,
            "refused commands append nothing"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn availability_the_seat_map_and_the_report_show_blocked_seats() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let spec = EventSpec::seated().with_ga(GA_SECTION, 50);
        let event = api.create_on_sale("blocks-read", &spec.to_json()).await;
        let body =
            json!({"section_id": SEATED_SECTION, "seats": ["A-1", "A-2"], "reason": "camera"});
        let (status, answer) = block(&api, &event, "cam", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let body = json!({"section_id": GA_SECTION, "quantity": 5, "reason": "guests"});
        let (status, answer) = block(&api, &event, "guests", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let after = answer["position"].as_str().unwrap().to_owned();

        let (status, availability) = read
            .get(&format!("/events/{event}/availability?after={after}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{availability}");
        let sections = availability["sections"].as_array().unwrap();
        let of = |id: &str| {
            sections
                .iter()
                .find(|s| s["section_id"] == id)
                .unwrap()
                .clone()
        };
        assert_eq!(
            (
                of(SEATED_SECTION)["available"].clone(),
                of(SEATED_SECTION)["blocked"].clone()
            ),
            (json!(98), json!(2))
        );
        assert_eq!(
            (
                of(GA_SECTION)["available"].clone(),
                of(GA_SECTION)["blocked"].clone()
            ),
            (json!(45), json!(5))
        );

        let (status, seats) = read
            .get(&format!(
                "/events/{event}/sections/{SEATED_SECTION}/seats?after={after}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{seats}");
        let word = |label: &str| {
            seats
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["seat"] == label)
                .unwrap()["status"]
                .clone()
        };
        assert_eq!(word("A-1"), "blocked");
        assert_eq!(word("A-3"), "available");

        let report = read
            .get_until(
                &format!("/events/{event}/report?after={after}"),
                SETTLED,
                |status, _| status == StatusCode::OK,
            )
            .await;
        let sections = report["sections"].as_array().unwrap();
        let of = |id: &str| {
            sections
                .iter()
                .find(|s| s["section_id"] == id)
                .unwrap()
                .clone()
        };
        assert_eq!(of(SEATED_SECTION)["blocked"], 2, "{report}");
        assert_eq!(of(GA_SECTION)["blocked"], 5, "{report}");
        assert_eq!(report["totals"]["blocked"], 7, "{report}");
        assert_eq!(report["totals"]["available"], 143, "{report}");
    })
    .await;
}
