//! The waiting room's decider.
//!
//! Every decision is taken at the room's clock (`now`, or the latest recorded time if that is
//! later). `Admit` and `ExpireDue` start with the `AdmissionEnded { Expired }` facts of the
//! admissions due by then, like the inventory's hold expiries; the live count never waits for
//! them (expiry is lazy), they keep the log readable. Joining, leaving, shuffling and finishing
//! again decide nothing, forever.

use super::{
    AdmissionEndReason, CloseReason, ClosedBecause, FinishReason, JoinedQueue, ShuffleSeed,
    WaitingRoom, WaitingRoomCommand, WaitingRoomConfig, WaitingRoomError, WaitingRoomEvent,
};
use crate::ids::{CustomerId, EventId};
use crate::Timestamp;

/// Decide what `command` means for the room in `state` at `now`.
pub fn decide(
    state: &WaitingRoom,
    command: &WaitingRoomCommand,
    now: Timestamp,
) -> Result<Vec<WaitingRoomEvent>, WaitingRoomError> {
    let now = state.clock(now);
    if let WaitingRoomCommand::Configure { event_id, config } = command {
        return configure(state, *event_id, config);
    }
    let config = state
        .config
        .as_ref()
        .ok_or(WaitingRoomError::NoWaitingRoom)?;
    match command {
        WaitingRoomCommand::Configure { .. } => unreachable!("decided above"),
        WaitingRoomCommand::Join { customer_id } => join(state, config, customer_id, now),
        WaitingRoomCommand::Leave { customer_id } => leave(state, customer_id, now),
        WaitingRoomCommand::ShufflePrequeue { seed } => shuffle(state, config, seed, now),
        WaitingRoomCommand::Admit => admit(state, config, now),
        WaitingRoomCommand::FinishAdmission {
            customer_id,
            reason,
        } => Ok(finish(state, customer_id, *reason, now)
            .into_iter()
            .collect()),
        WaitingRoomCommand::ExpireDue => Ok(expiries(state, now)),
        WaitingRoomCommand::Close { reason } => {
            Ok(close(state, *reason, now).into_iter().collect())
        }
    }
}

/// Fold one fact into the state.
pub fn evolve(mut state: WaitingRoom, event: &WaitingRoomEvent) -> WaitingRoom {
    state.apply(event);
    state
}

fn configure(
    state: &WaitingRoom,
    event_id: EventId,
    config: &WaitingRoomConfig,
) -> Result<Vec<WaitingRoomEvent>, WaitingRoomError> {
    match &state.config {
        None => Ok(vec![WaitingRoomEvent::WaitingRoomConfigured {
            event_id,
            config: *config,
        }]),
        Some(existing) if existing == config && state.event_id == Some(event_id) => Ok(vec![]),
        Some(_) => Err(WaitingRoomError::AlreadyConfigured),
    }
}

/// Why nobody may join at `now`, if so.
pub(super) fn closed_because(
    state: &WaitingRoom,
    config: &WaitingRoomConfig,
    now: Timestamp,
) -> Option<ClosedBecause> {
    if let Some(reason) = state.closed {
        return Some(ClosedBecause::Closed(reason));
    }
    if now < config.opens_at() {
        return Some(ClosedBecause::NotOpenYet(config.opens_at()));
    }
    match config.sale_closes_at() {
        Some(closes) if now >= closes => Some(ClosedBecause::SaleEnded(closes)),
        _ => None,
    }
}

/// One place per customer: a second join decides nothing, whatever happened to the first.
fn join(
    state: &WaitingRoom,
    config: &WaitingRoomConfig,
    customer_id: &CustomerId,
    now: Timestamp,
) -> Result<Vec<WaitingRoomEvent>, WaitingRoomError> {
    if state.places.contains_key(customer_id) {
        return Ok(vec![]);
    }
    if let Some(why) = closed_because(state, config, now) {
        return Err(WaitingRoomError::QueueClosed(why));
    }
    let queue = if now < config.sale_opens_at() && state.line.prequeue_is_open() {
        JoinedQueue::Prequeue
    } else {
        JoinedQueue::Line
    };
    Ok(vec![WaitingRoomEvent::CustomerJoined {
        customer_id: customer_id.clone(),
        queue,
        joined_at: now,
    }])
}

