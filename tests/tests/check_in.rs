//! Check-in at the gate, through command-svc, the projector and query-svc on the real NATS server
//! and PostgreSQL: two scanners racing on every ticket of an event check each in exactly once (in
//! the answers, in the stream and in the read model); void, unknown and forged codes and callers
//! without the role get a clear error and append nothing; `GET /tickets/{code}` answers its
//! customer, a scanner and an operator, and nobody else.

use domain::ids::{EventId, OrderId};
use domain::ordering::{OrderStatus, Ticket, TicketKey};
use e2e::orders::{order_id, wait_for_order, OrderLog};
use e2e::readside::ReadSide;
use e2e::{error_code, scenario, Api, CommandSvc, EventSpec, HoldBody, TestEnv, GA_SECTION};
use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const SETTLED: Duration = Duration::from_secs(30);
/// Tickets per order in the race; orders × this is the number of tickets raced on.
const TICKETS_PER_ORDER: u32 = 10;
/// Requests each scanner keeps in flight.
const IN_FLIGHT: usize = 8;

/// command-svc whose per-subject rate limit lets a scanner scan as fast as the test sends.
async fn command_svc(prefix: &str) -> CommandSvc {
    let config = command_svc::Config {
        commands_per_customer: 1_000_000,
        ..command_svc::Config::for_test(&e2e::nats_url(), prefix)
    };
    CommandSvc::spawn_with(config, e2e::client::http_client()).await
}

fn bearer(token: String) -> String {
    format!("Bearer {token}")
}

fn scanner(api: &Api, name: &str) -> Api {
    api.with_authorization(&bearer(auth::testing::scanner_token(name)))
}

async fn check_in(api: &Api, code: &str) -> (StatusCode, Value) {
    api.post(&format!("/tickets/{code}/check-in"), None, &json!({}))
        .await
}

/// A general-admission event of `capacity` places on sale; its id.
async fn event_on_sale(svc: &CommandSvc, name: &str, capacity: u32) -> String {
    let spec = EventSpec::ga(capacity).limit(TICKETS_PER_ORDER.max(2));
    svc.api().create_on_sale(name, &spec.to_json()).await
}

