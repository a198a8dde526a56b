//! What an admission token says and when it lets a customer buy: the pure half of the token.
//!
//! The waiting room signs [`AdmissionClaims`] when it admits a customer; command-svc verifies the
//! signature (elsewhere, with the key) and then asks [`check_admission`] whether these claims let
//! this customer hold seats of this event now. No call to the waiting room: the token alone
//! decides, so an admission cannot be revoked before its `exp`, and `max_active` counts it until
//! then unless the customer's order is confirmed or they leave.

use crate::ids::{CustomerId, EventId};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// The claims of an admission token. Times are Unix seconds, as in any JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionClaims {
    /// The admitted customer.
    pub sub: CustomerId,
    /// The event they may buy for.
    pub event_id: EventId,
    /// When they were admitted.
    pub iat: i64,
    /// `admitted_until`: from this second on the token admits nobody.
    pub exp: i64,
}

impl AdmissionClaims {
    /// The claims of an admission recorded by `CustomerAdmitted`.
    pub fn for_admission(
        event_id: EventId,
        customer_id: CustomerId,
        admitted_at: Timestamp,
        admitted_until: Timestamp,
    ) -> Self {
        Self {
            sub: customer_id,
            event_id,
            iat: admitted_at.unix_timestamp(),
            exp: admitted_until.unix_timestamp(),
        }
    }
}

/// Why a hold is refused for want of an admission (`403` with these codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionRefused {
    /// No token, or one for another customer or event.
    #[error("the customer was not admitted to this event's sale")]
    NotAdmitted,
    #[error("the customer's admission expired")]
    AdmissionExpired,
}

impl AdmissionRefused {
    /// The stable code of the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAdmitted => "not_admitted",
            Self::AdmissionExpired => "admission_expired",
        }
    }
}

/// Whether claims (from a token whose signature was verified) let `customer` hold seats of
/// `event` at `now`. Who and what come before when: a token for someone else is `NotAdmitted`
/// even if it also expired.
pub fn check_admission(
    claims: &AdmissionClaims,
    customer: &CustomerId,
    event: EventId,
    now: Timestamp,
) -> Result<(), AdmissionRefused> {
    if &claims.sub != customer || claims.event_id != event {
        return Err(AdmissionRefused::NotAdmitted);
    }
    if now.unix_timestamp() >= claims.exp {
        return Err(AdmissionRefused::AdmissionExpired);
    }
    Ok(())
}
