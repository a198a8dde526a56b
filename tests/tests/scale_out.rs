//! Scale-out: two command-svc, two projector partitions (0/2 and 1/2, one filtered consumer
//! each) and two query-svc on one NATS and one PostgreSQL. Hundreds of holds race from both
//! command instances over events spread over both partitions, some are ordered and paid; then
//! every invariant is checked from the streams, and both query-svc must answer exactly the fold of
//! the stream (availability and seat maps).

use command_svc::payments::{TestGateway, TestGatewaySettings};
use command_svc::Config;
use domain::inventory::SeatStatus;
use domain::ordering::OrderStatus;
use e2e::orders::{order_id, wait_for_order};
use e2e::readside::{spawn_projector_partition, spawn_query, Database};
use e2e::stream::{hold_id, section};
use e2e::{scenario, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv, SEATED_SECTION};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tv_nats::{shard_of, Stream, INVENTORY_SHARDS};

/// Hold requests in all, spread over the events and both command instances.
const CLIENTS: usize = 360;
/// Events in each projector partition.
const EVENTS_PER_PARTITION: usize = 2;
/// Holds turned into paid orders.
const ORDERS: usize = 24;
const RETRIES: u32 = 5;

fn partition_of(event: &str) -> u16 {
    shard_of(event, INVENTORY_SHARDS) % 2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_of_each_service_answer_exactly_the_stream() {
    scenario(|env: TestEnv| async move {
        let gateway = Arc::new(TestGateway::new(TestGatewaySettings::default()));
        let config = || Config::for_test(&e2e::nats_url(), &env.prefix);
        let http = e2e::client::http_client();
        let commands = [
            CommandSvc::spawn_with_gateway(config(), http.clone(), gateway.clone()).await,
            CommandSvc::spawn_with_gateway(config(), http.clone(), gateway.clone()).await,
        ];
        let database = Database::create().await;
        let projectors = [
            spawn_projector_partition(&env.prefix, &database, "0/2").await,
            spawn_projector_partition(&env.prefix, &database, "1/2").await,
        ];
        let (query_a, addr_a) = spawn_query(&env.prefix, &database).await;
        let (query_b, addr_b) = spawn_query(&env.prefix, &database).await;

        // Events on sale until each partition has its share.
        let mut events: Vec<String> = Vec::new();
        let mut per_partition = [0usize; 2];
        let mut n = 0;
        while per_partition.iter().any(|c| *c < EVENTS_PER_PARTITION) {
            n += 1;
            assert!(n < 40, "events never spread over both partitions");
            let event = commands[n % 2]
                .api()
                .create_on_sale(&format!("scale-{n}"), &EventSpec::seated().to_json())
                .await;
            let partition = usize::from(partition_of(&event));
            per_partition[partition] += 1;
            events.push(event);
        }

        // The race: every client asks one event for random seats through one command instance.
        let mut rng = StdRng::seed_from_u64(e2e::seed(0x5ca1e));
        let requests = e2e::fixtures::random_seat_requests(&mut rng, CLIENTS);
        let started = Instant::now();
        let tasks: Vec<_> = requests
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, (customer, seats))| {
                let api = commands[i % 2].api().clone();
                let event = events[(i / 2) % events.len()].clone();
                tokio::spawn(async move {
                    let body = HoldBody::seats(&customer, SEATED_SECTION, &seats);
                    let answer = api
                        .hold_retrying(&event, &format!("k-{customer}"), &body, RETRIES)
                        .await;
                    (event, customer, seats, answer)
                })
            })
            .collect();
        let answers = futures::future::join_all(tasks).await;
        let elapsed = started.elapsed();

        // From the answers: no seat of an event won twice.
        let mut won: HashMap<(String, String), String> = HashMap::new();
        let mut placed: Vec<(String, String, String)> = Vec::new(); // (event, customer, hold)
        let mut conflicts = 0;
        for answer in answers {
            let (event, customer, asked, (status, body, _)) = answer.expect("a client task");
            match status {
                StatusCode::CREATED => {
                    let hold = body["hold_id"].as_str().expect("hold_id").to_owned();
                    for seat in asked {
                        if let Some(other) = won.insert((event.clone(), seat.clone()), hold.clone())
                        {
                            panic!("seat {seat} of {event} held by {other} and {hold}");
                        }
                    }
                    placed.push((event, customer, hold));
                }
                StatusCode::CONFLICT => conflicts += 1,
                other => panic!("{customer}: unexpected {other}: {body}"),
            }
        }
        let rate = CLIENTS as f64 / elapsed.as_secs_f64();
        eprintln!(
            "{CLIENTS} holds over 2 command-svc in {elapsed:?} ({rate:.0}/s): {} placed, \
             {conflicts} seat conflicts, events per partition {per_partition:?}",
            placed.len()
        );
        assert!(
            placed.len() > CLIENTS / 4,
            "too few holds placed to prove anything"
        );

        // Some holds are ordered and paid, through both instances.
        let mut orders = Vec::new();
        for (i, (_, customer, hold)) in placed.iter().take(ORDERS).enumerate() {
            let (status, order) = commands[i % 2]
                .api()
                .place_order(&format!("order-{i}"), hold, customer, "tok_ok")
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{order}");
            orders.push(order_id(order["order_id"].as_str().expect("order_id")));
        }
        for order in &orders {
            wait_for_order(&env.store, *order, Duration::from_secs(30), |s| {
                s == OrderStatus::Confirmed
            })
            .await;
        }

        // From the streams: every answered hold holds its seats or sold them to its order.
        let now = time::OffsetDateTime::now_utc();
        let stalls = section(SEATED_SECTION);
        let mut folds = BTreeMap::new();
        for event in &events {
            let log = InventoryLog::read(&env.store, event).await;
            let state = log.fold();
            let answered = placed.iter().filter(|(e, ..)| e == event).count();
            assert_eq!(log.count("SeatsHeld"), answered, "{event}");
            for ((e, seat), hold) in &won {
                if e != event {
                    continue;
                }
                let status = state
                    .seat_status(&stalls, &seat.parse().expect("a label"), now)
                    .expect("a known seat");
                match status {
                    SeatStatus::Held(h) => assert_eq!(h, hold_id(hold), "seat {seat}"),
                    SeatStatus::Sold(_) => {
                        assert!(state.hold(&hold_id(hold)).is_some(), "seat {seat}")
                    }
                    SeatStatus::Available => panic!("seat {seat} of {event} lost its hold"),
                    SeatStatus::Blocked(_) => panic!("seat {seat} of {event} is blocked"),
                }
            }
            let sold: u32 = state.availability(now).iter().map(|s| s.sold).sum();
            let ordered_here = placed
                .iter()
                .take(ORDERS)
                .filter(|(e, ..)| e == event)
                .count();
            assert_eq!(
                log.count("SeatsSold"),
                ordered_here,
                "{event}: one sale per order"
            );
            assert!(ordered_here == 0 || sold > 0, "{event}");
            folds.insert(event.clone(), (log.last_sequence, state));
        }

        // Both query-svc answer exactly the fold, once at the stream's position for the event.
        let inventory = env.store.naming().stream(Stream::Inventory);
        for addr in [addr_a, addr_b] {
            for (event, (last, state)) in &folds {
                let after = format!("?after={inventory}:{last}");
                let availability = get(
                    &http,
                    &format!("http://{addr}/events/{event}/availability{after}"),
                )
                .await;
                let answered: Vec<(String, u64, u64, u64)> = availability["sections"]
                    .as_array()
                    .expect("sections")
                    .iter()
                    .map(|s| {
                        (
                            s["section_id"].as_str().unwrap().to_owned(),
                            s["available"].as_u64().unwrap(),
                            s["held"].as_u64().unwrap(),
                            s["sold"].as_u64().unwrap(),
                        )
                    })
                    .collect();
                let expected: Vec<(String, u64, u64, u64)> = state
                    .availability(now)
                    .iter()
                    .map(|s| {
                        (
                            s.section_id.to_string(),
                            u64::from(s.available),
                            u64::from(s.held),
                            u64::from(s.sold),
                        )
                    })
                    .collect();
                assert_eq!(answered, expected, "{addr}: availability of {event}");

                let seats = get(
                    &http,
                    &format!("http://{addr}/events/{event}/sections/{SEATED_SECTION}/seats{after}"),
                )
                .await;
                for seat in seats.as_array().expect("a seat map") {
                    let label = seat["seat"].as_str().unwrap();
                    let expected = match state
                        .seat_status(&stalls, &label.parse().expect("a label"), now)
                        .expect("a known seat")
                    {
                        SeatStatus::Available => "available",
                        SeatStatus::Held(_) => "held",
                        SeatStatus::Sold(_) => "sold",
                        SeatStatus::Blocked(_) => "blocked",
                    };
                    assert_eq!(seat["status"], expected, "{addr}: seat {label} of {event}");
                }
            }
        }

        query_a.stop().await;
        query_b.stop().await;
        for projector in projectors {
            projector.stop().await;
        }
        for command in commands {
            command.shutdown().await;
        }
    })
    .await;
}

/// `GET url`, expecting 200 within the query's own bounded wait.
async fn get(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.expect("query-svc answers");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "GET {url}: {body}");
    body
}