/// `customer` buys `quantity` places of `event` and the order is confirmed; its id and tickets.
async fn confirmed_order(
    svc: &CommandSvc,
    env: &TestEnv,
    event: &str,
    customer: &str,
    quantity: u32,
) -> (OrderId, Vec<Ticket>) {
    let body = HoldBody::quantity(customer, GA_SECTION, quantity);
    let (status, hold) = svc.api().hold(event, &format!("h-{customer}"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    let hold_id = hold["hold_id"].as_str().unwrap();
    let (status, placed) = svc
        .api()
        .place_order(&format!("o-{customer}"), hold_id, customer, "tok_ok")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
    let order = order_id(placed["order_id"].as_str().unwrap());
    let log = wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Confirmed).await;
    let tickets = log.order_state().order().unwrap().tickets.clone();
    (order, tickets)
}

fn checked_in_facts(log: &OrderLog) -> Vec<String> {
    log.order
        .iter()
        .filter_map(|e| match e {
            domain::ordering::OrderEvent::TicketCheckedIn { code, .. } => Some(code.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_scanners_racing_on_every_ticket_check_each_in_exactly_once() {
    let orders: u32 = std::env::var("TV_CHECK_IN_ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    scenario(move |env: TestEnv| async move {
        let svc = command_svc(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let event = event_on_sale(&svc, "race", orders * TICKETS_PER_ORDER).await;
        let bought: Vec<(OrderId, Vec<Ticket>)> = stream::iter(0..orders)
            .map(|i| {
                let (svc, env, event) = (&svc, &env, &event);
                async move {
                    confirmed_order(svc, env, event, &format!("buyer-{i}"), TICKETS_PER_ORDER).await
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let codes: Vec<String> = bought
            .iter()
            .flat_map(|(_, tickets)| tickets.iter().map(|t| t.code.clone()))
            .collect();
        assert_eq!(codes.len(), (orders * TICKETS_PER_ORDER) as usize);

        // Both scanners go through every ticket in the same order, several at a time.
        let started = std::time::Instant::now();
        let scan = |name: &'static str| {
            let gate = scanner(svc.api(), name);
            let codes = codes.clone();
            async move {
                stream::iter(codes)
                    .map(|code| {
                        let gate = gate.clone();
                        async move {
                            loop {
                                let (status, body) = check_in(&gate, &code).await;
                                // The order kept changing under it: scanned again, as a gate would.
                                if status != StatusCode::SERVICE_UNAVAILABLE {
                                    return (code, status, body);
                                }
                            }
                        }
                    })
                    .buffer_unordered(IN_FLIGHT)
                    .collect::<Vec<_>>()
                    .await
            }
        };
        let (first, second) = tokio::join!(scan("gate-1"), scan("gate-2"));
        let elapsed = started.elapsed();
        println!(
            "{} check-ins by two scanners on {} tickets in {elapsed:?}",
            first.len() + second.len(),
            codes.len()
        );

        let mut admitted: HashMap<String, String> = HashMap::new();
        let mut refused: Vec<(String, String)> = Vec::new();
        for (code, status, body) in first.into_iter().chain(second) {
            match status {
                StatusCode::OK => {
                    let at = body["checked_in_at"].as_str().unwrap().to_owned();
                    assert!(
                        admitted.insert(code.clone(), at).is_none(),
                        "{code} admitted twice"
                    );
                }
                StatusCode::CONFLICT => {
                    assert_eq!(error_code(&body), Some("already_checked_in"), "{body}");
                    let at = body["error"]["checked_in_at"].as_str().unwrap().to_owned();
                    refused.push((code, at));
                }
                other => panic!("{code}: {other} {body}"),
            }
        }
        assert_eq!(admitted.len(), codes.len(), "every ticket admitted once");
        assert_eq!(refused.len(), codes.len(), "and refused once");
        for (code, at) in &refused {
            assert_eq!(Some(at), admitted.get(code), "{code}: the first time");
        }

        // The stream: one TicketCheckedIn per ticket.
        let mut facts = Vec::new();
        for (order, _) in &bought {
            facts.extend(checked_in_facts(&OrderLog::read(&env.store, *order).await));
        }
        assert_eq!(facts.len(), codes.len());
        facts.sort();
        facts.dedup();
        assert_eq!(facts.len(), codes.len());

        // The read model: every ticket checked in, and the report counts them.
        let report = read
            .get_until(&format!("/events/{event}/report"), SETTLED, |s, body| {
                s == StatusCode::OK && body["totals"]["checked_in"] == codes.len()
            })
            .await;
        assert_eq!(report["sections"][0]["checked_in"], codes.len());
        let db = read.database.client().await;
        let event_uuid: uuid::Uuid = event.parse().unwrap();
        let row = db
            .query_one(
                "SELECT count(*) FILTER (WHERE status = 'checked_in'),
                        count(DISTINCT code), count(*)
                 FROM tickets WHERE event_id = $1",
                &[&event_uuid],
            )
            .await
            .unwrap();
        let (checked_in, distinct, all): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            (checked_in, distinct, all),
            (codes.len() as i64, codes.len() as i64, codes.len() as i64)
        );
        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn void_unknown_and_forged_tickets_and_customers_are_refused_and_append_nothing() {
    scenario(|env: TestEnv| async move {
        let svc = command_svc(&env.prefix).await;
        let read = ReadSide::spawn(&env.prefix).await;
        let event = event_on_sale(&svc, "gate", 10).await;
        let (order, tickets) = confirmed_order(&svc, &env, &event, "alice", 2).await;
        let gate = scanner(svc.api(), "gate-1");
        let facts = || async { OrderLog::read(&env.store, order).await.order.len() };
        let before = facts().await;

        // A customer (even the ticket's own) may not check in.
        let (status, body) = check_in(&svc.api().as_customer("alice"), &tickets[0].code).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error_code(&body), Some("forbidden"));
        // A code never issued; a well-formed code for this very order under another key; a code
        // of the unsigned format.
        let forged = TicketKey::new(b"a-key-the-server-does-not-hold-0123456789abc")
            .tickets_for(
                event.parse::<EventId>().unwrap(),
                order,
                &tickets[0].section_id,
                &[],
                2,
            )
            .remove(0)
            .code;
        let never_issued = format!("TV-{}", "A".repeat(44));
        for code in [
            forged.as_str(),
            &never_issued,
            "TV-7K3M9Q2X0BFE",
            "nonsense",
        ] {
            let (status, body) = check_in(&gate, code).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{code}: {body}");
            assert_eq!(error_code(&body), Some("unknown_ticket"), "{body}");
        }
        assert_eq!(facts().await, before, "nothing appended");

        // The order answer carries each ticket's id and QR payload.
        let answer = read
            .get_until(&format!("/orders/{order}"), SETTLED, |_, b| {
                b["status"] == "confirmed"
            })
            .await;
        let shown = &answer["tickets"][0];
        assert_eq!(shown["qr"], tickets[0].code.as_str());

        // GET /tickets/{code}: its customer, a scanner, an operator; not another customer.
        let path = format!("/tickets/{}", tickets[0].code);
        let owner = bearer(auth::testing::customer_token("alice"));
        let (status, ticket) = read.get_as(&path, Some(&owner)).await;
        assert_eq!(status, StatusCode::OK, "{ticket}");
        assert_eq!(ticket["status"], "valid");
        assert_eq!(ticket["order_id"], order.to_string());
        assert_eq!(ticket["event_id"], event);
        assert_eq!(ticket["ticket_id"], shown["ticket_id"]);
        let at_gate = bearer(auth::testing::scanner_token("gate-1"));
        assert_eq!(read.get_as(&path, Some(&at_gate)).await.0, StatusCode::OK);
        assert_eq!(read.get(&path).await.0, StatusCode::OK, "an operator");
        let other = bearer(auth::testing::customer_token("bob"));
        let (status, body) = read.get_as(&path, Some(&other)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(error_code(&body), Some("unknown_ticket"));
        let (status, _) = read
            .get_as(&format!("/tickets/{forged}"), Some(&at_gate))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The first check-in, then again.
        let (status, first) = check_in(&gate, &tickets[0].code).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["ticket_id"], shown["ticket_id"]);
        assert_eq!(first["event_id"], event);
        assert!(first["seat"].is_null(), "general admission");
        let (status, again) = check_in(&scanner(svc.api(), "gate-2"), &tickets[0].code).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert_eq!(error_code(&again), Some("already_checked_in"));
        assert_eq!(again["error"]["checked_in_at"], first["checked_in_at"]);
        let seen = read
            .get_until(&path, SETTLED, |_, b| b["status"] == "checked_in")
            .await;
        assert!(seen["checked_in_at"].is_string());

        // The order is cancelled (and refunded): its other ticket is void.
        let (status, body) = svc.api().cancel_order(&order.to_string(), "alice").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        wait_for_order(&env.store, order, SETTLED, |s| s == OrderStatus::Refunded).await;
        let before = facts().await;
        let (status, body) = check_in(&gate, &tickets[1].code).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(error_code(&body), Some("ticket_void"));
        assert_eq!(facts().await, before, "nothing appended");
        let void = format!("/tickets/{}", tickets[1].code);
        read.get_until(&void, SETTLED, |_, b| b["status"] == "void")
            .await;
        read.shutdown().await;
        svc.shutdown().await;
    })
    .await;
}
