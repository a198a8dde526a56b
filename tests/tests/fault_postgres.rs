//! The read side through a PostgreSQL outage, without stopping the shared PostgreSQL server (other
//! tests use it): the projector and query-svc reach their database through a TCP proxy run by
//! this test, and "PostgreSQL is down" means the proxy cuts every open connection and closes each
//! new one at once. command-svc keeps taking commands meanwhile (NATS is up).
//!
//! What must hold:
//! - during the outage, query-svc's `/readyz` says 503; every answer it gives is either 503 or a
//!   state the stream really went through (a cached answer may be old, never invented), and a
//!   query with `?after=` a position the read model cannot have reached is never answered 200;
//! - the projector survives the outage, retries, and catches up by itself when PostgreSQL is back;
//!   the read model then equals a fold of the stream (availability, seat map, every hold), and its
//!   checkpoint is the stream's last sequence.

use domain::inventory::{evolve, EventInventory, SeatStatus};
use e2e::process::fault_http_client;
use e2e::{scenario, seat_labels, CommandSvc, EventSpec, HoldBody, InventoryLog, TestEnv};
use e2e::{GA_SECTION, SEATED_SECTION};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{AbortHandle, JoinHandle};
use tv_nats::Stream;

/// How long PostgreSQL stays unreachable.
const OUTAGE: Duration = Duration::from_secs(3);

// ------------------------------------------------------------------------------ the proxy

/// A TCP proxy from a loopback port to PostgreSQL that can play dead.
struct PgProxy {
    addr: SocketAddr,
    links: Arc<Mutex<Links>>,
    acceptor: JoinHandle<()>,
}

struct Links {
    up: bool,
    open: Vec<AbortHandle>,
    accepted: u64,
}

impl PgProxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let links = Arc::new(Mutex::new(Links {
            up: true,
            open: Vec::new(),
            accepted: 0,
        }));
        let shared = links.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut links = shared.lock().expect("links");
                links.accepted += 1;
                if !links.up {
                    drop(inbound); // closed at once: the client reads EOF during its handshake
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.open.retain(|l| !l.is_finished());
                links.open.push(link.abort_handle());
            }
        });
        Self {
            addr,
            links,
            acceptor,
        }
    }

    /// PostgreSQL "goes down": open connections are cut, new ones closed at once.
    fn cut(&self) {
        let mut links = self.links.lock().expect("links");
        links.up = false;
        for link in links.open.drain(..) {
            link.abort();
        }
    }

    /// PostgreSQL is back.
    fn restore(&self) {
        self.links.lock().expect("links").up = true;
    }

    fn accepted(&self) -> u64 {
        self.links.lock().expect("links").accepted
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}

// --------------------------------------------------------------------------- the database

fn server_database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:15432/postgres".into())
}

/// `(before host, host:port, after host)` of a `postgres://user@host:port/db?params` URL.
fn split_url(url: &str) -> (String, String, String) {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    (
        url[..scheme_end + host_start].to_owned(),
        authority[host_start..].to_owned(),
        rest[authority_end..].to_owned(),
    )
}

/// The PostgreSQL server's address, from `DATABASE_URL`.
fn pg_target() -> SocketAddr {
    let (_, host_port, _) = split_url(&server_database_url());
    let host_port = if host_port.contains(':') {
        host_port
    } else {
        format!("{host_port}:5432")
    };
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| panic!("DATABASE_URL's host {host_port} does not resolve"))
}

/// `DATABASE_URL` for `database`, through `via` when given.
fn database_url(database: &str, via: Option<SocketAddr>) -> String {
    let (before, host_port, after) = split_url(&server_database_url());
    let query = after.find('?').map_or("", |i| &after[i..]);
    let host_port = via.map_or(host_port, |addr| addr.to_string());
    format!("{before}{host_port}/{database}{query}")
}

