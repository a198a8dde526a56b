//! Presales with access codes, end to end: 300 customers race for the tickets of 20 codes good for
//! 2 tickets each during a presale, through two command-svc instances (the one that does not own
//! the event forwards to the one that does), and exactly 40 tickets are held, 2 per code, every
//! other answer `409 access_code_used_up`; the stream says the same, fact by fact. Retries with the
//! same keys, through either instance, change nothing. A wrong code or none is `403 access_code_invalid`, a customer loading codes
//! `403`, a hold before the presale `409 sale_not_open`, bad code lists `422`, and no refusal
//! appends anything. The plain codes appear in no message of any stream and in no log line or span
//! command-svc wrote (captured at `trace` for TicketView's crates). The read model (projector on
//! PostgreSQL, query-svc) counts the 40 held tickets.

use domain::inventory::InventoryEvent;
use e2e::client::operator_authorization;
use e2e::leak_audit::{captured_logs, every_message};
use e2e::readside::ReadSide;
use e2e::{
    error_code, scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv, GA_SECTION,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tv_nats::EventStore;

const CUSTOMERS: usize = 300;
const CODES: usize = 20;
const PER_CODE: u32 = 2;
const SETTLED: Duration = Duration::from_secs(20);

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a formattable time")
}

/// A 1000-place floor whose presale `fans` runs from `opens` to `closes` hours from now (2 tickets
/// per code) and whose general sale opens an hour after it.
fn event_body(opens: i64, closes: i64) -> Value {
    let now = OffsetDateTime::now_utc();
    let hours = |h: i64| rfc3339(now + time::Duration::hours(h));
    let mut body = EventSpec::ga(1_000)
        .sale_opens_at(&hours(closes + 1))
        .to_json();
    body["presales"] = json!([{
        "presale_id": "fans",
        "opens_at": hours(opens),
        "closes_at": hours(closes),
        "max_tickets_per_code": PER_CODE,
    }]);
    body
}

fn hold_body(customer: &str, quantity: u32, code: Option<&str>) -> Value {
    let mut body = HoldBody::quantity(customer, GA_SECTION, quantity);
    if let Some(code) = code {
        body["access_code"] = json!(code);
    }
    body
}

