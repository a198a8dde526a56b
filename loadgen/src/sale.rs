//! Runs the sale: N clients hold tickets until the time is up, with a progress bar.

use crate::api::Api;
use crate::audits;
use crate::cli::{Cli, Scenario};
use crate::lag::{self, Latest};
use crate::report::{Latency, Report};
use crate::setup::{self, SaleEvent};
use crate::stats::{ClientStats, Fate, HoldTaken, OrderTaken};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Consecutive `sold_out` answers after which a client stops (the sale is over).
const SOLD_OUT_STREAK: u32 = 20;
/// How long a client sends a retried request again while it is answered 503: longer than a NATS
/// leader election.
const RETRY_UNAVAILABLE_FOR: Duration = Duration::from_secs(15);

pub async fn run(cli: &Cli) -> anyhow::Result<Report> {
    let cli = cli.effective();
    cli.validate()?;
    let api = Api::new(&cli.command_url, &cli.query_url, cli.clients)?;
    let event = Arc::new(setup::create(&api, &cli).await?);
    println!(
        "flash sale: {:?}, {} clients over {} command-svc instance(s), {:.0} s, event {}",
        cli.scenario,
        cli.clients,
        api.instances(),
        cli.seconds,
        event.event_id
    );
    let successes = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let latest = Arc::new(Latest::default());
    let naming = tv_nats::Naming::new(&cli.prefix);
    let prober = (!cli.no_lag).then(|| {
        tokio::spawn(lag::probe(
            api.clone(),
            event.event_id.clone(),
            naming.stream(tv_nats::Stream::Inventory),
            latest.clone(),
            stop.clone(),
        ))
    });
    let acks = Arc::new(crate::watchers::Acks::default());
    let watching = if cli.watchers > 0 {
        println!("opening {} live availability streams", cli.watchers);
        Some(
            crate::watchers::start(
                &cli.query_url,
                &event.event_id,
                cli.watchers,
                acks.clone(),
                stop.clone(),
            )
            .await?,
        )
    } else {
        None
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(cli.seconds);
    let shared = Arc::new(SaleShared {
        cli: cli.clone(),
        event: event.clone(),
        deadline,
        successes: successes.clone(),
        stop: stop.clone(),
        latest: latest.clone(),
        acks: (cli.watchers > 0).then_some(acks),
    });
    let clients: Vec<_> = (0..cli.clients)
        .map(|n| tokio::spawn(client_loop(n, api.for_client(n), shared.clone())))
        .collect();
    let bar = indicatif::ProgressBar::new((cli.seconds * 10.0) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {elapsed}/{duration} {msg}")
            .expect("a valid template"),
    );
    // Until the time is up, the sale stops, or every client is done (a sold-out venue).
    while Instant::now() < deadline
        && !stop.load(Ordering::Relaxed)
        && !clients.iter().all(|c| c.is_finished())
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let done = successes.load(Ordering::Relaxed);
        let rate = done as f64 / started.elapsed().as_secs_f64();
        bar.set_position((started.elapsed().as_secs_f64() * 10.0) as u64);
        bar.set_message(format!("{done} holds, {rate:.0}/s"));
    }
    bar.finish_and_clear();
    let mut total = ClientStats::new();
    for task in clients {
        total.merge(task.await?);
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let lag = match prober {
        Some(prober) => Some(prober.await?),
        None => None,
    };
    let watchers = match watching {
        Some(watching) => Some(watching.finish().await?),
        None => None,
    };
    let mut report = Report::new(
        &cli,
        elapsed,
        &total,
        Latency::from(&total.latency_us),
        lag.as_ref(),
    );
    report.watchers = watchers;
    report.inventory_shard = tv_nats::shard_of(&event.event_id, tv_nats::INVENTORY_SHARDS);
    report.event_id = event.event_id.clone();
    if !cli.no_audit {
        audits::run(&cli, &api, &event.event_id, &total, &mut report).await?;
    }
    Ok(report)
}

/// The `i`-th hold of client `n`: general admission takes 1-2 tickets; in a seated venue each
/// client walks its own slice of adjacent seat pairs, as buyers picking free seats off a seat map
/// would (pairs of different clients never overlap, so every hold should succeed until sold out).
fn hold_body(
    cli: &Cli,
    event: &SaleEvent,
    rng: &mut impl Rng,
    customer: &str,
    n: usize,
    i: u64,
) -> Option<Value> {
    let body = match cli.scenario {
        Scenario::HotGa => json!({
            "customer_id": customer,
            "section_id": event.sections[0].0,
            "quantity": rng.random_range(1..=2),
        }),
        Scenario::SpreadSeats => {
            let (_, rows, seats) = &event.sections[0];
            let pairs_per_row = u64::from(*seats / 2);
            let pairs_per_section = pairs_per_row * u64::from(*rows);
            let total_pairs = pairs_per_section * event.sections.len() as u64;
            // Spread the clients' pairs over the whole venue; a client whose walk has covered its
            // slice stops: the venue is sold out.
            let pair = n as u64 + (i - 1) * cli.clients as u64;
            if pair >= total_pairs {
                return None;
            }
            let (section, _, _) = &event.sections[(pair / pairs_per_section) as usize];
            let row = (pair % pairs_per_section) / pairs_per_row;
            let first = (pair % pairs_per_row) * 2 + 1;
            json!({
                "customer_id": customer,
                "section_id": section,
                "seats": [format!("R{row}-{first}"), format!("R{row}-{}", first + 1)],
            })
        }
    };
    Some(body)
}

/// What every client of one sale shares.
struct SaleShared {
    cli: Cli,
    event: Arc<SaleEvent>,
    deadline: Instant,
    successes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    latest: Arc<Latest>,
    /// Every acknowledged position, when the sale is watched (`--watchers`).
    acks: Option<Arc<crate::watchers::Acks>>,
}

async fn client_loop(n: usize, api: Api, shared: Arc<SaleShared>) -> ClientStats {
    let SaleShared {
        cli,
        event,
        deadline,
        successes,
        stop,
        latest,
        acks,
    } = &*shared;
    let deadline = *deadline;
    let mut stats = ClientStats::new();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(n as u64);
    let path = format!("/events/{}/holds", event.event_id);
    let mut sold_out_streak = 0;
    let mut i: u64 = 0;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        i += 1;
        // Four holds of at most two tickets per customer: within the limit of 8.
        let customer = format!("c{n}-{}", i / 4);
        let key = format!("k{n}-{i}");
        let Some(body) = hold_body(cli, event, &mut rng, &customer, n, i) else {
            break;
        };
        let first = send(&api, &path, &customer, &key, &body, &mut stats).await;
        if let Some((status, answer)) = &first {
            let mut fate = Fate::Kept;
            if *status == 201 {
                successes.fetch_add(1, Ordering::Relaxed);
                let roll = rng.random_range(0..100u8);
                if roll < cli.order_percent {
                    fate = Fate::Ordered;
                } else if roll - cli.order_percent < cli.abandon_percent {
                    fate = Fate::Abandoned;
                }
                stats.acked.push(HoldTaken {
                    hold_id: answer["hold_id"].as_str().unwrap_or_default().to_owned(),
                    customer: customer.clone(),
                    fate,
                    expires_at: answer["expires_at"].as_str().and_then(|t| {
                        time::OffsetDateTime::parse(
                            t,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    }),
                });
                if let Some(sequence) = answer["position"]
                    .as_str()
                    .and_then(|p| p.rsplit(':').next())
                    .and_then(|s| s.parse().ok())
                {
                    let now = Instant::now();
                    latest.record(sequence, now);
                    if let Some(acks) = acks {
                        acks.record(sequence, now);
                    }
                }
            }
            sold_out_streak = if answer["error"]["code"] == "sold_out" {
                sold_out_streak + 1
            } else {
                0
            };
            if sold_out_streak >= SOLD_OUT_STREAK {
                stop.store(true, Ordering::Relaxed);
            }
            if *status == 201 && fate == Fate::Ordered {
                let token = if rng.random_range(0..100u8) < cli.decline_percent {
                    "tok_decline"
                } else {
                    "tok_ok"
                };
                let order = json!({
                    "hold_id": answer["hold_id"],
                    "customer_id": customer,
                    "payment": {"token": token},
                });
                // Order ids derive from (customer, key): the key names the event, whose customers
                // have the same names as earlier sales' on the same services.
                let order_key = format!("o{}-{key}", event.event_id);
                place_order(&api, &customer, &order_key, &order, &mut stats).await;
            }
            // A client retry with the same key must get the same answer back. A 503 is no answer
            // ("retry with the same Idempotency-Key", during a leader election, say): the retry
            // is sent again, as the API asks, for up to `RETRY_UNAVAILABLE_FOR`.
            if cli.retry_every > 0 && i.is_multiple_of(cli.retry_every) && *status == 201 {
                let retrying_since = Instant::now();
                let mut again = send(&api, &path, &customer, &key, &body, &mut stats).await;
                while matches!(again, Some((503, _)))
                    && retrying_since.elapsed() < RETRY_UNAVAILABLE_FOR
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    again = send(&api, &path, &customer, &key, &body, &mut stats).await;
                }
                if let Some((again_status, again)) = again {
                    if again_status != 201
                        || again["hold_id"] != answer["hold_id"]
                        || again["seats"] != answer["seats"]
                    {
                        stats
                            .retry_mismatches
                            .push(format!("key {key}: {answer} then {again}"));
                    }
                }
            }
        }
    }
    stats
}