async fn admin(statement: &str) {
    let pool = projector::db::pool(&server_database_url(), 1).expect("a pool");
    let client = pool
        .get()
        .await
        .expect("connecting to DATABASE_URL (./scripts/test starts PostgreSQL)");
    client
        .batch_execute(statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// The inventory projection's checkpoint (its lowest shard's), read directly (not through the
/// proxy).
async fn checkpoint(database: &str) -> u64 {
    let pool = projector::db::pool(&database_url(database, None), 1).expect("a pool");
    let client = pool.get().await.expect("connecting to the test database");
    client
        .query_one(
            "SELECT min(last_sequence) FROM projection_checkpoints WHERE projection = 'inventory'",
            &[],
        )
        .await
        .expect("reading the checkpoint")
        .get::<_, Option<i64>>(0)
        .map_or(0, |c| c as u64)
}

async fn count_rows(database: &str, table: &str) -> i64 {
    let pool = projector::db::pool(&database_url(database, None), 1).expect("a pool");
    let client = pool.get().await.expect("connecting to the test database");
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .expect("counting rows")
        .get(0)
}

// ----------------------------------------------------------------- the stream, as the truth

/// The inventory folded from the commits up to and including `sequence`.
fn fold_until(log: &InventoryLog, sequence: u64) -> EventInventory {
    log.commits
        .iter()
        .take_while(|(s, _)| *s <= sequence)
        .flat_map(|(_, facts)| facts.iter())
        .fold(EventInventory::default(), evolve)
}

/// Every sequence after which the stream had a state, oldest first.
fn boundaries(log: &InventoryLog) -> Vec<u64> {
    log.commits.iter().map(|(s, _)| *s).collect()
}

/// One section of an availability answer as `(capacity, available, held, sold)`.
fn section_numbers(section: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| section[k].as_u64().unwrap_or(u64::MAX);
    (n("capacity"), n("available"), n("held"), n("sold"))
}

/// The availability of every section in `state`, as `(capacity, available, held, sold)`.
fn availability_of(state: &EventInventory) -> BTreeMap<String, (u64, u64, u64, u64)> {
    state
        .availability(time::OffsetDateTime::now_utc())
        .into_iter()
        .map(|a| {
            (
                a.section_id.to_string(),
                (
                    u64::from(a.capacity),
                    u64::from(a.available),
                    u64::from(a.held),
                    u64::from(a.sold),
                ),
            )
        })
        .collect()
}

/// The seat map of [`SEATED_SECTION`] in `state`, as query-svc answers it.
fn seat_map_of(state: &EventInventory) -> Vec<(String, &'static str)> {
    let section = e2e::stream::section(SEATED_SECTION);
    let now = time::OffsetDateTime::now_utc();
    seat_labels()
        .into_iter()
        .map(|label| {
            let status = match state.seat_status(&section, &label.parse().expect("a label"), now) {
                Some(SeatStatus::Available) => "available",
                Some(SeatStatus::Held(_)) => "held",
                Some(SeatStatus::Sold(_)) => "sold",
                other => panic!("seat {label}: {other:?}"),
            };
            (label, status)
        })
        .collect()
}

fn seat_map_answer(answer: &Value) -> Vec<(String, &'static str)> {
    let mut seats: Vec<(String, &'static str)> = answer
        .as_array()
        .unwrap_or_else(|| panic!("a seat map is a list: {answer}"))
        .iter()
        .map(|s| {
            let status = match s["status"].as_str() {
                Some("available") => "available",
                Some("held") => "held",
                Some("sold") => "sold",
                other => panic!("a seat status {other:?} in {answer}"),
            };
            (s["seat"].as_str().expect("a seat").to_owned(), status)
        })
        .collect();
    seats.sort();
    seats
}

/// Checks an availability answer against the stream: each section equals the fold of the stream
/// up to the section's `version`. Returns the versions, by section.
fn assert_true_past_availability(log: &InventoryLog, answer: &Value) -> BTreeMap<String, u64> {
    let mut versions = BTreeMap::new();
    for section in answer["sections"].as_array().expect("sections") {
        let id = section["section_id"]
            .as_str()
            .expect("section_id")
            .to_owned();
        let version = section["version"].as_u64().expect("version");
        let then = availability_of(&fold_until(log, version));
        assert_eq!(
            then.get(&id),
            Some(&section_numbers(section)),
            "section {id} answered at version {version} is not what the stream said then: \
             {answer}"
        );
        versions.insert(id, version);
    }
    versions
}

/// The index of the first stream state whose seat map equals `answer`, if any.
fn seat_map_state(log: &InventoryLog, answer: &Value) -> Option<usize> {
    let mut answered = seat_map_answer(answer);
    answered.sort();
    boundaries(log).iter().position(|&s| {
        let mut then = seat_map_of(&fold_until(log, s));
        then.sort();
        then == answered
    })
}

// ----------------------------------------------------------------------------- HTTP helpers

/// `GET url` as an operator (who may read every hold).
async fn get(http: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let response = http
        .get(url)
        .header("authorization", e2e::client::operator_authorization())
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: no answer: {e}"));
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// `GET url` until it answers 200, for at most `limit`.
async fn get_ok(http: &reqwest::Client, url: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (status, body) = get(http, url).await;
        if status == StatusCode::OK {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "GET {url} still answers {status} after {limit:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_unavailable(what: &str, status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    let code = e2e::error_code(body);
    assert!(
        matches!(code, Some("read_model_unavailable" | "not_caught_up")),
        "{what}: a 503 with code {code:?}: {body}"
    );
}

// -------------------------------------------------------------------------------- the test

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_read_side_rides_out_a_postgres_outage() {
    scenario(|env: TestEnv| async move {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let database = format!("tv_fault_{}", &id[..16]);
        admin(&format!("CREATE DATABASE {database}")).await;
        let outcome = tokio::spawn(outage(env, database.clone())).await;
        admin(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
        match outcome {
            Ok(()) => {}
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("the test body did not finish: {e}"),
        }
    })
    .await;
}

async fn outage(env: TestEnv, database: String) {
    let started = Instant::now();
    let proxy = PgProxy::start(pg_target()).await;
    let proxied = database_url(&database, Some(proxy.addr));

    let commands = CommandSvc::spawn(&env.prefix).await;
    let api = commands.api().clone();

    let mut config = projector::Config::new(&e2e::nats_url(), &proxied, &env.prefix);
    config.fetch_wait_ms = 20;
    let projector = projector::Projector::build(config)
        .await
        .expect("the projector starts");
    let (stop_projector, stopped) = oneshot::channel::<()>();
    let projector = tokio::spawn(projector.run_until(async {
        let _ = stopped.await;
    }));

    let mut config = query_svc::Config::for_test(&e2e::nats_url(), &proxied, &env.prefix);
    config.bind = "127.0.0.1:0".parse().expect("an address");
    config.after_wait_ms = 1_000;
    config.pg_pool_size = 4;
    let query = query_svc::build(config).await.expect("query-svc starts");
    let query_url = format!("http://{}", query.local_addr());
    let (stop_query, stopped) = oneshot::channel::<()>();
    let query_task = tokio::spawn(query.run_until(async {
        let _ = stopped.await;
    }));
    let http = fault_http_client();

    // Before the outage: a sale, projected and read, so that query-svc has warm caches.
    let event = api
        .create_on_sale(
            "pg-event",
            &EventSpec::seated().with_ga(GA_SECTION, 50).to_json(),
        )
        .await;
    let rows = ["A", "B", "C", "D", "E", "F", "G", "H"];
    let mut holds = Vec::new();
    let mut position = String::new();
    for (i, row) in rows.iter().enumerate() {
        let customer = format!("early-{i}");
        let body = HoldBody::seats(
            &customer,
            SEATED_SECTION,
            &[format!("{row}-1"), format!("{row}-2")],
        );
        let (status, answer) = api.hold(&event, &format!("early-{i}"), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        holds.push((
            answer["hold_id"].as_str().expect("hold_id").to_owned(),
            customer,
        ));
        position = answer["position"].as_str().expect("position").to_owned();
    }
    let body = HoldBody::quantity("early-ga", GA_SECTION, 3);
    let (status, answer) = api.hold(&event, "early-ga", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    holds.push((
        answer["hold_id"].as_str().expect("hold_id").to_owned(),
        "early-ga".into(),
    ));
    let (status, released) = api.release(&holds[0].0, &holds[0].1).await;
    assert_eq!(status, StatusCode::OK, "{released}");
    position = released["position"]
        .as_str()
        .unwrap_or(&position)
        .to_owned();

    let availability_url = format!("{query_url}/events/{event}/availability");
    let seats_url = format!("{query_url}/events/{event}/sections/{SEATED_SECTION}/seats");
    let before = get_ok(
        &http,
        &format!("{availability_url}?after={position}"),
        Duration::from_secs(15),
    )
    .await;
    let log = InventoryLog::read(&env.store, &event).await;
    let versions_before = assert_true_past_availability(&log, &before);
    let seat_map = get_ok(&http, &seats_url, Duration::from_secs(5)).await;
    assert_eq!(
        seat_map_state(&log, &seat_map),
        Some(log.commits.len() - 1),
        "the seat map before the outage is not the stream's: {seat_map}"
    );
    for (hold, _) in &holds {
        get_ok(
            &http,
            &format!("{query_url}/holds/{hold}"),
            Duration::from_secs(5),
        )
        .await;
    }
    let (status, ready) = get(&http, &format!("{query_url}/readyz")).await;
    assert_eq!(status, StatusCode::OK, "ready before the outage: {ready}");

    // The outage.
    proxy.cut();
    let cut_at = Instant::now();
    let mut not_ready_after = None;
    while not_ready_after.is_none() {
        let (status, _) = get(&http, &format!("{query_url}/readyz")).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            not_ready_after = Some(cut_at.elapsed());
        } else {
            assert!(
                cut_at.elapsed() < Duration::from_secs(10),
                "/readyz still says {status} 10 s into the outage"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Commands go on: NATS is up. None of this can reach the read model yet.
    let mut late_holds = Vec::new();
    for (i, row) in rows.iter().enumerate().take(4) {
        let customer = format!("late-{i}");
        let body = HoldBody::seats(
            &customer,
            SEATED_SECTION,
            &[format!("{row}-5"), format!("{row}-6")],
        );
        let (status, answer) = api.hold(&event, &format!("late-{i}"), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        late_holds.push(answer["hold_id"].as_str().expect("hold_id").to_owned());
    }
    let (status, released) = api.release(&holds[1].0, &holds[1].1).await;
    assert_eq!(status, StatusCode::OK, "{released}");
    let outage_position = released["position"].as_str().expect("position").to_owned();
    let log = InventoryLog::read(&env.store, &event).await;
    let outage_sequence = log.last_sequence;

    // Every answer during the outage: 503, or a state the stream went through (never newer than
    // what was served before, never a mix); `?after=` the new position: never 200.
    let (mut cached, mut unavailable, mut rounds) = (0u32, 0u32, 0u32);
    let mut last_versions = versions_before.clone();
    let mut last_seat_state = log.commits.len();
    while cut_at.elapsed() < OUTAGE {
        rounds += 1;
        let (status, body) = get(&http, &availability_url).await;
        if status == StatusCode::OK {
            cached += 1;
            let versions = assert_true_past_availability(&log, &body);
            for (section, version) in &versions {
                assert!(
                    *version >= last_versions.get(section).copied().unwrap_or(0),
                    "section {section} went back in time: {body}"
                );
            }
            last_versions = versions;
        } else {
            unavailable += 1;
            assert_unavailable("availability during the outage", status, &body);
        }

        let (status, body) = get(
            &http,
            &format!("{availability_url}?after={outage_position}"),
        )
        .await;
        assert_unavailable("availability after a position not projected", status, &body);

        let (status, body) = get(&http, &seats_url).await;
        if status == StatusCode::OK {
            let state = seat_map_state(&log, &body)
                .unwrap_or_else(|| panic!("a seat map the stream never had: {body}"));
            assert!(
                last_seat_state == log.commits.len() || state >= last_seat_state,
                "the seat map went back in time"
            );
            last_seat_state = state;
        } else {
            assert_unavailable("seat map during the outage", status, &body);
        }

        for hold in holds.iter().map(|(h, _)| h).chain(&late_holds) {
            let (status, body) = get(&http, &format!("{query_url}/holds/{hold}")).await;
            let known_at = |state: &EventInventory| {
                state
                    .hold(&e2e::stream::hold_id(hold))
                    .map(|h| h.status.name())
            };
            match status {
                StatusCode::OK => {
                    let said = body["status"].as_str();
                    let possible = boundaries(&log)
                        .iter()
                        .any(|&s| known_at(&fold_until(&log, s)) == said);
                    assert!(
                        possible,
                        "hold {hold}: a status the stream never had: {body}"
                    );
                }
                StatusCode::NOT_FOUND => assert!(
                    late_holds.contains(hold),
                    "hold {hold} was projected before the outage, now unknown: {body}"
                ),
                _ => assert_unavailable("a hold during the outage", status, &body),
            }
            let (status, body) = get(
                &http,
                &format!("{query_url}/holds/{hold}?after={outage_position}"),
            )
            .await;
            assert_unavailable("a hold after a position not projected", status, &body);
        }

        let (status, body) = get(&http, &format!("{query_url}/readyz")).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "/readyz said ready during the outage: {body}"
        );
        assert!(
            !projector.is_finished(),
            "the projector stopped during the outage"
        );
        assert!(
            !query_task.is_finished(),
            "query-svc stopped during the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stuck_at = checkpoint(&database).await;
    assert!(
        stuck_at < outage_sequence,
        "the projector reached {stuck_at} through a dead proxy: the outage was not real"
    );

    // PostgreSQL is back: the projector catches up by itself, query-svc is ready again.
    proxy.restore();
    let restored_at = Instant::now();
    let after = get_ok(
        &http,
        &format!("{availability_url}?after={outage_position}"),
        Duration::from_secs(20),
    )
    .await;
    let caught_up_in = restored_at.elapsed();
    get_ok(
        &http,
        &format!("{query_url}/readyz"),
        Duration::from_secs(10),
    )
    .await;

    // The read model equals the fold of the whole stream.
    let log = InventoryLog::read(&env.store, &event).await;
    let now = fold_until(&log, log.last_sequence);
    let expected = availability_of(&now);
    for section in after["sections"].as_array().expect("sections") {
        let id = section["section_id"].as_str().expect("section_id");
        assert_eq!(
            expected.get(id),
            Some(&section_numbers(section)),
            "section {id} after the recovery: {after}"
        );
    }
    assert_eq!(
        after["sections"].as_array().map(Vec::len),
        Some(expected.len())
    );
    let seat_map = get_ok(&http, &seats_url, Duration::from_secs(5)).await;
    let mut want = seat_map_of(&now);
    want.sort();
    assert_eq!(
        seat_map_answer(&seat_map),
        want,
        "the seat map after the recovery"
    );
    for hold in holds.iter().map(|(h, _)| h).chain(&late_holds) {
        let body = get_ok(
            &http,
            &format!("{query_url}/holds/{hold}"),
            Duration::from_secs(5),
        )
        .await;
        let want = now
            .hold(&e2e::stream::hold_id(hold))
            .map(|h| h.status.name());
        assert_eq!(
            body["status"].as_str(),
            want,
            "hold {hold} after the recovery: {body}"
        );
    }
    let stream_end = env
        .store
        .last_sequence(Stream::Inventory)
        .await
        .expect("stream info");
    let checkpoint_after = checkpoint(&database).await;
    assert_eq!(checkpoint_after, stream_end, "the projection's checkpoint");
    assert_eq!(
        count_rows(&database, "holds").await as usize,
        log.count("SeatsHeld"),
        "hold rows"
    );

    eprintln!(
        "PostgreSQL down for {OUTAGE:?} ({} connections through the proxy in all): /readyz said \
         503 after {:.1?}; {rounds} rounds of queries meanwhile, availability answered from the \
         cache {cached} times and 503 {unavailable} times; the projector was stuck at {stuck_at} \
         (stream at {outage_sequence}) and caught up {caught_up_in:.1?} after the restore; the \
         test took {:.1?}",
        proxy.accepted(),
        not_ready_after.expect("seen"),
        started.elapsed()
    );

    let _ = stop_query.send(());
    let _ = stop_projector.send(());
    projector
        .await
        .expect("the projector task")
        .expect("the projector stops cleanly");
    let _ = query_task.await;
    commands.shutdown().await;
    drop(proxy);
}
