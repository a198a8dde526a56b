//! Every consumer killed with SIGKILL in the middle of a backlog, with no traffic after, then
//! started again: how long until its effects catch up, and that each effect happened once.
//!
//! - the fulfilment reactor (in command-svc) while it confirms a burst of orders: every order ends
//!   confirmed, each fact once, within seconds of the restart;
//! - the projector while it applies a backlog in small batches: its checkpoints reach the end of
//!   every stream, and the read model counts each sale once;
//! - the notifier while it writes a backlog of notices: one confirmation per order.
//!
//! Each measurement is printed as a line `RECOVERY {json}`; `scripts/recovery` runs this test in
//! release mode for several rounds (`TV_RECOVERY_ROUNDS`) and summarises those lines. The bound
//! asserted here, [`RECOVERY_LIMIT`], only tells a crash that waited for an ack wait (30 s before)
//! from one that did not.

use domain::ids::OrderId;
use domain::ordering::OrderEvent;
use e2e::process::{fault_http_client, service_binary, ChildProcess, CommandSvcProcess};
use e2e::readside::Database;
use e2e::stream::event_id;
use e2e::{scenario, Api, EventSpec, HoldBody, TestEnv, GA_SECTION};
use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tv_nats::{EventStore, Stream};

/// Orders in each round's burst.
const ORDERS: usize = 60;
/// Buyers sending at once.
const CONCURRENCY: usize = 12;
/// Far above a restart plus a one-second ack wait, far below the 30 s a crash used to cost.
const RECOVERY_LIMIT: Duration = Duration::from_secs(8);
/// Small batches, so that a kill lands between them.
const CONSUMER_BATCH: &str = "5";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_consumer_killed_mid_batch_catches_up_within_seconds_and_once() {
    scenario(|env: TestEnv| async move {
        let rounds: usize = std::env::var("TV_RECOVERY_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1);
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let database = Database::create().await;
        let log = |name: &str| logs.join(format!("recovery-{name}-{}.log", env.prefix));
        // Half the buyers pay with a card that takes 400 ms: the kill finds them mid-charge.
        let settings = [("TV_PAYMENT_SLOW_MS", "400")];
        let mut svc = CommandSvcProcess::start_with(
            &e2e::nats_url(),
            &env.prefix,
            &log("command-svc"),
            &settings,
        )
        .await;
        let mut projector = Consumer::new("projector", &env.prefix, &database, log("projector"));
        let mut notifier = Consumer::new("notifier", &env.prefix, &database, log("notifier"));
        let mut confirmed_total = 0;

        for round in 1..=rounds {
            let api = Api::new(fault_http_client(), &svc.base_url);
            let event = api
                .create_on_sale(
                    &format!("recovery-{round}"),
                    &EventSpec::ga(10_000).limit(2).to_json(),
                )
                .await;

            // Fulfilment: a burst of orders, command-svc killed while it confirms them.
            let orders = place_orders(&api, &event, round).await;
            let before = wait_for(|| async {
                let confirmed = confirmed_orders(&env.store, &orders).await;
                (confirmed > 0).then_some(confirmed)
            })
            .await;
            svc.kill();
            let restarted = Instant::now();
            svc.restart().await;
            wait_until(
                RECOVERY_LIMIT,
                "every order confirmed after the restart",
                || async { confirmed_orders(&env.store, &orders).await == orders.len() },
            )
            .await;
            report(
                "fulfilment",
                round,
                before,
                orders.len(),
                restarted.elapsed(),
            );
            assert_each_order_once(&env.store, &orders).await;
            confirmed_total += orders.len();

            // Projector: a backlog applied five commits at a time, killed between batches.
            let ends = stream_ends(&env.store).await;
            let start = lowest_checkpoint(&database).await.unwrap_or(0);
            projector.start();
            let before = wait_for(|| async {
                let reached = lowest_checkpoint(&database).await.unwrap_or(0);
                (reached > start).then_some(reached as usize)
            })
            .await;
            projector.kill();
            let restarted = Instant::now();
            projector.start();
            wait_until(
                RECOVERY_LIMIT,
                "every projection at the end of its stream",
                || async { checkpoints_reached(&database, &ends).await },
            )
            .await;
            let backlog = ends["inventory"].saturating_sub(start as u64) as usize;
            let done = before - start as usize;
            report("projector", round, done, backlog, restarted.elapsed());
            assert_sold(&database, &event, orders.len()).await;
            projector.kill();

            // Notifier: a backlog of notices written five commits at a time, killed between.
            notifier.start();
            let before = wait_for(|| async {
                let written = confirmations(&database).await;
                (written > confirmed_total - orders.len()).then_some(written)
            })
            .await;
            notifier.kill();
            let restarted = Instant::now();
            notifier.start();
            wait_until(RECOVERY_LIMIT, "one confirmation per order", || async {
                confirmations(&database).await >= confirmed_total
            })
            .await;
            let done = before - (confirmed_total - orders.len());
            report("notifier", round, done, orders.len(), restarted.elapsed());
            // Past a few ack waits: still one each.
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert_eq!(
                confirmations(&database).await,
                confirmed_total,
                "a confirmation written twice"
            );
            notifier.kill();
        }
        svc.stop();
    })
    .await;
}

/// A read-side service as a real process against the test's database and prefix.
struct Consumer {
    name: &'static str,
    binary: PathBuf,
    prefix: String,
    database_url: String,
    log: PathBuf,
    process: Option<ChildProcess>,
}

impl Consumer {
    fn new(name: &'static str, prefix: &str, database: &Database, log: PathBuf) -> Self {
        Self {
            name,
            binary: service_binary(name, name),
            prefix: prefix.to_owned(),
            database_url: database.url.clone(),
            log,
            process: None,
        }
    }

    fn start(&mut self) {
        assert!(self.process.is_none(), "{} is running", self.name);
        let mut command = Command::new(&self.binary);
        command
            .env("NATS_URL", e2e::nats_url())
            .env("DATABASE_URL", &self.database_url)
            .env("TV_PREFIX", &self.prefix)
            .env("TV_PROJECTOR_ADDR", "127.0.0.1:0")
            .env("TV_NOTIFIER_ADDR", "127.0.0.1:0")
            .env("TV_PROJECTOR_BATCH", CONSUMER_BATCH)
            .env("TV_NOTIFIER_BATCH", CONSUMER_BATCH)
            .env("TV_LOG_FORMAT", "text")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or("info".into()),
            )
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        self.process = Some(ChildProcess::spawn(self.name, command, &self.log));
    }

    /// `kill -9`.
    fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}

