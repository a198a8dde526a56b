//! The owner of an event killed with SIGKILL in the middle of a sale that reaches it through
//! another instance: the other instance's forwards find nobody, the dead owner's lease expires, and
//! the other instance claims the event and decides its commands itself.
//!
//! Buyers send every hold through the surviving instance and retry a 503 or a lost answer with the
//! same idempotency key. Afterwards the inventory stream must hold every hold acknowledged (201),
//! before and after the kill, each once, no seat twice, and no hold nobody was told about; the
//! lease must name the survivor, and the sale must have paused for no longer than the lease's life
//! and the routing retries.

use e2e::process::{
    assert_holds_match_stream, fault_event, fault_http_client, hold_until_answered, hold_wishes,
    CommandSvcProcess, HoldOutcome,
};
use e2e::{scenario, InventoryLog, TestEnv};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tv_nats::{Leases, Stream, LEASE_TTL};

const BUYERS: usize = 24;
const HOLDS_PER_BUYER: usize = 20;
/// The kill comes once this many holds were acknowledged, with the rest still coming.
const KILL_AFTER_ACKS: usize = 60;
/// Seated sections of 100 seats each.
const SECTIONS: usize = 8;
/// The longest the sale may stand still: the dead owner's lease running out, then the survivor's
/// next routing attempt (pauses of at most a second), with room for a loaded machine.
const MAX_PAUSE: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_owner_s_events_move_to_another_instance_and_lose_no_acknowledged_hold() {
    scenario(|env: TestEnv| async move {
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let owner_log = logs.join(format!("lease-owner-{}.log", env.prefix));
        let survivor_log = logs.join(format!("lease-survivor-{}.log", env.prefix));
        eprintln!("logs: {} {}", owner_log.display(), survivor_log.display());
        let mut owner = CommandSvcProcess::start(&e2e::nats_url(), &env.prefix, &owner_log).await;
        let mut survivor =
            CommandSvcProcess::start(&e2e::nats_url(), &env.prefix, &survivor_log).await;
        let http = fault_http_client();
        let event = e2e::Api::new(http.clone(), &owner.base_url)
            .create_on_sale("takeover-event", &fault_event(SECTIONS).to_json())
            .await;
        let leases = Leases::open(&env.store).await.expect("the lease bucket");
        let first_owner = leases
            .owner(&event)
            .await
            .unwrap()
            .expect("the opener holds the event's lease");

        let mut rng = StdRng::seed_from_u64(e2e::seed(0x1_EA5E));
        let acks = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(45);
        let buyers: Vec<_> = hold_wishes(&mut rng, "takeover", BUYERS, HOLDS_PER_BUYER, SECTIONS)
            .into_iter()
            .map(|list| {
                let (http, base_url, event) =
                    (http.clone(), survivor.base_url.clone(), event.clone());
                let acks = acks.clone();
                tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    for wish in list {
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
        while acks.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
            assert!(
                waiting.elapsed() < Duration::from_secs(20),
                "only {} holds acknowledged in 20 s; survivor's log:\n{}",
                acks.load(Ordering::SeqCst),
                survivor.log_tail(30)
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        owner.kill();
        let killed_at = Instant::now();

        let outcomes: Vec<HoldOutcome> = futures::future::join_all(buyers)
            .await
            .into_iter()
            .flat_map(|b| b.expect("a buyer task"))
            .collect();
        let unanswered = outcomes.iter().filter(|o| o.answer.is_none()).count();
        assert_eq!(
            unanswered,
            0,
            "buyers got no final answer by the deadline; survivor's log:\n{}",
            survivor.log_tail(30)
        );
        for outcome in &outcomes {
            let (status, body) = outcome.answer.as_ref().expect("answered");
            assert!(
                *status == StatusCode::CREATED
                    || (*status == StatusCode::CONFLICT
                        && e2e::error_code(body) == Some("seat_unavailable")),
                "key {}: unexpected {status}: {body}",
                outcome.wish.key
            );
        }

        // The sale went on through the survivor, after a pause no longer than the takeover: the
        // longest time without an acknowledgement, from the last one before the kill.
        let mut acked: Vec<Instant> = outcomes
            .iter()
            .filter(|o| o.hold_id().is_some())
            .filter_map(|o| o.answered_at)
            .collect();
        acked.sort();
        let from = acked.iter().rposition(|t| *t <= killed_at).unwrap_or(0);
        let pause = acked[from..]
            .windows(2)
            .map(|pair| pair[1] - pair[0])
            .max()
            .expect("holds were acknowledged after the kill");
        let after = acked.iter().filter(|t| **t > killed_at).count();
        eprintln!(
            "{} holds, {after} acknowledged after the kill; the sale paused {pause:.1?} at most \
             (lease TTL {LEASE_TTL:?})",
            outcomes.len()
        );
        assert!(pause < MAX_PAUSE, "the sale stood still for {pause:?}");
        let new_owner = leases.owner(&event).await.unwrap();
        assert!(
            new_owner.as_ref().is_some_and(|o| *o != first_owner),
            "the lease still names {first_owner} ({new_owner:?})"
        );

        // The stream: every acknowledged hold once, at the position its answer named; no seat
        // twice; no hold that nobody was told about.
        let log = InventoryLog::read(&env.store, &event).await;
        let inventory_stream = env.store.naming().stream(Stream::Inventory);
        let conflicts = outcomes.iter().filter(|o| o.hold_id().is_none()).count();
        let recorded = assert_holds_match_stream(&log, &inventory_stream, &outcomes);
        assert_eq!(recorded, outcomes.len() - conflicts);
        survivor.stop();
    })
    .await;
}