async fn last_sequence(store: &EventStore, event: &str) -> u64 {
    InventoryLog::read(store, event).await.last_sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_customers_spend_twenty_codes_of_two_tickets_exactly() {
    captured_logs();
    scenario(race).await;
}

async fn race(env: TestEnv) {
    let started = Instant::now();
    let svc = CommandSvc::spawn(&env.prefix).await;
    let read = ReadSide::spawn(&env.prefix).await;
    let api = svc.api().clone();
    let operator = api.with_authorization(&operator_authorization());
    let event = api.create_on_sale("presale-race", &event_body(-1, 1)).await;
    // A second instance: it forwards the event's commands (codes, holds) to the owner.
    let second = CommandSvc::spawn(&env.prefix).await;
    let instances = [api.clone(), second.api().clone()];
    let codes_path = format!("/events/{event}/presales/fans/codes");
    // Codes no other run uses, so that finding one in the stream or the logs means this run.
    let run = &env.prefix[1..];
    let codes: Vec<String> = (0..CODES).map(|i| format!("fan-{run}-{i:02}")).collect();

    // Refused loads append nothing.
    let opened = last_sequence(&env.store, &event).await;
    let (status, body) = api
        .as_customer("mallory")
        .post(&codes_path, None, &json!({ "codes": codes }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for (codes, expected) in [
        (json!([]), StatusCode::UNPROCESSABLE_ENTITY),
        (json!(["abc"]), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!(vec!["c0de-1"; 1_001]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, body) = operator
            .post(&codes_path, None, &json!({ "codes": codes }))
            .await;
        assert_eq!(status, expected, "{body}");
    }
    let (status, body) = operator
        .post(
            &format!("/events/{event}/presales/vip/codes"),
            None,
            &json!({ "codes": codes }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), Some("unknown_presale"), "{body}");
    assert_eq!(last_sequence(&env.store, &event).await, opened);

    // Loading twice (through either instance) adds each code once.
    let (status, body) = instances[1]
        .with_authorization(&operator_authorization())
        .post(&codes_path, None, &json!({ "codes": codes }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["codes"], CODES);
    let loaded = last_sequence(&env.store, &event).await;
    let (status, body) = operator
        .post(&codes_path, None, &json!({ "codes": codes }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(last_sequence(&env.store, &event).await, loaded);

    // A wrong code, none, or a malformed one: 403, nothing appended.
    for (i, code) in [Some("fan-nope-00"), None, Some("x")]
        .into_iter()
        .enumerate()
    {
        let customer = format!("stranger-{i}");
        let (status, body) = api
            .hold(
                &event,
                &format!("k-{customer}"),
                &hold_body(&customer, 1, code),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error_code(&body), Some("access_code_invalid"), "{body}");
    }
    assert_eq!(last_sequence(&env.store, &event).await, loaded);

    // The race: customer i types code i mod 20 (15 customers per code), as its box office reads
    // it out (upper case).
    let requests: Vec<(String, String)> = (0..CUSTOMERS)
        .map(|i| (format!("fan-{i:03}"), codes[i % CODES].to_uppercase()))
        .collect();
    let raced = Instant::now();
    let answers = futures::future::join_all(requests.iter().cloned().enumerate().map(
        |(i, (customer, code))| {
            let api = instances[i % 2].clone();
            let event = event.clone();
            tokio::spawn(async move {
                let body = hold_body(&customer, 1, Some(&code));
                api.hold_retrying(&event, &format!("k-{customer}"), &body, 20)
                    .await
            })
        },
    ))
    .await;
    let race_time = raced.elapsed();
    let id = event.parse().expect("an event id");
    assert!(svc.app_state.inventories.owns(id) && !second.app_state.inventories.owns(id));

    let mut held_per_code: HashMap<&str, u32> = HashMap::new();
    let mut won: BTreeMap<String, String> = BTreeMap::new(); // hold -> customer
    let mut used_up = 0;
    for ((customer, code), answer) in requests.iter().zip(answers) {
        let (status, body, _) = answer.expect("a client task");
        match status {
            StatusCode::CREATED => {
                assert_eq!(body["quantity"], 1, "{body}");
                *held_per_code.entry(code).or_insert(0) += 1;
                won.insert(
                    body["hold_id"].as_str().unwrap().to_owned(),
                    customer.clone(),
                );
            }
            StatusCode::CONFLICT => {
                assert_eq!(error_code(&body), Some("access_code_used_up"), "{body}");
                used_up += 1;
            }
            other => panic!("{customer}: unexpected {other}: {body}"),
        }
    }
    eprintln!(
        "{CUSTOMERS} presale holds answered in {race_time:?}: {} placed, {used_up} used up",
        won.len()
    );
    assert_eq!(won.len(), CODES * PER_CODE as usize);
    assert_eq!(used_up, CUSTOMERS - CODES * PER_CODE as usize);
    assert_eq!(held_per_code.len(), CODES);
    assert!(
        held_per_code.values().all(|&n| n == PER_CODE),
        "{held_per_code:?}"
    );

    // Every request again, same keys: the same answers, nothing appended.
    let raced_to = last_sequence(&env.store, &event).await;
    for (i, (customer, code)) in requests.iter().enumerate().step_by(7) {
        let body = hold_body(customer, 1, Some(code));
        let again = &instances[(i + 1) % 2];
        let (status, body) = again.hold(&event, &format!("k-{customer}"), &body).await;
        match won.values().any(|c| c == customer) {
            true => assert_eq!(status, StatusCode::CREATED, "{body}"),
            false => assert_eq!(error_code(&body), Some("access_code_used_up"), "{body}"),
        }
    }
    assert_eq!(last_sequence(&env.store, &event).await, raced_to);

    // The stream: 40 holds of one ticket, each followed by the code it spent, 2 per code.
    let log = InventoryLog::read(&env.store, &event).await;
    assert_eq!(log.count("AccessCodesLoaded"), 1);
    assert_eq!(log.count("SeatsHeld"), won.len());
    assert_eq!(log.count("AccessCodeSpent"), won.len());
    let facts: Vec<&InventoryEvent> = log.facts().collect();
    let mut tickets_per_hash: HashMap<String, u32> = HashMap::new();
    for pair in facts.windows(2) {
        if let InventoryEvent::SeatsHeld {
            hold_id, quantity, ..
        } = pair[0]
        {
            let InventoryEvent::AccessCodeSpent {
                hold_id: spender,
                code,
                ..
            } = pair[1]
            else {
                panic!("SeatsHeld of {hold_id} spent no code: {:?}", pair[1]);
            };
            assert_eq!(spender, hold_id);
            assert!(won.contains_key(&hold_id.to_string()), "{hold_id}");
            *tickets_per_hash.entry(code.to_hex()).or_insert(0) += quantity;
        }
    }
    assert_eq!(tickets_per_hash.len(), CODES);
    assert!(tickets_per_hash.values().all(|&n| n == PER_CODE));
    let state = log.fold();
    let now = OffsetDateTime::now_utc();
    let held: u32 = state.availability(now).iter().map(|s| s.held).sum();
    assert_eq!(held, CODES as u32 * PER_CODE);

    // Before its presale, an event sells nothing, code or not.
    let early = api.create_on_sale("presale-early", &event_body(1, 2)).await;
    let early_codes = format!("/events/{early}/presales/fans/codes");
    let (status, body) = operator
        .post(&early_codes, None, &json!({ "codes": [&codes[0]] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = last_sequence(&env.store, &early).await;
    let (status, body) = api
        .hold(&early, "k-eager", &hold_body("eager", 1, Some(&codes[0])))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), Some("sale_not_open"), "{body}");
    assert_eq!(last_sequence(&env.store, &early).await, before);

    // The read model counts the 40 held tickets.
    let availability = read
        .get_until(
            &format!("/events/{event}/availability"),
            SETTLED,
            |_, body| body["sections"][0]["held"] == CODES as u32 * PER_CODE,
        )
        .await;
    assert_eq!(availability["sections"][0]["sold"], 0, "{availability}");
    // The event shows its presale (window and budget, never a code), so a page asks for a code.
    let (_, detail) = read.get(&format!("/events/{event}")).await;
    let presales = detail["presales"].as_array().expect("presales listed");
    assert_eq!(presales.len(), 1, "{detail}");
    assert_eq!(presales[0]["presale_id"], "fans");
    assert_eq!(presales[0]["max_tickets_per_code"], PER_CODE);
    assert!(presales[0]["opens_at"].is_string() && presales[0]["closes_at"].is_string());

    // No plain code anywhere: not in any stream, not in any log line or span.
    let messages = every_message(&env.store).await;
    let logged = e2e::leak_audit::logged().to_uppercase();
    assert!(
        logged.contains("LOAD_CODES"),
        "the handler's span was not captured"
    );
    for code in &codes {
        let upper = code.to_uppercase();
        for (stream, sequence, text) in &messages {
            assert!(
                !text.to_uppercase().contains(&upper),
                "{stream:?} message {sequence} holds code {code}"
            );
        }
        assert!(
            !logged.contains(&upper),
            "a log line or span holds code {code}"
        );
    }

    read.shutdown().await;
    second.shutdown().await;
    svc.shutdown().await;
    eprintln!("presale scenario took {:?}", started.elapsed());
}
