//! command-svc killed with SIGKILL in the middle of a flash sale, then restarted on the same port.
//!
//! The buyers retry every request that got no answer (refused, reset, timed out) or a 503/429 with
//! the SAME idempotency key, as the API asks. Afterwards the inventory stream must hold every hold
//! that was acknowledged (201) before the kill, each hold id at most once, no seat in two holds,
//! and no hold that nobody was told about. A retried key must get its first answer, position
//! included, from the new process.

use e2e::process::{
    assert_holds_match_stream, fault_event, fault_http_client, hold_until_answered, hold_wishes,
    CommandSvcProcess, HoldOutcome,
};
use e2e::{scenario, InventoryLog, TestEnv};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tv_nats::Stream;

/// Buyers sending at once; each asks for up to `HOLDS_PER_BUYER` holds one after the other, and
/// stops asking for new ones `KEEP_BUYING_AFTER_RESTART` after the restart.
const BUYERS: usize = 32;
const HOLDS_PER_BUYER: usize = 40;
const KEEP_BUYING_AFTER_RESTART: Duration = Duration::from_millis(500);
/// The kill comes once this many holds were acknowledged, with the rest still coming.
const KILL_AFTER_ACKS: usize = 100;
/// How long the service stays dead before it is started again.
const DOWN_FOR: Duration = Duration::from_millis(300);
/// Seated sections of 100 seats each: room for most holds to succeed.
const SECTIONS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_command_svc_loses_no_acknowledged_hold_and_duplicates_none() {
    scenario(|env: TestEnv| async move {
        let started = Instant::now();
        let log_path =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fault-kill-{}.log", env.prefix));
        eprintln!("command-svc log: {}", log_path.display());
        let mut svc = CommandSvcProcess::start(&e2e::nats_url(), &env.prefix, &log_path).await;
        let http = fault_http_client();
        let api = e2e::Api::new(http.clone(), &svc.base_url);
        let event = api
            .create_on_sale("kill-event", &fault_event(SECTIONS).to_json())
            .await;

        let mut rng = StdRng::seed_from_u64(e2e::seed(0xF_A017));
        let acks = Arc::new(AtomicUsize::new(0));
        let stop_buying = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + Duration::from_secs(40);
        let buyers: Vec<_> = hold_wishes(&mut rng, "kill", BUYERS, HOLDS_PER_BUYER, SECTIONS)
            .into_iter()
            .map(|list| {
                let (http, base_url, event) = (http.clone(), svc.base_url.clone(), event.clone());
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

        // The kill, once the sale is well under way.
        let waiting = Instant::now();
        while acks.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
            assert!(
                waiting.elapsed() < Duration::from_secs(20),
                "only {} holds acknowledged in 20 s; log:\n{}",
                acks.load(Ordering::SeqCst),
                svc.log_tail(30)
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        svc.kill();
        let killed_at = Instant::now();
        let acked_at_kill = acks.load(Ordering::SeqCst);
        tokio::time::sleep(DOWN_FOR).await;
        svc.restart().await;
        let restarted_in = killed_at.elapsed();
        tokio::time::sleep(KEEP_BUYING_AFTER_RESTART).await;
        stop_buying.store(true, Ordering::SeqCst);

        let outcomes: Vec<HoldOutcome> = futures::future::join_all(buyers)
            .await
            .into_iter()
            .flat_map(|b| b.expect("a buyer task"))
            .collect();

        // Every buyer got a final answer, and only the answers the API promises.
        let unanswered: Vec<_> = outcomes.iter().filter(|o| o.answer.is_none()).collect();
        assert!(
            unanswered.is_empty(),
            "{} buyers got no final answer by the deadline, e.g. {:?}; log:\n{}",
            unanswered.len(),
            unanswered[0],
            svc.log_tail(30)
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

        let acked_before_kill: Vec<&HoldOutcome> = outcomes
            .iter()
            .filter(|o| o.hold_id().is_some() && o.answered_at.is_some_and(|t| t < killed_at))
            .collect();
        let acked_after: Vec<&HoldOutcome> = outcomes
            .iter()
            .filter(|o| o.hold_id().is_some() && o.answered_at.is_some_and(|t| t > killed_at))
            .collect();
        let cut = outcomes.iter().filter(|o| o.lost_attempts > 0).count();
        let conflicts = outcomes
            .iter()
            .filter(|o| {
                o.answer
                    .as_ref()
                    .is_some_and(|(s, _)| *s == StatusCode::CONFLICT)
            })
            .count();
        eprintln!(
            "{} holds: {} acknowledged before the kill ({acked_at_kill} counted at the kill), {} \
             after the restart ({restarted_in:.1?} later), {conflicts} seat conflicts; {cut} \
             buyers lost an answer to the kill and retried with the same key",
            outcomes.len(),
            acked_before_kill.len(),
            acked_after.len()
        );
        // The kill landed mid-load: requests were cut and answered after the restart.
        assert!(
            cut > 0,
            "no request was cut by the kill: the test proves nothing"
        );
        assert!(
            !acked_after.is_empty(),
            "nothing was acknowledged after the restart"
        );
        assert!(acked_before_kill.len() >= KILL_AFTER_ACKS);

        // The stream: every acknowledged hold once, at the position its answer named; no seat
        // twice; no hold that nobody was told about.
        let log = InventoryLog::read(&env.store, &event).await;
        let inventory_stream = env.store.naming().stream(Stream::Inventory);
        let recorded = assert_holds_match_stream(&log, &inventory_stream, &outcomes);
        assert_eq!(recorded, outcomes.len() - conflicts);
        assert_eq!(log.count("HoldReleased") + log.count("HoldExpired"), 0);

        // A key acknowledged before the kill gets its first answer, position included, from the
        // new process, and appends nothing.
        let end = log.last_sequence;
        for outcome in acked_before_kill.iter().take(10) {
            let wish = &outcome.wish;
            let body = e2e::HoldBody::seats(&wish.customer, &wish.section, &wish.seats);
            let (status, again) = api.hold(&event, &wish.key, &body).await;
            let (first_status, first) = outcome.answer.as_ref().expect("answered");
            assert_eq!((status, &again), (*first_status, first), "key {}", wish.key);
        }
        assert_eq!(
            InventoryLog::read(&env.store, &event).await.last_sequence,
            end,
            "a retry after the restart appended something"
        );

        svc.stop();
        eprintln!("fault_command_kill took {:.1?}", started.elapsed());
    })
    .await;
}