/// Leaving gives the place up for good (and a live admission with it); a second leave decides
/// nothing.
fn leave(
    state: &WaitingRoom,
    customer_id: &CustomerId,
    now: Timestamp,
) -> Result<Vec<WaitingRoomEvent>, WaitingRoomError> {
    let place = state
        .places
        .get(customer_id)
        .ok_or(WaitingRoomError::NotInQueue)?;
    if place.left_at.is_some() {
        return Ok(vec![]);
    }
    Ok(vec![WaitingRoomEvent::CustomerLeft {
        customer_id: customer_id.clone(),
        left_at: now,
    }])
}

/// The prequeue is shuffled once, at or after `sale_opens_at`.
fn shuffle(
    state: &WaitingRoom,
    config: &WaitingRoomConfig,
    seed: &ShuffleSeed,
    now: Timestamp,
) -> Result<Vec<WaitingRoomEvent>, WaitingRoomError> {
    if state.is_shuffled() {
        return Ok(vec![]);
    }
    if now < config.sale_opens_at() {
        return Err(WaitingRoomError::SaleNotOpen {
            sale_opens_at: config.sale_opens_at(),
        });
    }
    Ok(vec![WaitingRoomEvent::PrequeueShuffled {
        seed: *seed,
        prequeue_len: state.prequeue_len(),
        shuffled_at: now,
    }])
}

/// The due expiries, then the next customers in line, as many as [`WaitingRoom::admissible`]
/// allows.
fn admit(
    state: &WaitingRoom,
    config: &WaitingRoomConfig,
    now: Timestamp,
) -> Result<Vec<WaitingRoomEvent>, WaitingRoomError> {
    let mut events = expiries(state, now);
    if now < config.sale_opens_at() || state.closed.is_some() {
        return Ok(events);
    }
    if !state.is_shuffled() {
        return Err(WaitingRoomError::NotShuffled);
    }
    let count = state.admissible(now).min(state.waiting) as usize;
    let admitted_until = now + config.admission_ttl();
    events.extend(
        state
            .line
            .next_waiting(count)
            .map(|index| WaitingRoomEvent::CustomerAdmitted {
                customer_id: state.line.customer(index).clone(),
                admitted_at: now,
                admitted_until,
            }),
    );
    Ok(events)
}

/// An admission finished early stops counting; one that is not live any more decides nothing.
fn finish(
    state: &WaitingRoom,
    customer_id: &CustomerId,
    reason: FinishReason,
    now: Timestamp,
) -> Option<WaitingRoomEvent> {
    let seq = state.places.get(customer_id)?.admission?;
    let admission = state.admissions.get(seq);
    if admission.ended.is_some() || admission.admitted_until <= now {
        return None;
    }
    let reason = match reason {
        FinishReason::OrderConfirmed => AdmissionEndReason::OrderConfirmed,
    };
    Some(WaitingRoomEvent::AdmissionEnded {
        customer_id: customer_id.clone(),
        reason,
        ended_at: now,
    })
}

/// The `AdmissionEnded { Expired }` facts of the admissions due by `now`, oldest first.
fn expiries(state: &WaitingRoom, now: Timestamp) -> Vec<WaitingRoomEvent> {
    state
        .admissions
        .due_at(now)
        .map(|seq| {
            let admission = state.admissions.get(seq);
            WaitingRoomEvent::AdmissionEnded {
                customer_id: state.line.joiner(admission.slot).clone(),
                reason: AdmissionEndReason::Expired,
                ended_at: now,
            }
        })
        .collect()
}

fn close(state: &WaitingRoom, reason: CloseReason, now: Timestamp) -> Option<WaitingRoomEvent> {
    if state.closed.is_some() {
        return None;
    }
    Some(WaitingRoomEvent::QueueClosed {
        reason,
        closed_at: now,
    })
}
