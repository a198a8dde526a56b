//! Two command-svc instances on the same streams, each with its own writer for the same event:
//! only the expected-sequence check of the append stands between them and a seat sold twice.
//! Event ownership (leases) is off here, so that the two writers race as they would if a lease
//! moved while its old owner still wrote (see `forwarding.rs` for instances with ownership).

use command_svc::Config;
use domain::inventory::SeatStatus;
use e2e::stream::{hold_id, section, Occupant};
use e2e::{error_code, scenario, seat_labels, CommandSvc, EventSpec, HoldBody, InventoryLog};
use e2e::{TestEnv, SEATED_SECTION};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::time::Instant;

const CLIENTS: usize = 400;
/// A client retries a 429 or 503 with the same key, as the API asks; this many times at most.
const RETRIES: u32 = 5;
/// Commands per commit in each instance.
const MAX_BATCH: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_hold_a_seat_twice() {
    scenario(|env: TestEnv| async move {
        // Small batches: many appends from each writer, so the two keep losing races to each
        // other (with the default of 512 the whole race fits in a dozen commits).
        let config = || Config {
            max_batch: MAX_BATCH,
            event_ownership: false,
            ..Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let http = e2e::client::http_client();
        let first = CommandSvc::spawn_with(config(), http.clone()).await;
        let second = CommandSvc::spawn_with(config(), http).await;
        let event = first
            .api()
            .create_on_sale("shared-event", &EventSpec::seated().to_json())
            .await;
        let instances = [first.api().clone(), second.api().clone()];

        let labels = seat_labels();
        let mut rng = StdRng::seed_from_u64(e2e::seed(0x2_0004));
        let requests = e2e::fixtures::random_seat_requests(&mut rng, CLIENTS);

        let started = Instant::now();
        let tasks: Vec<_> = requests
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, (customer, seats))| {
                let api = instances[i % 2].clone();
                let event = event.clone();
                tokio::spawn(async move {
                    let body = HoldBody::seats(&customer, SEATED_SECTION, &seats);
                    api.hold_retrying(&event, &format!("k-{customer}"), &body, RETRIES)
                        .await
                })
            })
            .collect();
        let answers = futures::future::join_all(tasks).await;
        let elapsed = started.elapsed();

        let mut won: HashMap<String, String> = HashMap::new(); // seat -> hold
        let (mut conflicts, mut retries, mut exhausted) = (0, 0, Vec::new());
        for ((customer, asked), answer) in requests.iter().zip(answers) {
            let (status, body, retried) = answer.expect("a client task");
            retries += retried;
            match status {
                StatusCode::CREATED => {
                    let hold = body["hold_id"].as_str().expect("hold_id").to_owned();
                    let seats: Vec<String> =
                        serde_json::from_value(body["seats"].clone()).expect("seats");
                    assert_eq!(&seats, asked, "{customer}: {body}");
                    for seat in seats {
                        if let Some(other) = won.insert(seat.clone(), hold.clone()) {
                            panic!("seat {seat} held by {other} and {hold}");
                        }
                    }
                }
                StatusCode::CONFLICT => {
                    assert_eq!(error_code(&body), Some("seat_unavailable"), "{body}");
                    conflicts += 1;
                }
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
                    exhausted.push(format!("{customer}: {status} {body}"));
                }
                other => panic!("{customer}: unexpected {other}: {body}"),
            }
        }
        eprintln!(
            "{CLIENTS} holds over two instances in {elapsed:?}: {} placed, {conflicts} seat \
             conflicts, {retries} retries after 429/503, {} still refused after {RETRIES} retries",
            CLIENTS - conflicts - exhausted.len(),
            exhausted.len()
        );

        // Both instances live in this process and share its metrics recorder.
        let metrics = instances[0]
            .http()
            .get(format!("{}/metrics", instances[0].base_url()))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        let counter = |name: &str| -> u64 {
            metrics
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let (appends, lost) = (
            counter("tv_appends_total{stream=\"inventory\"}"),
            counter("tv_append_conflicts_total{stream=\"inventory\"}"),
        );
        eprintln!("{appends} inventory appends, {lost} lost to the other instance and retried");
        assert!(
            lost > 0,
            "the two writers never raced: the test proves nothing"
        );

        // The stream, fact by fact and folded, agrees with the answers seat by seat.
        let log = InventoryLog::read(&env.store, &event).await;
        let owners = log.seat_owners();
        let state = log.fold();
        let stalls = section(SEATED_SECTION);
        let now = time::OffsetDateTime::now_utc();
        let mut unanswered = Vec::new();
        for label in &labels {
            let status = state
                .seat_status(&stalls, &label.parse().expect("a label"), now)
                .expect("a known seat");
            let raw = owners.get(&(stalls.clone(), label.clone())).copied();
            match won.get(label) {
                Some(hold) => {
                    assert_eq!(status, SeatStatus::Held(hold_id(hold)), "seat {label}");
                    assert_eq!(raw, Some(Occupant::Held(hold_id(hold))), "seat {label}");
                }
                None => {
                    assert_eq!(
                        status == SeatStatus::Available,
                        raw.is_none(),
                        "seat {label}"
                    );
                    if raw.is_some() {
                        unanswered.push(label.clone());
                    }
                }
            }
        }
        assert_eq!(log.count("HoldReleased") + log.count("HoldExpired"), 0);
        assert!(
            exhausted.is_empty(),
            "{} clients got only 429/503 answers, e.g. {}",
            exhausted.len(),
            exhausted[0]
        );
        // Every client got an answer, so every held seat was answered to someone.
        assert!(
            unanswered.is_empty(),
            "held, yet in no answer: {unanswered:?}"
        );
        assert_eq!(log.count("SeatsHeld"), CLIENTS - conflicts);

        first.shutdown().await;
        second.shutdown().await;
    })
    .await;
}