async fn send(
    api: &Api,
    path: &str,
    customer: &str,
    key: &str,
    body: &Value,
    stats: &mut ClientStats,
) -> Option<(u16, Value)> {
    let started = Instant::now();
    match api.command(path, Some(customer), Some(key), body).await {
        Ok(answer) => {
            stats
                .latency_us
                .saturating_record(started.elapsed().as_micros() as u64);
            let code = answer.error_code();
            stats.count(if code.is_empty() {
                answer.status.to_string()
            } else {
                format!("{} {code}", answer.status)
            });
            Some((answer.status, answer.body))
        }
        Err(e) => {
            stats.count(format!(
                "error: {}",
                if e.is_timeout() {
                    "timeout"
                } else {
                    "connection"
                }
            ));
            None
        }
    }
}

pub(crate) async fn place_order(
    api: &Api,
    customer: &str,
    key: &str,
    body: &Value,
    stats: &mut ClientStats,
) {
    let started = Instant::now();
    match api
        .command("/orders", Some(customer), Some(key), body)
        .await
    {
        Ok(answer) => {
            stats
                .order_latency_us
                .saturating_record(started.elapsed().as_micros() as u64);
            stats.count(
                format!("order {} {}", answer.status, answer.error_code())
                    .trim_end()
                    .to_owned(),
            );
            if answer.status == 202 {
                if let Some(order) = answer.body["order_id"].as_str() {
                    stats.orders.push(OrderTaken {
                        order_id: order.to_owned(),
                        customer: customer.to_owned(),
                    });
                }
            }
        }
        Err(_) => stats.count("order error: connection".into()),
    }
}
