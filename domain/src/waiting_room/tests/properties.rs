//! Property tests: random runs of a queue (joins, leaves, admissions, confirmed orders, shuffles,
//! closes and time passing, across the opening) keep every promise after every step. Expectations
//! are read from the log, not from the state.

use super::*;
use crate::waiting_room::{
    decide, evolve, shuffle_prequeue, CloseReason, FinishReason, QueueState,
};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

const CUSTOMERS: u8 = 24;

#[derive(Debug, Clone)]
enum Op {
    Join(u8),
    Leave(u8),
    Finish(u8),
    Admit,
    ExpireDue,
    Shuffle(u64),
    Close,
    /// Time passes, in milliseconds.
    Wait(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..CUSTOMERS).prop_map(Op::Join),
        2 => (0..CUSTOMERS).prop_map(Op::Leave),
        2 => (0..CUSTOMERS).prop_map(Op::Finish),
        6 => Just(Op::Admit),
        1 => Just(Op::ExpireDue),
        1 => any::<u64>().prop_map(Op::Shuffle),
        1 => Just(Op::Close),
        6 => prop_oneof![0..2_000u32, 0..20_000u32, 0..200_000u32].prop_map(Op::Wait),
    ]
}

fn room_config() -> impl Strategy<Value = WaitingRoomConfig> {
    (1..=120u32, prop::option::of(1..=5u32), 30..=120u32).prop_map(|(rate, max_active, ttl)| {
        WaitingRoomConfig::parse(
            &WaitingRoomDraft {
                opens_at: at(-60),
                admit_per_minute: rate,
                max_active,
                admission_ttl_seconds: Some(ttl),
            },
            Some(SALE),
            Some(at(3_600)),
        )
        .unwrap()
    })
}