/// One GA ticket each for `ORDERS` buyers, then their orders: the order ids.
async fn place_orders(api: &Api, event: &str, round: usize) -> Vec<OrderId> {
    let buyers: Vec<String> = (0..ORDERS).map(|n| format!("r{round}-buyer{n}")).collect();
    let chunks: Vec<Vec<String>> = buyers
        .chunks(ORDERS.div_ceil(CONCURRENCY))
        .map(<[String]>::to_vec)
        .collect();
    let tasks = chunks.into_iter().map(|chunk| {
        let (api, event) = (api.clone(), event.to_owned());
        tokio::spawn(async move {
            let mut held = Vec::new();
            for buyer in &chunk {
                let body = HoldBody::quantity(buyer, GA_SECTION, 1);
                let (status, hold, _retries) = api
                    .hold_retrying(&event, &format!("{buyer}-hold"), &body, 20)
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{hold}");
                held.push((buyer.clone(), hold["hold_id"].as_str().unwrap().to_owned()));
            }
            held
        })
    });
    let held: Vec<(String, String)> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(|held| held.expect("a buyer task"))
        .collect();
    // The orders all at once: the reactor gets a burst.
    let orders = held.into_iter().map(|(buyer, hold)| {
        let api = api.clone();
        tokio::spawn(async move {
            let card = if buyer.ends_with(['0', '2', '4', '6', '8']) {
                "tok_ok"
            } else {
                "tok_slow"
            };
            let (status, placed) = api
                .place_order(&format!("{buyer}-order"), &hold, &buyer, card)
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
            e2e::orders::order_id(placed["order_id"].as_str().unwrap())
        })
    });
    futures::future::join_all(orders)
        .await
        .into_iter()
        .map(|order| order.expect("an order task"))
        .collect()
}

