//! command-svc against clients that hold it up or flood it: a request head sent by halves is cut
//! off after the header timeout, a body sent too slowly is `408 request_timeout`, and a client
//! over its command rate (per customer, per address) is `429 rate_limited` with `Retry-After`,
//! nothing appended for it, while other clients are served as usual.

use e2e::{error_code, scenario, Api, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use e2e::{GA_SECTION, SEATED_SECTION};
use reqwest::StatusCode;
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client whose connections come from `source` (any 127.x.y.z is this machine's loopback), so a
/// test can be several client addresses.
fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(source))
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

const OPERATOR_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// `count` one-ticket GA holds, each as `customer(i)` with a key of its own, all sent at once.
async fn holds_at_once(
    api: &Api,
    event: &str,
    count: usize,
    customer: impl Fn(usize) -> String,
) -> Vec<(StatusCode, Value, Option<String>)> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let customer = customer(i);
            let http = api.http().clone();
            let url = format!("{}/events/{event}/holds", api.base_url());
            tokio::spawn(async move {
                let response = http
                    .post(url)
                    .header(
                        "Authorization",
                        e2e::client::customer_authorization(&customer),
                    )
                    .header("Idempotency-Key", format!("flood-{i}"))
                    .json(&HoldBody::quantity(&customer, GA_SECTION, 1))
                    .send()
                    .await
                    .expect("command-svc answers");
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                let body: Value = response.json().await.expect("a JSON answer");
                (status, body, retry_after)
            })
        })
        .collect();
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|answer| answer.expect("a client task"))
        .collect()
}

/// `held` commands passed a limit of `per_second` with bursts of `burst`, for a flood that took
/// `took` to be answered: the burst at least, and no more than the burst and what refilled.
#[track_caller]
fn assert_allowance(
    held: usize,
    burst: usize,
    per_second: usize,
    took: Duration,
    answers: &[impl std::fmt::Debug],
) {
    let refilled = (took.as_secs_f64() * per_second as f64).ceil() as usize;
    assert!(
        held >= burst && held <= burst + refilled,
        "{held} of {} passed in {took:?} (burst {burst}, {per_second}/s): {answers:?}",
        answers.len()
    );
    assert!(held < answers.len(), "nothing was refused: {answers:?}");
}

