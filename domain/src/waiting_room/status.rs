//! What a customer and the public see of a queue: pure queries on the state at `now`, each
//! O(log n) or better, so that millions of people can poll.

use super::admissions::Ended;
use super::decide::closed_because;
use super::WaitingRoom;
use crate::ids::CustomerId;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Duration;

/// The shortest and longest wait a client is told before it asks again.
pub const MIN_POLL_AFTER_MS: u64 = 1_000;
pub const MAX_POLL_AFTER_MS: u64 = 30_000;
/// A client is told to come back after about this fraction of its expected wait: ten polls over
/// a wait, fewer near the front where the bound of 1 s takes over.
const POLLS_PER_WAIT: u64 = 10;

/// Where a customer is.
/// New variants are added as the product grows: match with a wildcard arm outside this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QueueState {
    /// Joined before the sale opened; the order is drawn at `sale_opens_at`.
    Prequeue,
    Waiting,
    /// Let in, until `admitted_until`.
    Admitted,
    /// The admission ran out.
    Expired,
    /// The admission ended with a confirmed order.
    Finished,
    Left,
}

impl QueueState {
    /// The stable name used in the API and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Prequeue => "prequeue",
            Self::Waiting => "waiting",
            Self::Admitted => "admitted",
            Self::Expired => "expired",
            Self::Finished => "finished",
            Self::Left => "left",
        }
    }
}

impl fmt::Display for QueueState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One customer's place at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    pub state: QueueState,
    /// 1-based place in line; only while waiting (the prequeue has no order yet).
    pub position: Option<u64>,
    /// How many wait ahead; only while waiting.
    pub ahead: Option<u64>,
    /// While waiting: `ahead` at the admission rate. In the prequeue: the time to the opening
    /// plus half the prequeue (the expected place). Otherwise none.
    pub estimated_wait_seconds: Option<u64>,
    /// When the client should ask again, growing with the distance to the front.
    pub poll_after_ms: u64,
    pub joined_at: Timestamp,
    /// While admitted (and after): when the admission ends, the admission token's `exp`.
    pub admitted_until: Option<Timestamp>,
}

/// Whether the queue takes customers at `now`, for the public view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueuePhase {
    /// Before `opens_at`, or after the sale closed.
    Closed,
    /// From `opens_at` to `sale_opens_at`: joiners go to the prequeue.
    Prequeue,
    /// The sale is open: joiners go to the back of the line and customers are admitted.
    Open,
}

impl QueuePhase {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Prequeue => "prequeue",
            Self::Open => "open",
        }
    }
}

/// The public counters of `GET /events/{id}/queue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounters {
    pub phase: QueuePhase,
    /// In the prequeue or waiting in line.
    pub waiting: u64,
    /// Admissions ever made.
    pub admitted_total: u64,
    /// Admissions live at `now`: the ones `max_active` bounds.
    pub active: u64,
    pub admit_per_minute: u32,
}

impl WaitingRoom {
    /// The customer's place at `now`, or `None` if they never joined. `measured_per_minute` is
    /// the admission rate the service observed lately (admissions slow down under `max_active`);
    /// without one, or at 0, the configured rate is used.
    pub fn status(
        &self,
        customer: &CustomerId,
        now: Timestamp,
        measured_per_minute: Option<u32>,
    ) -> Option<QueueStatus> {
        let now = self.clock(now);
        let config = self.config.as_ref()?;
        let place = self.places.get(customer)?;
        let per_minute = measured_per_minute
            .filter(|&rate| rate > 0)
            .unwrap_or(config.admit_per_minute());
        let mut status = QueueStatus {
            state: QueueState::Waiting,
            position: None,
            ahead: None,
            estimated_wait_seconds: None,
            poll_after_ms: MAX_POLL_AFTER_MS,
            joined_at: place.joined_at,
            admitted_until: None,
        };
        if place.left_at.is_some() {
            status.state = QueueState::Left;
        } else if let Some(seq) = place.admission {
            let admission = self.admissions.get(seq);
            status.admitted_until = Some(admission.admitted_until);
            status.state = match admission.ended {
                Some(Ended::OrderConfirmed) => QueueState::Finished,
                Some(Ended::Left) => QueueState::Left,
                Some(Ended::Expired) => QueueState::Expired,
                None if admission.admitted_until <= now => QueueState::Expired,
                None => QueueState::Admitted,
            };
        } else if self.line.in_unshuffled_prequeue(place.slot) {
            status.state = QueueState::Prequeue;
            let to_opening = (config.sale_opens_at() - now).max(Duration::ZERO);
            let expected_ahead = self.waiting.saturating_sub(1) / 2;
            let wait = seconds_up(to_opening) + wait_seconds(expected_ahead, per_minute);
            status.estimated_wait_seconds = Some(wait);
            status.poll_after_ms = poll_after_ms(seconds_up(to_opening).saturating_mul(1_000));
        } else {
            let ahead = self.line.ahead_of(place.slot);
            let wait = wait_seconds(ahead, per_minute);
            status.position = Some(ahead + 1);
            status.ahead = Some(ahead);
            status.estimated_wait_seconds = Some(wait);
            status.poll_after_ms = poll_after_ms(wait.saturating_mul(1_000) / POLLS_PER_WAIT);
        }
        Some(status)
    }

    /// Whether the queue takes customers at `now`.
    pub fn phase(&self, now: Timestamp) -> QueuePhase {
        let now = self.clock(now);
        match &self.config {
            None => QueuePhase::Closed,
            Some(config) if closed_because(self, config, now).is_some() => QueuePhase::Closed,
            Some(config) if now < config.sale_opens_at() => QueuePhase::Prequeue,
            Some(_) => QueuePhase::Open,
        }
    }

    /// The public counters at `now`, in O(log n).
    pub fn counters(&self, now: Timestamp) -> QueueCounters {
        let now = self.clock(now);
        QueueCounters {
            phase: self.phase(now),
            waiting: self.waiting,
            admitted_total: self.admissions.total(),
            active: self.admissions.live_at(now),
            admit_per_minute: self.config.map_or(0, |c| c.admit_per_minute()),
        }
    }
}

/// Seconds, rounded up.
fn seconds_up(duration: Duration) -> u64 {
    let nanos = duration.whole_nanoseconds().max(0) as u128;
    nanos.div_ceil(1_000_000_000) as u64
}

/// How long `ahead` admissions take at `per_minute` (> 0), rounded up to the second.
fn wait_seconds(ahead: u64, per_minute: u32) -> u64 {
    (u128::from(ahead) * 60).div_ceil(u128::from(per_minute)) as u64
}

/// A poll interval within the bounds.
fn poll_after_ms(wanted: u64) -> u64 {
    wanted.clamp(MIN_POLL_AFTER_MS, MAX_POLL_AFTER_MS)
}
