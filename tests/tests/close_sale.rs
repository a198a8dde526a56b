//! An operator closes a sale while 300 racers keep holding: every hold that was acknowledged is
//! in the stream before the close, none after it, and every refused one was refused because the
//! sale had closed. A hold placed before the close is still bought; the read side lists the event
//! as closed; closing again answers the same; bad callers change nothing.

use e2e::readside::ReadSide;
use e2e::GA_SECTION;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use reqwest::StatusCode;
use std::time::Duration;

const RACERS: usize = 300;
/// Holds one racer tries at most (the close comes long before).
const ATTEMPTS: usize = 200;
const SETTLED: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_close_racing_with_holds_splits_them_cleanly() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("close-race", &EventSpec::ga(10_000).to_json())
            .await;

        // Each racer holds again and again (a new customer each time) until the sale refuses it.
        let racers: Vec<_> = (0..RACERS)
            .map(|i| {
                let (api, event) = (api.clone(), event.clone());
                tokio::spawn(async move {
                    let mut held = Vec::new();
                    for n in 0..ATTEMPTS {
                        let customer = format!("racer-{i}-{n}");
                        let body = HoldBody::quantity(&customer, GA_SECTION, 1);
                        let (status, answer) = api.hold(&event, "h", &body).await;
                        match status {
                            StatusCode::CREATED => {
                                held.push(answer["hold_id"].as_str().unwrap().to_owned())
                            }
                            StatusCode::CONFLICT => {
                                assert_eq!(error_code(&answer), Some("sale_closed"), "{answer}");
                                return (held, true);
                            }
                            other => panic!("a racing hold answered {other}: {answer}"),
                        }
                    }
                    (held, false)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, closed) = api.close_sale(&event).await;
        assert_eq!(status, StatusCode::OK, "{closed}");
        assert_eq!(closed["status"], "closed", "{closed}");

        let mut held = Vec::new();
        let mut refused = 0;
        for racer in racers {
            let (holds, was_refused) = racer.await.unwrap();
            held.extend(holds);
            refused += usize::from(was_refused);
        }
        assert_eq!(refused, RACERS, "every racer ran into the close");
        assert!(!held.is_empty(), "some holds came before the close");

        let log = InventoryLog::read(&env.store, &event).await;
        let kinds: Vec<&str> = log.facts().map(|f| f.kind()).collect();
        let close_at = kinds
            .iter()
            .position(|k| *k == "SaleClosed")
            .expect("a SaleClosed fact");
        assert_eq!(log.count("SaleClosed"), 1, "closed once");
        assert!(
            !kinds[close_at..].contains(&"SeatsHeld"),
            "no hold after the close"
        );
        assert_eq!(
            log.count("SeatsHeld"),
            held.len(),
            "every acknowledged hold is in the stream, and nothing else"
        );
        eprintln!(
            "{} holds before the close, then {RACERS} refused",
            held.len()
        );

        // Closing again is a retry: the same answer, nothing appended.
        let (status, again) = api.close_sale(&event).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["status"], "closed");
        let after = InventoryLog::read(&env.store, &event).await;
        assert_eq!(after.last_sequence, log.last_sequence, "nothing appended");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hold_placed_before_the_close_is_still_bought() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("close-buy", &EventSpec::ga(100).to_json())
            .await;
        let body = HoldBody::quantity("alice", GA_SECTION, 2);
        let (status, hold) = api.hold(&event, "h-alice", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        let (status, closed) = api.close_sale(&event).await;
        assert_eq!(status, StatusCode::OK, "{closed}");

        let body = HoldBody::quantity("bob", GA_SECTION, 1);
        let (status, refused) = api.hold(&event, "h-bob", &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(error_code(&refused), Some("sale_closed"));
        // A retry of alice's hold gets its first answer.
        let body = HoldBody::quantity("alice", GA_SECTION, 2);
        let (status, retried) = api.hold(&event, "h-alice", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{retried}");
        assert_eq!(retried["hold_id"], hold["hold_id"]);

        let hold_id = hold["hold_id"].as_str().unwrap();
        let (status, placed) = api.place_order("o-alice", hold_id, "alice", "tok_ok").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        let order = placed["order_id"].as_str().unwrap().to_owned();
        read.get_until(&format!("/orders/{order}"), SETTLED, |_, body| {
            body["status"] == "confirmed"
        })
        .await;
        read.get_until(&format!("/events/{event}"), SETTLED, |_, body| {
            body["status"] == "closed"
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_operator_closes_a_published_sale() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let event = api
            .create_on_sale("close-who", &EventSpec::ga(10).to_json())
            .await;
        let (status, _) = api.as_customer("mallory").close_sale(&event).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = api.anonymous().close_sale(&event).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let draft = api
            .create_event("close-draft", &EventSpec::ga(10).to_json())
            .await;
        let (status, answer) = api.close_sale(&draft).await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert_eq!(error_code(&answer), Some("invalid_state"));
        let (status, answer) = api.close_sale("00000000-0000-4000-8000-000000000000").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        let (status, _) = api.close_sale("not-an-id").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // None of it touched the sale.
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("SaleClosed"), 0);
        let body = HoldBody::quantity("alice", GA_SECTION, 1);
        let (status, hold) = api.hold(&event, "h", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
    })
    .await;
}
