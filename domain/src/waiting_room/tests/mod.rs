//! Stories of an event's waiting room, one file per rule, property tests over random queues, and
//! the statistics that show the prequeue's order is fair.
//!
//! The fixture room (see `room`): the prequeue opens an hour before the sale (`at(-3600)`), the
//! sale opens at `at(0)` and closes a day later; admissions live 600 s. Each story picks its rate
//! and `max_active`.

mod admit;
mod config;
mod expiry;
mod facts;
mod fairness;
mod finish;
mod join;
mod leave;
mod properties;
mod shuffle;
mod status;
mod token;

use crate::ids::{CustomerId, EventId};
use crate::test_support::{given, Given, WaitingRooms};
use crate::waiting_room::{
    AdmissionEndReason, JoinedQueue, ShuffleSeed, WaitingRoom, WaitingRoomCommand,
    WaitingRoomConfig, WaitingRoomDraft, WaitingRoomEvent,
};
use crate::Timestamp;
use time::macros::datetime;
use time::Duration;
use uuid::Uuid;

/// When the sale opens; fixture times are seconds from it.
pub(super) const SALE: Timestamp = datetime!(2030-06-01 18:00 UTC);
pub(super) const OPENS: i64 = -3_600;
pub(super) const CLOSES: i64 = 86_400;
pub(super) const TTL: i64 = 600;

pub(super) fn at(seconds: i64) -> Timestamp {
    SALE + Duration::seconds(seconds)
}

pub(super) fn at_ms(millis: i64) -> Timestamp {
    SALE + Duration::milliseconds(millis)
}

pub(super) fn event_id() -> EventId {
    EventId::from_uuid(Uuid::from_u128(0xe1))
}

pub(super) fn customer(name: &str) -> CustomerId {
    CustomerId::parse(name).unwrap()
}

/// The `i`-th customer of a crowd.
pub(super) fn nth(i: usize) -> CustomerId {
    CustomerId::parse(&format!("c{i}")).unwrap()
}

pub(super) fn seed(n: u64) -> ShuffleSeed {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    ShuffleSeed::from_bytes(bytes)
}

/// The fixture room at this rate, with this bound on live admissions.
pub(super) fn config(admit_per_minute: u32, max_active: Option<u32>) -> WaitingRoomConfig {
    WaitingRoomConfig::parse(
        &WaitingRoomDraft {
            opens_at: at(OPENS),
            admit_per_minute,
            max_active,
            admission_ttl_seconds: Some(TTL as u32),
        },
        Some(SALE),
        Some(at(CLOSES)),
    )
    .unwrap()
}

pub(super) fn configured(config: WaitingRoomConfig) -> WaitingRoomEvent {
    WaitingRoomEvent::WaitingRoomConfigured {
        event_id: event_id(),
        config,
    }
}

pub(super) fn join(who: &CustomerId) -> WaitingRoomCommand {
    WaitingRoomCommand::Join {
        customer_id: who.clone(),
    }
}

pub(super) fn leave(who: &CustomerId) -> WaitingRoomCommand {
    WaitingRoomCommand::Leave {
        customer_id: who.clone(),
    }
}

pub(super) fn joined_prequeue(who: &CustomerId, when: Timestamp) -> WaitingRoomEvent {
    WaitingRoomEvent::CustomerJoined {
        customer_id: who.clone(),
        queue: JoinedQueue::Prequeue,
        joined_at: when,
    }
}

pub(super) fn joined_line(who: &CustomerId, when: Timestamp) -> WaitingRoomEvent {
    WaitingRoomEvent::CustomerJoined {
        customer_id: who.clone(),
        queue: JoinedQueue::Line,
        joined_at: when,
    }
}

pub(super) fn shuffled(seed: ShuffleSeed, prequeue_len: u64, when: Timestamp) -> WaitingRoomEvent {
    WaitingRoomEvent::PrequeueShuffled {
        seed,
        prequeue_len,
        shuffled_at: when,
    }
}

pub(super) fn admitted(who: &CustomerId, when: Timestamp) -> WaitingRoomEvent {
    WaitingRoomEvent::CustomerAdmitted {
        customer_id: who.clone(),
        admitted_at: when,
        admitted_until: when + Duration::seconds(TTL),
    }
}

pub(super) fn expired(who: &CustomerId, when: Timestamp) -> WaitingRoomEvent {
    WaitingRoomEvent::AdmissionEnded {
        customer_id: who.clone(),
        reason: AdmissionEndReason::Expired,
        ended_at: when,
    }
}

pub(super) fn confirmed(who: &CustomerId, when: Timestamp) -> WaitingRoomEvent {
    WaitingRoomEvent::AdmissionEnded {
        customer_id: who.clone(),
        reason: AdmissionEndReason::OrderConfirmed,
        ended_at: when,
    }
}

pub(super) fn left(who: &CustomerId, when: Timestamp) -> WaitingRoomEvent {
    WaitingRoomEvent::CustomerLeft {
        customer_id: who.clone(),
        left_at: when,
    }
}

/// A story on a room with this configuration, after these facts.
pub(super) fn room(
    config: WaitingRoomConfig,
    events: impl IntoIterator<Item = WaitingRoomEvent>,
) -> Given<WaitingRooms> {
    given::<WaitingRooms>(std::iter::once(configured(config)).chain(events))
}

/// The state after these facts.
pub(super) fn state_after(
    config: WaitingRoomConfig,
    events: impl IntoIterator<Item = WaitingRoomEvent>,
) -> WaitingRoom {
    std::iter::once(configured(config))
        .chain(events)
        .fold(WaitingRoom::default(), |s, e| {
            crate::waiting_room::evolve(s, &e)
        })
}

/// Decide and apply in one step, for stories that run a while; panics on a refusal.
pub(super) fn step(
    state: WaitingRoom,
    command: &WaitingRoomCommand,
    now: Timestamp,
    log: &mut Vec<WaitingRoomEvent>,
) -> WaitingRoom {
    let events = crate::waiting_room::decide(&state, command, now)
        .unwrap_or_else(|e| panic!("{command:?} at {now} was refused: {e}"));
    let state = events.iter().fold(state, crate::waiting_room::evolve);
    log.extend(events);
    state
}

/// The customers a log admitted, in order.
pub(super) fn admitted_in(log: &[WaitingRoomEvent]) -> Vec<CustomerId> {
    log.iter()
        .filter_map(|e| match e {
            WaitingRoomEvent::CustomerAdmitted { customer_id, .. } => Some(customer_id.clone()),
            _ => None,
        })
        .collect()
}