/// Every fact of the orders stream, by order.
async fn order_facts(store: &EventStore) -> BTreeMap<String, Vec<&'static str>> {
    let mut replay = store
        .replay(Stream::Orders, 0)
        .await
        .expect("replaying orders");
    let mut facts: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    while let Some(raw) = replay.next().await {
        let commit = raw
            .expect("an order commit")
            .decode::<OrderEvent>()
            .expect("a known schema");
        let order = commit
            .subject
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        facts
            .entry(order)
            .or_default()
            .extend(commit.events.iter().map(OrderEvent::kind));
    }
    facts
}

async fn confirmed_orders(store: &EventStore, orders: &[OrderId]) -> usize {
    let facts = order_facts(store).await;
    orders
        .iter()
        .filter(|order| {
            facts
                .get(&order.to_string())
                .is_some_and(|kinds| kinds.contains(&"OrderConfirmed"))
        })
        .count()
}

async fn assert_each_order_once(store: &EventStore, orders: &[OrderId]) {
    let facts = order_facts(store).await;
    for order in orders {
        assert_eq!(
            facts.get(&order.to_string()).map(Vec::as_slice),
            Some(&["OrderPlaced", "PaymentCaptured", "OrderConfirmed"][..]),
            "order {order}: each fact once"
        );
    }
}

/// The last sequence of each stream the projector folds.
async fn stream_ends(store: &EventStore) -> BTreeMap<&'static str, u64> {
    let mut ends = BTreeMap::new();
    for (projection, stream) in [
        ("catalog", Stream::Catalog),
        ("inventory", Stream::Inventory),
        ("orders", Stream::Orders),
    ] {
        ends.insert(
            projection,
            store.last_sequence(stream).await.expect("a stream's end"),
        );
    }
    ends
}

async fn lowest_checkpoint(database: &Database) -> Option<i64> {
    let client = database.client().await;
    client
        .query_opt(
            "SELECT min(last_sequence) FROM projection_checkpoints WHERE projection = 'inventory'",
            &[],
        )
        .await
        .ok()
        .flatten()
        .and_then(|row| row.get::<_, Option<i64>>(0))
}

/// True when every projection's shards have all reached their stream's end. A shard with no
/// commit stays below: what matters is that nothing of the stream is left unapplied.
async fn checkpoints_reached(database: &Database, ends: &BTreeMap<&'static str, u64>) -> bool {
    let client = database.client().await;
    let Ok(rows) = client
        .query(
            "SELECT projection, max(last_sequence) FROM projection_checkpoints GROUP BY projection",
            &[],
        )
        .await
    else {
        return false;
    };
    let reached: BTreeMap<String, i64> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    ends.iter()
        .all(|(projection, end)| reached.get(*projection).is_some_and(|r| *r as u64 >= *end))
}

async fn assert_sold(database: &Database, event: &str, sold: usize) {
    let client = database.client().await;
    let row = client
        .query_one(
            "SELECT held, sold FROM availability WHERE event_id::text = $1 AND section_id = $2",
            &[&event_id(event).to_string(), &GA_SECTION],
        )
        .await
        .expect("the section's availability");
    assert_eq!(
        (row.get::<_, i32>(0), row.get::<_, i32>(1)),
        (0, sold as i32),
        "held and sold"
    );
}

async fn confirmations(database: &Database) -> usize {
    let client = database.client().await;
    client
        .query_opt(
            "SELECT count(*) FROM notifications WHERE kind = 'order_confirmed'",
            &[],
        )
        .await
        .ok()
        .flatten()
        .map_or(0, |row| row.get::<_, i64>(0) as usize)
}

/// Polls `check` every 5 ms until it gives a value (the consumer is under way), for 30 s.
async fn wait_for<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the consumer never got under way"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls `done` every 10 ms until it holds, failing after `limit` with `what`.
async fn wait_until<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "not {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One measurement, for `scripts/recovery`: how far into this round's backlog the consumer had
/// got when it was killed (inventory commits for the projector, orders for the others), and how
/// long after the restart it caught up.
fn report(consumer: &str, round: usize, done_at_kill: usize, backlog: usize, recovered: Duration) {
    println!(
        "RECOVERY {}",
        serde_json::json!({
            "consumer": consumer,
            "round": round,
            "done_at_kill": done_at_kill,
            "backlog": backlog,
            "recovered_ms": recovered.as_secs_f64() * 1000.0,
        })
    );
}
