//! The NATS server stopped (SIGTERM) in the middle of a flash sale and started again a couple of
//! seconds later on the same port and JetStream store, with command-svc left running.
//!
//! The server is a private one started by this test (the pinned binary from `.tools/`), so that
//! stopping it disturbs no other test. command-svc must reconnect by itself; buyers retry every
//! request that got no answer or a 503/429 with the same idempotency key and must all get a final
//! answer; every acknowledged hold is in the stream after the recovery, none twice, no seat in two
//! holds, and no hold that nobody was told about.

use command_svc::Config;
use e2e::process::{
    assert_holds_match_stream, fault_event, fault_http_client, hold_until_answered, hold_wishes,
    HoldOutcome, PrivateNats,
};
use e2e::{CommandSvc, InventoryLog};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tv_nats::{EventStore, Naming, Stream};

const BUYERS: usize = 32;
const HOLDS_PER_BUYER: usize = 40;
const SECTIONS: usize = 16;
/// The server stops once this many holds were acknowledged, with the rest still coming.
const STOP_AFTER_ACKS: usize = 100;
/// How long the server stays down: longer than command-svc's append timeout (5 s), so that the
/// appends in flight time out with an unknown outcome and must be settled by reading back.
const DOWN_FOR: Duration = Duration::from_secs(6);
/// Buyers stop asking for new holds this long after command-svc is ready again.
const KEEP_BUYING_AFTER_RECOVERY: Duration = Duration::from_millis(500);

