//! What a customer and the public are shown of a queue, as JSON.

use auth::{AdmissionKey, AdmissionTokenClaims};
use domain::ids::{CustomerId, EventId};
use domain::waiting_room::{QueueCounters, QueueState, QueueStatus};
use domain::Timestamp;
use serde::{Deserialize, Serialize};

/// A customer's place: `POST /events/{id}/queue`, `GET …/queue/me` and each message of
/// `GET …/queue/me/stream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueView {
    pub event_id: EventId,
    /// `prequeue`, `waiting`, `admitted`, `expired` or `left`.
    pub state: String,
    /// 1-based; null in the prequeue and once the wait is over.
    pub position: Option<u64>,
    pub ahead: Option<u64>,
    pub estimated_wait_seconds: Option<u64>,
    pub poll_after_ms: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: Timestamp,
    /// While admitted: the token to send as `Admission` with every hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_token: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub admitted_until: Option<Timestamp>,
}

impl QueueView {
    /// The view of a status. An admission finished by a confirmed order is shown as admitted
    /// until it runs out, with its token: the token is checked offline and still lets the
    /// customer buy (within the ticket limit) until then; it only stopped counting against
    /// `max_active`.
    pub fn of(
        event: EventId,
        customer: &CustomerId,
        status: &QueueStatus,
        now: Timestamp,
        key: &AdmissionKey,
        ttl_seconds: u32,
    ) -> Self {
        let state = match status.state {
            QueueState::Finished => match status.admitted_until {
                Some(until) if until > now => QueueState::Admitted,
                _ => QueueState::Expired,
            },
            state => state,
        };
        let admission_token = match (state, status.admitted_until) {
            (QueueState::Admitted, Some(until)) => {
                let exp = until.unix_timestamp();
                let iat = exp - i64::from(ttl_seconds);
                let claims =
                    AdmissionTokenClaims::new(customer.as_str(), &event.to_string(), iat, exp);
                Some(key.sign(&claims))
            }
            _ => None,
        };
        Self {
            event_id: event,
            state: state.as_str().to_owned(),
            position: status.position,
            ahead: status.ahead,
            estimated_wait_seconds: status.estimated_wait_seconds,
            poll_after_ms: status.poll_after_ms,
            joined_at: status.joined_at,
            admission_token,
            admitted_until: status.admitted_until,
        }
    }
}

/// The public counters of `GET /events/{id}/queue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersView {
    pub event_id: EventId,
    /// `closed`, `prequeue` or `open`.
    pub state: String,
    pub waiting: u64,
    pub admitted_total: u64,
    pub active: u64,
    pub admit_per_minute: u32,
}

impl CountersView {
    pub fn of(event: EventId, counters: &QueueCounters) -> Self {
        Self {
            event_id: event,
            state: counters.phase.as_str().to_owned(),
            waiting: counters.waiting,
            admitted_total: counters.admitted_total,
            active: counters.active,
            admit_per_minute: counters.admit_per_minute,
        }
    }
}
