//! A waiting-room instance killed with SIGKILL in the middle of a flood of joins, next to a second
//! instance, then restarted on the same port.
//!
//! Every customer joins once through the first instance and, when that gets no answer (refused,
//! reset, timed out, 503), again through the second. Afterwards the queue stream must hold exactly
//! one join per customer, every customer who was answered must find the same place (the same
//! `joined_at`) on both instances and the restarted one, and no customer is told twice that a place
//! was created for them.

use domain::waiting_room::WaitingRoomEvent;
use e2e::process::{fault_http_client, ServiceProcess, WAITING_ROOM};
use e2e::{queue_facts, scenario, CommandSvc, EventSpec, TestEnv};
use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const CUSTOMERS: usize = 600;
const CONCURRENCY: usize = 48;
/// The kill comes once this many joins were answered.
const KILL_AFTER: usize = 150;
const DOWN_FOR: Duration = Duration::from_millis(300);

/// An event whose prequeue is open and whose sale opens in an hour: nobody is admitted, so every
/// place stays as it was taken.
fn queued_event() -> Value {
    let now = OffsetDateTime::now_utc();
    let at = |d: time::Duration| (now + d).format(&Rfc3339).unwrap();
    let mut body = EventSpec::ga(100)
        .sale_opens_at(&at(time::Duration::hours(1)))
        .to_json();
    body["waiting_room"] = json!({
        "opens_at": at(time::Duration::minutes(-1)),
        "admit_per_minute": 60,
    });
    body
}

/// One join, through `first` and else `second`, until one answers 200 or 201.
async fn join(
    http: &reqwest::Client,
    urls: [&str; 2],
    event: &str,
    customer: &str,
    deadline: Instant,
) -> (StatusCode, Value) {
    let authorization = e2e::client::customer_authorization(customer);
    for attempt in 0.. {
        assert!(Instant::now() < deadline, "{customer} was never answered");
        let url = urls[attempt % 2];
        let sent = http
            .post(format!("{url}/events/{event}/queue"))
            .header("Authorization", &authorization)
            .send()
            .await;
        if let Ok(response) = sent {
            let status = response.status();
            if let Ok(body) = response.json::<Value>().await {
                if status.is_success() {
                    return (status, body);
                }
                assert!(
                    status == StatusCode::SERVICE_UNAVAILABLE,
                    "{customer}: {status} {body}"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_waiting_room_loses_no_place_and_duplicates_none() {
    scenario(|env: TestEnv| async move {
        let svc = CommandSvc::spawn(&env.prefix).await;
        let event = svc.api().create_on_sale("queued", &queued_event()).await;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let settings = [("TV_QUEUE_JOINS_PER_ADDRESS", "1000000")];
        let log = |name: &str| dir.join(format!("fault-queue-{name}-{}.log", env.prefix));
        eprintln!("waiting-room logs: {}", log("a").display());
        let start = |name: &'static str| {
            let (prefix, log) = (env.prefix.clone(), log(name));
            async move {
                ServiceProcess::start_service(
                    WAITING_ROOM,
                    &e2e::nats_url(),
                    &prefix,
                    &log,
                    &settings,
                )
                .await
            }
        };
        let mut a = start("a").await;
        let b = start("b").await;
        let http = fault_http_client();
        let answered = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(60);
        let urls = [a.base_url.clone(), b.base_url.clone()];
        let flood = {
            let (http, answered, event, urls) =
                (http.clone(), answered.clone(), event.clone(), urls.clone());
            tokio::spawn(async move {
                stream::iter(0..CUSTOMERS)
                    .map(|i| {
                        let (http, answered, event, urls) = (&http, &answered, &event, &urls);
                        async move {
                            let customer = format!("crowd-{i:04}");
                            let answer =
                                join(http, [&urls[0], &urls[1]], event, &customer, deadline).await;
                            answered.fetch_add(1, Ordering::Relaxed);
                            (customer, answer)
                        }
                    })
                    .buffer_unordered(CONCURRENCY)
                    .collect::<Vec<_>>()
                    .await
            })
        };
        while answered.load(Ordering::Relaxed) < KILL_AFTER {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        a.kill();
        let killed_at = answered.load(Ordering::Relaxed);
        tokio::time::sleep(DOWN_FOR).await;
        a.restart().await;
        let answers = flood.await.expect("the flood ends");
        eprintln!(
            "killed after {killed_at} answers; {} customers answered",
            answers.len()
        );
        assert!(killed_at < CUSTOMERS, "the kill came mid-flood");

        let mut joins: HashMap<String, usize> = HashMap::new();
        for fact in queue_facts(&env.store, &event).await {
            if let WaitingRoomEvent::CustomerJoined { customer_id, .. } = fact.event {
                *joins.entry(customer_id.as_str().to_owned()).or_default() += 1;
            }
        }
        assert_eq!(joins.len(), CUSTOMERS, "every customer has a place");
        let twice: Vec<_> = joins.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "places taken twice: {twice:?}");

        let after = e2e::WaitingRoomSvc::spawn(&env.prefix).await;
        for (customer, (_, first)) in &answers {
            for url in [&a.base_url, &b.base_url, &after.base_url] {
                let view: Value = http
                    .get(format!("{url}/events/{event}/queue/me"))
                    .header(
                        "Authorization",
                        e2e::client::customer_authorization(customer),
                    )
                    .send()
                    .await
                    .expect("an answer")
                    .json()
                    .await
                    .expect("a JSON answer");
                assert_eq!(
                    view["joined_at"], first["joined_at"],
                    "{customer} at {url}: {view}"
                );
                assert_eq!(view["state"], "prequeue", "{view}");
            }
        }
        let created: HashMap<&str, usize> = answers
            .iter()
            .filter(|(_, (status, _))| *status == StatusCode::CREATED)
            .fold(HashMap::new(), |mut counts, (customer, _)| {
                *counts.entry(customer.as_str()).or_default() += 1;
                counts
            });
        assert!(created.values().all(|n| *n == 1));
        after.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}
