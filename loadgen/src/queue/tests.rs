//! The queue audits on made-up logs: a room admitting on schedule passes; one admitting twice as
//! fast, over `max_active`, or a customer twice, is caught.

use super::{fairness, rate, stream_audit};
use domain::ids::{CustomerId, EventId};
use domain::waiting_room::{
    JoinedQueue, ShuffleSeed, WaitingRoomConfig, WaitingRoomDraft, WaitingRoomEvent,
};
use domain::Timestamp;
use time::macros::datetime;
use time::Duration;

const OPEN: Timestamp = datetime!(2027-06-01 12:00:00 UTC);

fn customer(i: usize) -> CustomerId {
    CustomerId::parse(&format!("c{i}")).unwrap()
}

fn configured(admit_per_minute: u32, max_active: u32) -> WaitingRoomEvent {
    let draft = WaitingRoomDraft {
        opens_at: OPEN - Duration::minutes(1),
        admit_per_minute,
        max_active: Some(max_active),
        admission_ttl_seconds: Some(60),
    };
    WaitingRoomEvent::WaitingRoomConfigured {
        event_id: EventId::new_random(),
        config: WaitingRoomConfig::parse(&draft, Some(OPEN), None).unwrap(),
    }
}

/// `n` join the prequeue, then are admitted `per_turn` every `turn`, starting at the opening.
fn log(n: usize, per_turn: usize, turn: Duration, max_active: u32) -> Vec<WaitingRoomEvent> {
    let mut facts = vec![configured(6_000, max_active)];
    facts.extend((0..n).map(|i| WaitingRoomEvent::CustomerJoined {
        customer_id: customer(i),
        queue: JoinedQueue::Prequeue,
        joined_at: OPEN - Duration::seconds(10),
    }));
    facts.push(WaitingRoomEvent::PrequeueShuffled {
        seed: ShuffleSeed::from_bytes([7; 32]),
        prequeue_len: n as u64,
        shuffled_at: OPEN,
    });
    let line = domain::waiting_room::shuffle_prequeue(
        &(0..n).collect::<Vec<_>>(),
        &ShuffleSeed::from_bytes([7; 32]),
    );
    for (k, batch) in line.chunks(per_turn).enumerate() {
        let at = OPEN + turn * k as i32;
        for &i in batch {
            facts.push(WaitingRoomEvent::CustomerAdmitted {
                customer_id: customer(i),
                admitted_at: at,
                admitted_until: at + Duration::seconds(60),
            });
        }
    }
    facts
}

fn config_of(facts: &[WaitingRoomEvent]) -> WaitingRoomConfig {
    match &facts[0] {
        WaitingRoomEvent::WaitingRoomConfigured { config, .. } => *config,
        _ => unreachable!(),
    }
}

#[test]
fn a_room_admitting_on_schedule_passes_every_check() {
    // 100 a second in turns of 20 ms: two per turn.
    let facts = log(1_000, 2, Duration::milliseconds(20), 5_000);
    let measured = rate::measure(&facts, &config_of(&facts)).unwrap();
    assert!(measured.judged, "{measured:?}");
    assert!(measured.deviation_percent.abs() < 1.0, "{measured:?}");
    let joined: Vec<String> = (0..1_000).map(|i| format!("c{i}")).collect();
    let audit = stream_audit::check(&facts, &joined, &joined[..10]);
    assert!(audit.violations.is_empty(), "{:?}", audit.violations);
    assert_eq!(audit.max_live, 1_000);
    let fair = fairness::measure(&facts);
    assert!(fair.violations.is_empty(), "{:?}", fair.violations);
    assert!(fair.spearman_rho.unwrap().abs() < 0.2);
}

#[test]
fn too_fast_too_many_and_twice_are_caught() {
    // Twice the rate, and max_active 500 for 1,000 live admissions.
    let mut facts = log(1_000, 4, Duration::milliseconds(20), 500);
    facts.push(WaitingRoomEvent::CustomerJoined {
        customer_id: customer(3),
        queue: JoinedQueue::Line,
        joined_at: OPEN + Duration::seconds(30),
    });
    let audit = stream_audit::check(&facts, &["c1".into(), "nobody".into()], &[]);
    let found = audit.violations.join("\n");
    assert!(found.contains("over max_active 500"), "{found}");
    assert!(found.contains("c3 joined more than once"), "{found}");
    assert!(
        found.contains("1 acknowledged joins are not in the stream"),
        "{found}"
    );
}

#[test]
fn the_rate_is_judged_only_while_the_room_is_neither_empty_nor_full() {
    // max_active 300: the steady part ends when the room is full, 300 admissions in.
    let facts = log(1_000, 2, Duration::milliseconds(20), 300);
    let measured = rate::measure(&facts, &config_of(&facts)).unwrap();
    assert!(measured.admissions < 300, "{measured:?}");
    assert!(measured.deviation_percent.abs() < 1.0, "{measured:?}");
}
