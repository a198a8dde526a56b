//! 500 buyers race for overlapping named seats of one 100-seat hall: no seat may end up in two
//! holds, and the answers, the stream and the folded aggregate must tell the same story.

use domain::inventory::{HoldStatus, SeatStatus};
use e2e::stream::{hold_id, section, Occupant};
use e2e::{error_code, scenario, seat_labels, CommandSvc, EventSpec, HoldBody, InventoryLog};
use e2e::{TestEnv, SEATED_SECTION};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

const CLIENTS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_named_seat_holds_never_share_a_seat() {
    scenario(race).await;
}

async fn race(env: TestEnv) {
    let svc = CommandSvc::spawn(&env.prefix).await;
    let api = svc.api().clone();
    let event = api
        .create_on_sale("race-event", &EventSpec::seated().to_json())
        .await;

    let labels = seat_labels();
    let mut rng = StdRng::seed_from_u64(e2e::seed(0x5ea7_0001));
    let requests = e2e::fixtures::random_seat_requests(&mut rng, CLIENTS);

    let started = Instant::now();
    let tasks: Vec<_> = requests
        .iter()
        .cloned()
        .map(|(customer, seats)| {
            let api = api.clone();
            let event = event.clone();
            tokio::spawn(async move {
                let body = HoldBody::seats(&customer, SEATED_SECTION, &seats);
                api.hold(&event, &format!("k-{customer}"), &body).await
            })
        })
        .collect();
    let answers = futures::future::join_all(tasks).await;
    eprintln!("{CLIENTS} holds answered in {:?}", started.elapsed());

    // From the answers: every success holds exactly what it asked, and no seat twice.
    let mut won: HashMap<String, (String, String)> = HashMap::new(); // seat -> (hold, customer)
    let mut refused: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for ((customer, asked), answer) in requests.iter().zip(answers) {
        let (status, body) = answer.expect("a client task");
        match status {
            StatusCode::CREATED => {
                let seats: Vec<String> =
                    serde_json::from_value(body["seats"].clone()).expect("seats in a hold answer");
                assert_eq!(
                    seats.iter().collect::<BTreeSet<_>>(),
                    asked.iter().collect::<BTreeSet<_>>(),
                    "{customer} got other seats than asked: {body}"
                );
                assert_eq!(body["quantity"], asked.len(), "{body}");
                assert_eq!(body["status"], "active", "{body}");
                assert_eq!(body["event_id"], event.as_str(), "{body}");
                let hold = body["hold_id"].as_str().expect("hold_id").to_owned();
                for seat in seats {
                    if let Some((other, _)) =
                        won.insert(seat.clone(), (hold.clone(), customer.clone()))
                    {
                        panic!("seat {seat} is in two successful answers: {other} and {hold}");
                    }
                }
            }
            StatusCode::CONFLICT => {
                assert_eq!(error_code(&body), Some("seat_unavailable"), "{body}");
                refused.push((customer.clone(), asked.clone(), named_seats(&body)));
            }
            other => panic!("{customer}: unexpected {other}: {body}"),
        }
    }
    let successes = CLIENTS - refused.len();
    eprintln!(
        "{successes} holds placed, {} refused, {} seats held",
        refused.len(),
        won.len()
    );
    assert!(successes > 0, "nobody got a seat");
    assert!(
        !refused.is_empty(),
        "500 buyers of 100 seats and no conflict at all?"
    );

    // From the stream, replayed fact by fact: no seat was taken twice.
    let log = InventoryLog::read(&env.store, &event).await;
    let owners = log.seat_owners();
    assert_eq!(
        log.count("SeatsHeld"),
        successes,
        "one SeatsHeld per success"
    );
    assert_eq!(log.count("HoldReleased") + log.count("HoldExpired"), 0);

    // The folded aggregate, seat by seat, against the answers and the raw facts.
    let state = log.fold();
    let stalls = section(SEATED_SECTION);
    let now = time::OffsetDateTime::now_utc();
    for label in &labels {
        let seat = label.parse().expect("a seat label");
        let status = state
            .seat_status(&stalls, &seat, now)
            .unwrap_or_else(|| panic!("seat {label} unknown to the aggregate"));
        let raw = owners.get(&(stalls.clone(), label.clone()));
        match won.get(label) {
            Some((hold, customer)) => {
                let hold = hold_id(hold);
                assert_eq!(status, SeatStatus::Held(hold), "seat {label}");
                assert_eq!(raw, Some(&Occupant::Held(hold)), "seat {label}");
                let record = state.hold(&hold).expect("the hold in the aggregate");
                assert_eq!(record.customer_id.as_str(), customer);
                assert_eq!(record.status, HoldStatus::Active);
                assert!(record.seats.contains(&seat));
            }
            None => {
                assert_eq!(status, SeatStatus::Available, "seat {label}");
                assert_eq!(raw, None, "seat {label}");
            }
        }
    }
    let held: u32 = state.availability(now).iter().map(|s| s.held).sum();
    assert_eq!(held as usize, won.len());

    // Every refusal names seats it asked for, each taken by another buyer's hold.
    for (customer, asked, named) in &refused {
        assert!(!named.is_empty(), "{customer}'s refusal names no seat");
        for seat in named {
            assert!(
                asked.contains(seat),
                "{customer} is refused {seat}, never asked"
            );
            let (_, holder) = won
                .get(seat)
                .unwrap_or_else(|| panic!("{customer} is refused {seat}, which nobody holds"));
            assert_ne!(holder, customer);
        }
    }

    svc.shutdown().await;
}

/// The seats a `seat_unavailable` message names: "these seats are not available: A-1, B-2".
fn named_seats(body: &serde_json::Value) -> Vec<String> {
    let message = body["error"]["message"].as_str().unwrap_or_default();
    message
        .rsplit_once(':')
        .map(|(_, list)| list.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default()
}