/// Every refusal is the API's 429 with a whole number of seconds to wait.
#[track_caller]
fn assert_rate_limited(refused: &[&(StatusCode, Value, Option<String>)]) {
    for (status, body, retry_after) in refused {
        assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(error_code(body), Some("rate_limited"), "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        let seconds: u64 = retry_after
            .as_deref()
            .expect("Retry-After on a 429")
            .parse()
            .expect("Retry-After in whole seconds");
        assert!((1..=2).contains(&seconds), "Retry-After: {seconds}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_over_its_command_rate_is_refused_and_nothing_is_held_for_it() {
    scenario(|env: TestEnv| async move {
        let config = command_svc::Config {
            commands_per_customer: 1, // bursts of 2
            ..command_svc::Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let svc = CommandSvc::spawn_with(config, client_from(OPERATOR_ADDRESS)).await;
        let event = svc
            .api()
            .create_on_sale("rate-event", &EventSpec::ga(100).to_json())
            .await;

        let started = Instant::now();
        let answers = holds_at_once(svc.api(), &event, 10, |_| "greedy".to_owned()).await;
        let took = started.elapsed();
        let held = answers
            .iter()
            .filter(|(status, _, _)| *status == StatusCode::CREATED)
            .count();
        let refused: Vec<_> = answers
            .iter()
            .filter(|(status, _, _)| *status != StatusCode::CREATED)
            .collect();
        // The burst of 2, and one more for every second the flood took to arrive.
        assert_allowance(held, 2, 1, took, &answers);
        assert_rate_limited(&refused);
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            log.count("SeatsHeld"),
            held,
            "a refused hold appended nothing"
        );

        // Another customer, from the same address, is served at once.
        let other = svc
            .api()
            .hold(
                &event,
                "other-1",
                &HoldBody::quantity("patient", GA_SECTION, 1),
            )
            .await;
        assert_eq!(other.0, StatusCode::CREATED, "{}", other.1);
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_command_rate_is_refused_whoever_it_acts_for() {
    scenario(|env: TestEnv| async move {
        let config = command_svc::Config {
            commands_per_address: 2, // bursts of 4
            ..command_svc::Config::for_test(&e2e::nats_url(), &env.prefix)
        };
        let svc = CommandSvc::spawn_with(config, client_from(OPERATOR_ADDRESS)).await;
        let event = svc
            .api()
            .create_on_sale("address-event", &EventSpec::ga(100).to_json())
            .await;

        let flooding = Api::new(
            client_from(Ipv4Addr::new(127, 0, 0, 4)),
            svc.api().base_url(),
        );
        let started = Instant::now();
        let answers = holds_at_once(&flooding, &event, 12, |i| format!("bot-{i}")).await;
        let took = started.elapsed();
        let held = answers
            .iter()
            .filter(|(status, _, _)| *status == StatusCode::CREATED)
            .count();
        let refused: Vec<_> = answers
            .iter()
            .filter(|(status, _, _)| *status != StatusCode::CREATED)
            .collect();
        assert_allowance(held, 4, 2, took, &answers);
        assert_rate_limited(&refused);
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(
            log.count("SeatsHeld"),
            held,
            "a refused hold appended nothing"
        );

        // Another address is not held back by this one.
        let elsewhere = Api::new(
            client_from(Ipv4Addr::new(127, 0, 0, 5)),
            svc.api().base_url(),
        );
        let other = elsewhere
            .hold(
                &event,
                "elsewhere-1",
                &HoldBody::quantity("neighbour", GA_SECTION, 1),
            )
            .await;
        assert_eq!(other.0, StatusCode::CREATED, "{}", other.1);
        // Reads of the service's own endpoints are not commands: never limited.
        let health = flooding
            .http()
            .get(format!("{}/healthz", svc.api().base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        svc.shutdown().await;
    })
    .await;
}

/// Reads until the peer closes or `limit` passes: what was read, and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&read).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&read).into_owned(), true),
            Ok(Ok(n)) => read.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_request_heads_and_bodies_are_cut_off() {
    scenario(|env: TestEnv| async move {
        let mut config = command_svc::Config::for_test(&e2e::nats_url(), &env.prefix);
        config.http.http_header_timeout_secs = 1;
        config.http.http_body_timeout_secs = 1;
        let svc = CommandSvc::spawn_with(config, e2e::client::http_client()).await;
        let event = svc
            .api()
            .create_on_sale("slow-event", &EventSpec::seated().to_json())
            .await;
        let addr = svc.base_url.trim_start_matches("http://").to_owned();

        // Half a request head, then nothing.
        let mut slowloris = TcpStream::connect(&addr).await.unwrap();
        slowloris
            .write_all(b"POST /orders HTTP/1.1\r\nHost: tickets\r\nContent-Ty")
            .await
            .unwrap();
        let started = Instant::now();
        let (answer, closed) = read_until_closed(&mut slowloris, Duration::from_secs(6)).await;
        assert!(
            closed,
            "a half-sent head still holds its connection after 6 s"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "closed, or answered 408: {answer:?}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );

        // A whole head, then a body that never finishes.
        let authorization = e2e::client::customer_authorization("slow");
        let head = format!(
            "POST /events/{event}/holds HTTP/1.1\r\nHost: tickets\r\nAuthorization: \
             {authorization}\r\nIdempotency-Key: slow-1\r\nContent-Type: application/json\r\n\
             Content-Length: 200\r\n\r\n{{\"section_id\": \"{SEATED_SECTION}\""
        );
        let mut slow_body = TcpStream::connect(&addr).await.unwrap();
        slow_body.write_all(head.as_bytes()).await.unwrap();
        let (answer, closed) = read_until_closed(&mut slow_body, Duration::from_secs(6)).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"request_timeout\""), "{answer}");
        assert!(closed, "the connection of a late body is closed");
        let log = InventoryLog::read(&env.store, &event).await;
        assert_eq!(log.count("SeatsHeld"), 0, "a cut-off hold appended nothing");

        // Everyone else is still served.
        let (status, body) = svc
            .api()
            .hold(
                &event,
                "fine-1",
                &HoldBody::quantity("fine", SEATED_SECTION, 1),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        svc.shutdown().await;
    })
    .await;
}
