//! Rule 3: admissions follow the line at `admit_per_minute`, spread evenly: each takes the next
//! slot of a schedule `60 s / admit_per_minute` apart that starts with the first admission, a
//! late tick catches up half a second's worth at most, and no 60 s ever holds more than `admit_per_minute`. Never more than `max_active`
//! admissions are live at once.

use super::*;
use crate::test_support::given_state;

/// A room whose sale is open, shuffled with an empty prequeue, and `n` customers in line.
fn line_of(n: usize) -> Vec<WaitingRoomEvent> {
    std::iter::once(shuffled(seed(1), 0, at(0)))
        .chain((0..n).map(|i| joined_line(&nth(i), at(0))))
        .collect()
}

#[test]
fn the_front_of_the_line_is_admitted_first() {
    let state = room(config(60, None), line_of(3))
        .when(WaitingRoomCommand::Admit, at(0))
        .then(vec![admitted(&nth(0), at(0))]);
    let status = state.status(&nth(0), at(0), None).unwrap();
    assert_eq!(status.state, crate::waiting_room::QueueState::Admitted);
    assert_eq!(status.admitted_until, Some(at(TTL)));
    assert_eq!(
        state.status(&nth(1), at(0), None).unwrap().position,
        Some(1)
    );
}

#[test]
fn one_a_second_at_sixty_a_minute() {
    let state = room(config(60, None), line_of(10))
        .when(WaitingRoomCommand::Admit, at(0))
        .then(vec![admitted(&nth(0), at(0))]);
    let state = given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::Admit, at_ms(999))
        .then_nothing();
    let state = given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::Admit, at(1))
        .then(vec![admitted(&nth(1), at(1))]);
    // A tick 2.5 s late admits one, not the three it missed.
    given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::Admit, at_ms(4_500))
        .then(vec![admitted(&nth(2), at_ms(4_500))]);
}

#[test]
fn the_opening_is_no_burst_and_a_late_tick_catches_up_half_a_second_not_a_minute() {
    // 600 a minute: a slot every 100 ms. The schedule starts with the first admission.
    let state = room(config(600, None), line_of(1_000))
        .when(WaitingRoomCommand::Admit, at(0))
        .then(vec![admitted(&nth(0), at(0))]);
    // A tick 400 ms late admits the slots it missed (100 to 500 ms).
    let state = given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::Admit, at_ms(500))
        .then((1..6).map(|i| admitted(&nth(i), at_ms(500))).collect());
    // Five minutes without a tick: five, the schedule starts again from 400 ms ago.
    given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::Admit, at(300))
        .then((6..11).map(|i| admitted(&nth(i), at(300))).collect());
}

#[test]
fn the_nth_admission_waits_for_its_slot_and_no_minute_holds_more_than_the_rate() {
    // 600 a minute, ticks every 250 ms for two and a half minutes, a long line.
    let config = config(600, None);
    let mut state = state_after(config, line_of(3_000));
    let mut log = Vec::new();
    for tick in 0..600 {
        state = step(
            state,
            &WaitingRoomCommand::Admit,
            at_ms(tick * 250),
            &mut log,
        );
    }
    let times: Vec<Timestamp> = log
        .iter()
        .filter_map(|e| match e {
            WaitingRoomEvent::CustomerAdmitted { admitted_at, .. } => Some(*admitted_at),
            _ => None,
        })
        .collect();
    // The schedule starts at the first tick and steps 100 ms.
    for (n, time) in times.iter().enumerate() {
        let slot = at_ms(0) + Duration::milliseconds(100 * n as i64);
        assert!(
            *time >= slot,
            "admission {n} at {time}, before its slot {slot}"
        );
    }
    for (first, start) in times.iter().enumerate() {
        let in_window = times[first..]
            .iter()
            .take_while(|t| **t < *start + Duration::MINUTE)
            .count();
        assert!(
            in_window <= 600,
            "{in_window} admissions in the minute from {start}"
        );
    }
    // And the rate is kept, not just bounded: 150 s at 10 a second.
    assert!(
        (1_490..=1_510).contains(&times.len()),
        "{} admitted",
        times.len()
    );
    assert_eq!(admitted_in(&log)[..5], (0..5).map(nth).collect::<Vec<_>>());
}

#[test]
fn no_more_than_max_active_are_live_at_once() {
    // 6,000 a minute: fifty slots are due half a second after the first admission; two are free.
    let history = line_of(10).into_iter().chain([admitted(&nth(0), at(0))]);
    let state = room(config(6_000, Some(3)), history)
        .when(WaitingRoomCommand::Admit, at(1))
        .then((1..3).map(|i| admitted(&nth(i), at(1))).collect());
    assert_eq!(state.counters(at(1)).active, 3);
    assert_eq!(state.admissible(at(5)), 0);
    given_state::<WaitingRooms>(state)
        .when(WaitingRoomCommand::Admit, at(5))
        .then_nothing();
}

#[test]
fn an_order_confirmed_frees_a_slot() {
    let history = line_of(10)
        .into_iter()
        .chain((0..3).map(|i| admitted(&nth(i), at(0))))
        .chain([confirmed(&nth(1), at(30))]);
    room(config(6_000, Some(3)), history)
        .when(WaitingRoomCommand::Admit, at(31))
        .then(vec![admitted(&nth(3), at(31))]);
}

#[test]
fn an_expiry_frees_a_slot_and_is_recorded_first() {
    let history = line_of(10)
        .into_iter()
        .chain([admitted(&nth(0), at(0)), admitted(&nth(1), at(0))])
        .chain([admitted(&nth(2), at(1))]);
    // At TTL the first two expire (lazily: they no longer count), the third is still live.
    let state = room(config(6_000, Some(3)), history)
        .when(WaitingRoomCommand::Admit, at(TTL))
        .then(vec![
            expired(&nth(0), at(TTL)),
            expired(&nth(1), at(TTL)),
            admitted(&nth(3), at(TTL)),
            admitted(&nth(4), at(TTL)),
        ]);
    assert_eq!(state.counters(at(TTL)).active, 3);
}

#[test]
fn a_customer_admitted_who_leaves_frees_a_slot() {
    let history = line_of(10)
        .into_iter()
        .chain((0..3).map(|i| admitted(&nth(i), at(0))))
        .chain([left(&nth(0), at(10))]);
    room(config(6_000, Some(3)), history)
        .when(WaitingRoomCommand::Admit, at(11))
        .then(vec![admitted(&nth(3), at(11))]);
}

#[test]
fn those_who_left_are_stepped_over() {
    let history = line_of(7).into_iter().chain([
        admitted(&nth(0), at(0)),
        left(&nth(1), at(1)),
        left(&nth(3), at(1)),
        left(&nth(4), at(1)),
    ]);
    room(config(6_000, None), history)
        .when(WaitingRoomCommand::Admit, at(2))
        .then(vec![
            admitted(&nth(2), at(2)),
            admitted(&nth(5), at(2)),
            admitted(&nth(6), at(2)),
        ]);
}

#[test]
fn a_closed_queue_admits_nobody_but_still_records_expiries() {
    let history = line_of(5).into_iter().chain([
        admitted(&nth(0), at(0)),
        WaitingRoomEvent::QueueClosed {
            reason: crate::waiting_room::CloseReason::SoldOut,
            closed_at: at(5),
        },
    ]);
    room(config(6_000, None), history)
        .when(WaitingRoomCommand::Admit, at(TTL))
        .then(vec![expired(&nth(0), at(TTL))]);
}
