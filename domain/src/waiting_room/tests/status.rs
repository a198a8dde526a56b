//! Rule 8: what a customer and the public see. A waiting customer's 1-based position counts only
//! those still waiting ahead; the expected wait is `ahead` at the measured (or configured) rate;
//! the client is told to poll again sooner near the front (1 s) than far back (30 s at most).

use super::*;
use crate::waiting_room::{QueuePhase, QueueState, MAX_POLL_AFTER_MS, MIN_POLL_AFTER_MS};

fn line_of(n: usize) -> Vec<WaitingRoomEvent> {
    std::iter::once(shuffled(seed(1), 0, at(0)))
        .chain((0..n).map(|i| joined_line(&nth(i), at(0))))
        .collect()
}

#[test]
fn position_and_ahead_count_only_those_still_waiting() {
    let history = line_of(10).into_iter().chain([
        admitted(&nth(0), at(1)),
        admitted(&nth(1), at(1)),
        left(&nth(3), at(2)),
        left(&nth(5), at(2)),
    ]);
    let state = state_after(config(60, None), history);
    let positions: Vec<_> = (0..10)
        .map(|i| state.status(&nth(i), at(3), None).unwrap().position)
        .collect();
    let expected = [
        None,
        None,
        Some(1),
        None,
        Some(2),
        None,
        Some(3),
        Some(4),
        Some(5),
        Some(6),
    ];
    assert_eq!(positions, expected);
    let seventh = state.status(&nth(7), at(3), None).unwrap();
    assert_eq!(seventh.state, QueueState::Waiting);
    assert_eq!(seventh.ahead, Some(3));
    assert_eq!(seventh.joined_at, at(0));
    assert_eq!(state.status(&customer("stranger"), at(3), None), None);
}

#[test]
fn the_wait_is_estimated_from_the_measured_rate_or_else_the_configured_one() {
    let state = state_after(config(60, None), line_of(301));
    let last = |rate| state.status(&nth(300), at(0), rate).unwrap();
    assert_eq!(last(None).estimated_wait_seconds, Some(300));
    assert_eq!(last(Some(0)).estimated_wait_seconds, Some(300));
    assert_eq!(last(Some(120)).estimated_wait_seconds, Some(150));
    assert_eq!(last(Some(7)).estimated_wait_seconds, Some(2_572)); // 300 * 60 / 7, rounded up
    assert_eq!(
        state
            .status(&nth(0), at(0), None)
            .unwrap()
            .estimated_wait_seconds,
        Some(0)
    );
}

#[test]
fn clients_far_back_poll_less_often_within_bounds() {
    let state = state_after(config(60, None), line_of(2_000));
    let poll = |i| state.status(&nth(i), at(0), None).unwrap().poll_after_ms;
    assert_eq!(poll(0), MIN_POLL_AFTER_MS);
    assert_eq!(poll(10), MIN_POLL_AFTER_MS);
    assert_eq!(poll(100), 10_000);
    assert_eq!(poll(1_999), MAX_POLL_AFTER_MS);
    let polls: Vec<_> = (0..2_000).step_by(50).map(poll).collect();
    assert!(polls.windows(2).all(|w| w[0] <= w[1]), "{polls:?}");
}

#[test]
fn the_prequeue_is_told_when_the_draw_is_and_what_to_expect() {
    let history = (0..101).map(|i| joined_prequeue(&nth(i), at(-600)));
    let state = state_after(config(60, None), history);
    let status = state.status(&nth(7), at(-600), None).unwrap();
    assert_eq!(status.state, QueueState::Prequeue);
    assert_eq!((status.position, status.ahead), (None, None));
    // Ten minutes to the draw, then half of the other hundred at one a second.
    assert_eq!(status.estimated_wait_seconds, Some(600 + 50));
    assert_eq!(status.poll_after_ms, MAX_POLL_AFTER_MS);
    assert_eq!(
        state.status(&nth(7), at(-5), None).unwrap().poll_after_ms,
        5_000
    );
}

#[test]
fn the_public_counters_follow_the_queue() {
    let config = config(60, Some(10));
    let empty = state_after(config, []);
    assert_eq!(empty.phase(at(OPENS - 1)), QueuePhase::Closed);
    assert_eq!(empty.phase(at(OPENS)), QueuePhase::Prequeue);
    assert_eq!(empty.phase(at(0)), QueuePhase::Open);
    assert_eq!(empty.phase(at(CLOSES)), QueuePhase::Closed);

    let history = line_of(5).into_iter().chain([
        admitted(&nth(0), at(1)),
        admitted(&nth(1), at(2)),
        confirmed(&nth(0), at(3)),
        left(&nth(4), at(3)),
    ]);
    let counters = state_after(config, history).counters(at(4));
    assert_eq!(counters.phase, QueuePhase::Open);
    assert_eq!(counters.waiting, 2);
    assert_eq!(counters.admitted_total, 2);
    assert_eq!(counters.active, 1);
    assert_eq!(counters.admit_per_minute, 60);
    assert_eq!(QueuePhase::Open.as_str(), "open");
    assert_eq!(QueueState::Prequeue.as_str(), "prequeue");
}