/// What the log says about each admission: customer, admitted at, until, ended at.
fn admissions(
    log: &[WaitingRoomEvent],
) -> Vec<(CustomerId, Timestamp, Timestamp, Option<Timestamp>)> {
    let mut found = Vec::new();
    for event in log {
        match event {
            WaitingRoomEvent::CustomerAdmitted {
                customer_id,
                admitted_at,
                admitted_until,
            } => {
                found.push((customer_id.clone(), *admitted_at, *admitted_until, None));
            }
            WaitingRoomEvent::AdmissionEnded {
                customer_id,
                ended_at: when,
                ..
            }
            | WaitingRoomEvent::CustomerLeft {
                customer_id,
                left_at: when,
            } => {
                for admission in found.iter_mut().filter(|a| &a.0 == customer_id) {
                    admission.3.get_or_insert(*when);
                }
            }
            _ => {}
        }
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_step_of_a_random_queue_keeps_every_promise(
        config in room_config(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut state = state_after(config, []);
        let mut log: Vec<WaitingRoomEvent> = vec![configured(config)];
        let mut now = at(-90);
        let mut accepted: Vec<WaitingRoomCommand> = Vec::new();
        for op in &ops {
            let command = match op {
                Op::Join(c) => join(&nth(usize::from(*c))),
                Op::Leave(c) => leave(&nth(usize::from(*c))),
                Op::Finish(c) => WaitingRoomCommand::FinishAdmission {
                    customer_id: nth(usize::from(*c)),
                    reason: FinishReason::OrderConfirmed,
                },
                Op::Admit => WaitingRoomCommand::Admit,
                Op::ExpireDue => WaitingRoomCommand::ExpireDue,
                Op::Shuffle(n) => WaitingRoomCommand::ShufflePrequeue { seed: seed(*n) },
                Op::Close => WaitingRoomCommand::Close { reason: CloseReason::SoldOut },
                Op::Wait(ms) => {
                    now += Duration::milliseconds(i64::from(*ms));
                    continue;
                }
            };
            // The admitter shuffles as soon as the sale is open, as the service does.
            if matches!(op, Op::Admit) && state.needs_shuffle(now) {
                let shuffle = WaitingRoomCommand::ShufflePrequeue { seed: seed(99) };
                let events = decide(&state, &shuffle, now).unwrap();
                state = events.iter().fold(state, evolve);
                log.extend(events);
            }
            if let Ok(events) = decide(&state, &command, now) {
                if !events.is_empty() && matches!(command, WaitingRoomCommand::Join { .. } | WaitingRoomCommand::Leave { .. }) {
                    accepted.push(command.clone());
                }
                state = events.iter().fold(state, evolve);
                log.extend(events);
            }

            // Live admissions never exceed max_active, and the state counts them as the log does.
            let live = admissions(&log)
                .iter()
                .filter(|(_, _, until, ended)| *until > now && ended.is_none_or(|t| t > now))
                .count() as u64;
            if let Some(max) = config.max_active() {
                prop_assert!(live <= u64::from(max), "{live} live with max_active {max}");
            }
            prop_assert_eq!(state.counters(now).active, live);

            // No 60 s holds more admissions than admit_per_minute, and none comes before the sale.
            let times: Vec<Timestamp> = admissions(&log).iter().map(|a| a.1).collect();
            for (i, start) in times.iter().enumerate() {
                prop_assert!(*start >= SALE);
                let in_window = times[i..].iter().take_while(|t| **t < *start + Duration::MINUTE).count();
                prop_assert!(in_window as u32 <= config.admit_per_minute(),
                    "{} admissions in the minute from {}", in_window, start);
            }

            // Every customer has at most one place, and the line holds each once.
            let mut joins: HashMap<CustomerId, usize> = HashMap::new();
            let mut prequeue: Vec<CustomerId> = Vec::new();
            for event in &log {
                if let WaitingRoomEvent::CustomerJoined { customer_id, queue, .. } = event {
                    *joins.entry(customer_id.clone()).or_default() += 1;
                    if *queue == JoinedQueue::Prequeue {
                        prequeue.push(customer_id.clone());
                    }
                }
            }
            prop_assert!(joins.values().all(|&n| n == 1), "two places: {joins:?}");
            let line: Vec<CustomerId> = state.line_order().cloned().collect();
            prop_assert_eq!(line.len(), joins.len());
            prop_assert_eq!(line.iter().collect::<HashSet<_>>().len(), line.len());

            // The shuffle is a permutation of the prequeue: the recorded seed's.
            let shuffle = log.iter().find_map(|e| match e {
                WaitingRoomEvent::PrequeueShuffled { seed, prequeue_len, .. } => Some((*seed, *prequeue_len)),
                _ => None,
            });
            if let Some((seed, len)) = shuffle {
                prop_assert_eq!(len as usize, prequeue.len());
                prop_assert_eq!(&line[..prequeue.len()], &shuffle_prequeue(&prequeue, &seed)[..]);
            } else {
                prop_assert_eq!(&line[..prequeue.len()], &prequeue[..]);
            }

            // Admissions follow the line: nobody still waiting was stepped over.
            let admitted: Vec<CustomerId> = admissions(&log).into_iter().map(|a| a.0).collect();
            // A waiting customer's position counts everyone still in the prequeue or waiting ahead.
            let mut waiting = 0;
            for customer in &line {
                let status = state.status(customer, now, None).unwrap();
                match status.state {
                    QueueState::Waiting => {
                        prop_assert_eq!(status.position, Some(waiting + 1), "position of {}", customer);
                        waiting += 1;
                    }
                    QueueState::Prequeue => waiting += 1,
                    _ => {}
                }
            }
            prop_assert_eq!(state.counters(now).waiting, waiting);
            if let Some(last) = admitted.last() {
                let last_index = line.iter().position(|c| c == last).unwrap();
                for customer in &line[..last_index] {
                    let status = state.status(customer, now, None).unwrap().state;
                    prop_assert!(!matches!(status, QueueState::Waiting | QueueState::Prequeue),
                        "{customer} was stepped over");
                }
                let order: Vec<&CustomerId> = line.iter().filter(|c| admitted.contains(c)).collect();
                prop_assert_eq!(order, admitted.iter().collect::<Vec<_>>());
            }

            // Folding the log from nothing gives the same state.
            let folded = log.iter().fold(WaitingRoom::default(), evolve);
            prop_assert_eq!(&folded, &state);

            // A join or leave that decided something decides nothing when repeated.
            for command in &accepted {
                prop_assert_eq!(decide(&state, command, now), Ok(vec![]), "repeat of {:?}", command);
            }
        }
    }
}