/// `GET /readyz` of command-svc: its status, or 0 without an answer.
async fn readyz(http: &reqwest::Client, base_url: &str) -> u16 {
    match http.get(format!("{base_url}/readyz")).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn command_svc_rides_out_a_nats_restart_without_losing_or_duplicating_a_hold() {
    let Some(mut nats) = PrivateNats::start().await else {
        eprintln!(
            "SKIPPED: the pinned nats-server is not installed at .tools/nats-{}/bin/nats-server; \
             ./scripts/test installs it (scripts/lib/infra.sh)",
            e2e::process::NATS_SERVER_VERSION
        );
        return;
    };
    let started = Instant::now();
    let prefix = e2e::unique_prefix();
    let http = fault_http_client();
    let svc = CommandSvc::spawn_with(Config::for_test(&nats.url(), &prefix), http.clone()).await;
    let base_url = svc.base_url.clone();
    let api = svc.api().clone();
    let event = api
        .create_on_sale("restart-event", &fault_event(SECTIONS).to_json())
        .await;

    let mut rng = StdRng::seed_from_u64(e2e::seed(0xF_A018));
    let acks = Arc::new(AtomicUsize::new(0));
    let stop_buying = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(45);
    let buyers: Vec<_> = hold_wishes(&mut rng, "restart", BUYERS, HOLDS_PER_BUYER, SECTIONS)
        .into_iter()
        .map(|list| {
            let (http, base_url, event) = (http.clone(), base_url.clone(), event.clone());
            let (acks, stop_buying) = (acks.clone(), stop_buying.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for wish in list {
                    if stop_buying.load(Ordering::SeqCst) {
                        break;
                    }
                    let outcome =
                        hold_until_answered(&http, &base_url, &event, wish, deadline).await;
                    if outcome.hold_id().is_some() {
                        acks.fetch_add(1, Ordering::SeqCst);
                    }
                    outcomes.push(outcome);
                }
                outcomes
            })
        })
        .collect();

    let waiting = Instant::now();
    while acks.load(Ordering::SeqCst) < STOP_AFTER_ACKS {
        assert!(
            waiting.elapsed() < Duration::from_secs(20),
            "only {} holds acknowledged in 20 s",
            acks.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let acked_at_stop = acks.load(Ordering::SeqCst);
    tokio::task::block_in_place(|| nats.stop());
    let stopped_at = Instant::now();
    // Acknowledged while the server shut down (it finishes what it has in hand).
    let acked_in_shutdown = acks.load(Ordering::SeqCst) - acked_at_stop;

    // While the server is down, command-svc says it is not ready.
    let mut not_ready_seen = false;
    while stopped_at.elapsed() < DOWN_FOR {
        if readyz(&http, &base_url).await == 503 {
            not_ready_seen = true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let acked_while_down = acks.load(Ordering::SeqCst) - acked_at_stop - acked_in_shutdown;
    nats.restart().await;
    let restarted_at = Instant::now();
    let recovered = e2e::eventually(Duration::from_secs(20), || {
        let (http, base_url) = (http.clone(), base_url.clone());
        async move { (readyz(&http, &base_url).await == 200).then_some(()) }
    })
    .await;
    assert!(
        recovered.is_some(),
        "command-svc did not reconnect within 20 s of the restart"
    );
    let reconnected_in = restarted_at.elapsed();
    tokio::time::sleep(KEEP_BUYING_AFTER_RECOVERY).await;
    stop_buying.store(true, Ordering::SeqCst);

    let outcomes: Vec<HoldOutcome> = futures::future::join_all(buyers)
        .await
        .into_iter()
        .flat_map(|b| b.expect("a buyer task"))
        .collect();

    let unanswered: Vec<_> = outcomes.iter().filter(|o| o.answer.is_none()).collect();
    assert!(
        unanswered.is_empty(),
        "{} buyers got no final answer by the deadline, e.g. {:?}; nats log:\n{}",
        unanswered.len(),
        unanswered[0],
        nats.log_tail(20)
    );
    for outcome in &outcomes {
        let (status, body) = outcome.answer.as_ref().expect("answered");
        match *status {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => assert_eq!(
                e2e::error_code(body),
                Some("seat_unavailable"),
                "{outcome:?}"
            ),
            other => panic!("key {}: unexpected {other}: {body}", outcome.wish.key),
        }
        assert!(
            outcome
                .statuses
                .iter()
                .all(|s| *s < 500 || *s == StatusCode::SERVICE_UNAVAILABLE.as_u16()),
            "key {}: a 5xx other than 503: {:?}",
            outcome.wish.key,
            outcome.statuses
        );
    }
    let created = outcomes.iter().filter(|o| o.hold_id().is_some()).count();
    let retried_then_created = outcomes
        .iter()
        .filter(|o| o.hold_id().is_some() && (o.unavailable_answers > 0 || o.lost_attempts > 0))
        .count();
    let unavailable: u32 = outcomes.iter().map(|o| o.unavailable_answers).sum();
    let lost: u32 = outcomes.iter().map(|o| o.lost_attempts).sum();
    let after_restart = outcomes
        .iter()
        .filter(|o| o.hold_id().is_some() && o.answered_at.is_some_and(|t| t > restarted_at))
        .count();
    eprintln!(
        "{} holds: {created} created ({acked_at_stop} before the stop, {acked_in_shutdown} during \
         its shutdown, {acked_while_down} while it was down, {after_restart} after the restart); \
         {unavailable} answers 503/429 \
         and {lost} without an answer were retried with the same key; {retried_then_created} \
         holds were created by such a retry; command-svc was ready again {reconnected_in:.1?} \
         after the restart",
        outcomes.len()
    );
    assert!(not_ready_seen, "/readyz never said 503 while NATS was down");
    assert!(
        after_restart > 0,
        "nothing was acknowledged after the restart: the outage did not land mid-load"
    );

    // The stream after the recovery, read through a connection of our own.
    let store = EventStore::connect(&nats.url(), Naming::new(&prefix))
        .await
        .expect("connecting to the private server");
    let log = InventoryLog::read(&store, &event).await;
    let inventory_stream = store.naming().stream(Stream::Inventory);
    let recorded = assert_holds_match_stream(&log, &inventory_stream, &outcomes);
    assert_eq!(recorded, created);

    // The writer is not stuck: a new hold after the recovery is decided and stored.
    let end = log.last_sequence;
    let body = e2e::HoldBody::seats("late-buyer", "block-1", &["J-10"]);
    let late = e2e::eventually(Duration::from_secs(10), || {
        let (api, event, body) = (api.clone(), event.clone(), body.clone());
        async move {
            let (status, answer) = api.hold(&event, "late-key", &body).await;
            (status != StatusCode::SERVICE_UNAVAILABLE).then_some((status, answer))
        }
    })
    .await
    .expect("an answer to a hold after the recovery");
    assert!(
        late.0 == StatusCode::CREATED || late.0 == StatusCode::CONFLICT,
        "{late:?}"
    );
    if late.0 == StatusCode::CREATED {
        assert!(InventoryLog::read(&store, &event).await.last_sequence > end);
    }

    svc.shutdown().await;
    tokio::task::block_in_place(|| nats.stop());
    eprintln!("fault_nats_restart took {:.1?}", started.elapsed());
}
