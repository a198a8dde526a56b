//! One customer fires 20 holds at once across two sections with a limit of 4 tickets: exactly 4
//! are held, whatever the interleaving, and every other request is refused for the limit.

use domain::ids::CustomerId;
use e2e::{error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use e2e::{GA_SECTION, SEATED_SECTION};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;

const LIMIT: u32 = 4;
const REQUESTS: usize = 20;
const CUSTOMER: &str = "greedy";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_customer_never_exceeds_the_limit() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let api = svc.api().clone();
        let spec = EventSpec::seated().with_ga(GA_SECTION, 500).limit(LIMIT);
        let event = api.create_on_sale("limit-event", &spec.to_json()).await;

        // At least LIMIT requests for one ticket: then no interleaving can stop short of the limit
        // (were fewer held at the end, every one-ticket request would have fitted when decided).
        let mut rng = StdRng::seed_from_u64(e2e::seed(0x11_0005));
        let mut wanted: Vec<u32> = (0..REQUESTS)
            .map(|i| {
                if i < LIMIT as usize {
                    1
                } else {
                    rng.random_range(1..=2)
                }
            })
            .collect();
        wanted.shuffle(&mut rng);

        let tasks: Vec<_> = wanted
            .iter()
            .enumerate()
            .map(|(i, &quantity)| {
                let (api, event) = (api.clone(), event.clone());
                let section = if i % 2 == 0 {
                    SEATED_SECTION
                } else {
                    GA_SECTION
                };
                tokio::spawn(async move {
                    let body = HoldBody::quantity(CUSTOMER, section, quantity);
                    api.hold(&event, &format!("greedy-{i}"), &body).await
                })
            })
            .collect();
        let answers = futures::future::join_all(tasks).await;

        let mut held = 0;
        let mut sections_used = std::collections::BTreeSet::new();
        let mut refused = Vec::new();
        for (i, (&quantity, answer)) in wanted.iter().zip(answers).enumerate() {
            let (status, body) = answer.expect("a client task");
            match status {
                StatusCode::CREATED => {
                    assert_eq!(body["quantity"], quantity, "{body}");
                    held += quantity;
                    sections_used.insert(body["section_id"].as_str().map(str::to_owned));
                }
                StatusCode::CONFLICT => {
                    assert_eq!(
                        error_code(&body),
                        Some("limit_exceeded"),
                        "request {i}: {body}"
                    );
                    refused.push(quantity);
                }
                other => panic!("request {i}: unexpected {other}: {body}"),
            }
        }
        eprintln!("held {held} tickets in {sections_used:?}; refused {refused:?}");
        assert_eq!(held, LIMIT, "answers");

        let log = InventoryLog::read(&env.store, &event).await;
        let state = log.fold();
        let customer = CustomerId::parse(CUSTOMER).expect("a customer id");
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(state.customer_tickets(&customer, now), LIMIT, "stream");
        let in_stream: u32 = state
            .holds()
            .filter(|h| h.customer_id == customer)
            .map(|h| h.quantity)
            .sum();
        assert_eq!(in_stream, LIMIT);
        let held_everywhere: u32 = state.availability(now).iter().map(|s| s.held).sum();
        assert_eq!(held_everywhere, LIMIT, "nobody else holds anything");
        assert_eq!(REQUESTS - refused.len(), log.count("SeatsHeld"));

        // Another customer is not affected by the first one's limit.
        let (status, body) = api
            .hold(
                &event,
                "other-1",
                &HoldBody::quantity("other", GA_SECTION, LIMIT),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        svc.shutdown().await;
    })
    .await;
}
