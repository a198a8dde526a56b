//! What an event's waiting room remembers, folded from its facts: the configuration, the line,
//! every customer's one place, the admissions and the pacing schedule.

use super::admissions::{Admissions, Ended};
use super::line::Line;
use super::pacing::Pacing;
use super::{AdmissionEndReason, CloseReason, JoinedQueue, WaitingRoomConfig, WaitingRoomEvent};
use crate::ids::{CustomerId, EventId};
use crate::Timestamp;
use std::collections::HashMap;

/// One customer's place. A customer has at most one, forever.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Place {
    pub(super) joined_at: Timestamp,
    /// Their join index; the line knows where that stands.
    pub(super) slot: usize,
    /// Their admission, by sequence number, once admitted.
    pub(super) admission: Option<usize>,
    pub(super) left_at: Option<Timestamp>,
}

/// The waiting room of one event. `Default` is the state before it is configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitingRoom {
    pub(super) event_id: Option<EventId>,
    pub(super) config: Option<WaitingRoomConfig>,
    pub(super) closed: Option<CloseReason>,
    /// The latest time any fact carries. A decision at an earlier `now` (a clock behind another
    /// instance's) is taken at this time instead: the room's clock never runs backwards, which
    /// keeps the prequeue closed once the sale opened and the admissions in time order.
    pub(super) clock: Option<Timestamp>,
    pub(super) places: HashMap<CustomerId, Place>,
    pub(super) line: Line,
    pub(super) admissions: Admissions,
    pub(super) pacing: Pacing,
    /// Customers in the prequeue or waiting in line.
    pub(super) waiting: u64,
}

impl WaitingRoom {
    /// The event this room is for, once configured.
    pub fn event_id(&self) -> Option<EventId> {
        self.event_id
    }

    pub fn config(&self) -> Option<&WaitingRoomConfig> {
        self.config.as_ref()
    }

    /// Why the queue closed, if it was closed by a fact (`sale_closes_at` passing closes it too).
    pub fn closed(&self) -> Option<CloseReason> {
        self.closed
    }

    /// The time a decision at `now` is taken at: `now`, or the latest recorded time if later.
    pub fn clock(&self, now: Timestamp) -> Timestamp {
        self.clock.map_or(now, |clock| clock.max(now))
    }

    /// True once the prequeue has been put in its random order.
    pub fn is_shuffled(&self) -> bool {
        self.line.shuffled_with().is_some()
    }

    /// True when the admitter should send `ShufflePrequeue` (with a fresh seed) before `Admit`.
    pub fn needs_shuffle(&self, now: Timestamp) -> bool {
        match &self.config {
            Some(config) => !self.is_shuffled() && self.clock(now) >= config.sale_opens_at(),
            None => false,
        }
    }

    /// How many joined the prequeue (in the order they joined, before the shuffle).
    pub fn prequeue_len(&self) -> u64 {
        self.line.prequeue_len() as u64
    }

    /// The customers of the line from the front of the prequeue to the back, including those
    /// admitted or gone; the order admissions follow. For audits and tests: O(n).
    pub fn line_order(&self) -> impl Iterator<Item = &CustomerId> {
        (0..self.line.len()).map(|index| self.line.customer(index))
    }

    /// True if the customer ever joined.
    pub fn has_place(&self, customer: &CustomerId) -> bool {
        self.places.contains_key(customer)
    }

    /// Fold one fact in place. Facts that make no sense in the current state (which `decide` never
    /// produces) leave it unchanged, so replaying a log never panics.
    pub(super) fn apply(&mut self, event: &WaitingRoomEvent) {
        if let Some(at) = fact_time(event) {
            self.clock = Some(self.clock(at));
        }
        match event {
            WaitingRoomEvent::WaitingRoomConfigured { event_id, config } => {
                if self.config.is_none() {
                    self.event_id = Some(*event_id);
                    self.config = Some(*config);
                }
            }
            WaitingRoomEvent::CustomerJoined {
                customer_id,
                queue,
                joined_at,
            } => {
                if self.config.is_none() || self.places.contains_key(customer_id) {
                    return;
                }
                let into_prequeue = *queue == JoinedQueue::Prequeue;
                let slot = self.line.push(customer_id.clone(), into_prequeue);
                self.places.insert(
                    customer_id.clone(),
                    Place {
                        joined_at: *joined_at,
                        slot,
                        admission: None,
                        left_at: None,
                    },
                );
                self.waiting += 1;
            }
            WaitingRoomEvent::PrequeueShuffled {
                seed, prequeue_len, ..
            } => {
                // Joins are appended beside the room's own facts, not behind them: a prequeue
                // join decided just before the opening may land after the shuffle was decided.
                // The shuffle covers the first `prequeue_len` joiners; such a late one stands
                // first behind them, in arrival order, like any join after the opening.
                if self.is_shuffled() || *prequeue_len > self.prequeue_len() {
                    return;
                }
                self.line.shuffle(*prequeue_len as usize, *seed);
            }
            WaitingRoomEvent::CustomerAdmitted {
                customer_id,
                admitted_at,
                admitted_until,
            } => {
                let Some(config) = &self.config else { return };
                let Some(place) = self.places.get_mut(customer_id) else {
                    return;
                };
                if place.admission.is_some()
                    || place.left_at.is_some()
                    || self.line.shuffled_with().is_none()
                {
                    return;
                }
                let seq = self
                    .admissions
                    .push(place.slot, *admitted_at, *admitted_until);
                place.admission = Some(seq);
                self.line.admitted(place.slot);
                self.pacing
                    .admitted(*admitted_at, config.admission_interval());
                self.waiting -= 1;
            }
            WaitingRoomEvent::AdmissionEnded {
                customer_id,
                reason,
                ..
            } => {
                if let Some(seq) = self.places.get(customer_id).and_then(|p| p.admission) {
                    let why = match reason {
                        AdmissionEndReason::Expired => Ended::Expired,
                        AdmissionEndReason::OrderConfirmed => Ended::OrderConfirmed,
                    };
                    self.admissions.end(seq, why);
                }
            }
            WaitingRoomEvent::CustomerLeft {
                customer_id,
                left_at,
            } => {
                let Some(place) = self.places.get_mut(customer_id) else {
                    return;
                };
                if place.left_at.is_some() {
                    return;
                }
                place.left_at = Some(*left_at);
                match place.admission {
                    Some(seq) => self.admissions.end(seq, Ended::Left),
                    None => {
                        self.line.mark_gone(place.slot);
                        self.waiting -= 1;
                    }
                }
            }
            WaitingRoomEvent::QueueClosed { reason, .. } => {
                self.closed.get_or_insert(*reason);
            }
        }
    }
}

/// The time a fact happened at, if it carries one.
fn fact_time(event: &WaitingRoomEvent) -> Option<Timestamp> {
    match event {
        WaitingRoomEvent::WaitingRoomConfigured { .. } => None,
        WaitingRoomEvent::CustomerJoined { joined_at, .. } => Some(*joined_at),
        WaitingRoomEvent::PrequeueShuffled { shuffled_at, .. } => Some(*shuffled_at),
        WaitingRoomEvent::CustomerAdmitted { admitted_at, .. } => Some(*admitted_at),
        WaitingRoomEvent::AdmissionEnded { ended_at, .. } => Some(*ended_at),
        WaitingRoomEvent::CustomerLeft { left_at, .. } => Some(*left_at),
        WaitingRoomEvent::QueueClosed { closed_at, .. } => Some(*closed_at),
    }
}
