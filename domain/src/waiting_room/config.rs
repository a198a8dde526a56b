//! An event's waiting room as the operator describes it, parsed once into a valid configuration.
//!
//! The operator gives `opens_at`, `admit_per_minute`, an optional `max_active` and an optional
//! `admission_ttl_seconds`; the sale's own window (`sale_opens_at`, `sale_closes_at`) comes from
//! the event. Past [`WaitingRoomConfig::parse`] every value is within its bounds.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use time::Duration;

/// How long an admission lives when the operator does not say.
pub const DEFAULT_ADMISSION_TTL_SECONDS: u32 = 600;
/// Bounds of an admission's time to live: long enough to pick seats and pay, short enough that a
/// customer who walked away gives the slot back the same day.
pub const MIN_ADMISSION_TTL_SECONDS: u32 = 30;
pub const MAX_ADMISSION_TTL_SECONDS: u32 = 86_400;
/// The fastest admission rate, 1,000 a second: the pacing interval stays at least a millisecond.
pub const MAX_ADMIT_PER_MINUTE: u32 = 60_000;
/// The most customers admitted at once; bounds nothing in memory, only catches typing mistakes.
pub const MAX_ACTIVE_LIMIT: u32 = 10_000_000;

/// The operator's `waiting_room` object of `POST /events`, as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingRoomDraft {
    #[serde(with = "time::serde::rfc3339")]
    pub opens_at: Timestamp,
    pub admit_per_minute: u32,
    pub max_active: Option<u32>,
    pub admission_ttl_seconds: Option<u32>,
}

/// Why a waiting room's description is refused; [`InvalidWaitingRoom::field`] names the field for
/// the operator to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidWaitingRoom {
    #[error("an event with a waiting room needs a sale_opens_at: the prequeue is shuffled then")]
    NoSaleOpensAt,
    #[error("opens_at must be before sale_opens_at")]
    OpensAtNotBeforeSale,
    #[error("sale_closes_at must be after sale_opens_at")]
    SaleClosesBeforeItOpens,
    #[error("admit_per_minute must be between 1 and {MAX_ADMIT_PER_MINUTE}")]
    AdmitPerMinuteOutOfRange,
    #[error("max_active must be between 1 and {MAX_ACTIVE_LIMIT}")]
    MaxActiveOutOfRange,
    #[error(
        "admission_ttl_seconds must be between {MIN_ADMISSION_TTL_SECONDS} and \
         {MAX_ADMISSION_TTL_SECONDS}"
    )]
    AdmissionTtlOutOfRange,
}

impl InvalidWaitingRoom {
    /// The JSON path of the field at fault in `POST /events`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::NoSaleOpensAt => "sale_opens_at",
            Self::OpensAtNotBeforeSale => "waiting_room.opens_at",
            Self::SaleClosesBeforeItOpens => "sale_closes_at",
            Self::AdmitPerMinuteOutOfRange => "waiting_room.admit_per_minute",
            Self::MaxActiveOutOfRange => "waiting_room.max_active",
            Self::AdmissionTtlOutOfRange => "waiting_room.admission_ttl_seconds",
        }
    }
}

/// A valid waiting room: `opens_at < sale_opens_at (< sale_closes_at)`, a positive rate, a
/// positive `max_active` if any, a TTL within bounds. Stored in the `WaitingRoomConfigured` fact
/// and checked again when read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConfigFields", into = "ConfigFields")]
pub struct WaitingRoomConfig {
    opens_at: Timestamp,
    sale_opens_at: Timestamp,
    sale_closes_at: Option<Timestamp>,
    admit_per_minute: u32,
    max_active: Option<u32>,
    admission_ttl_seconds: u32,
}

impl WaitingRoomConfig {
    /// Check the operator's draft against the event's sale window.
    pub fn parse(
        draft: &WaitingRoomDraft,
        sale_opens_at: Option<Timestamp>,
        sale_closes_at: Option<Timestamp>,
    ) -> Result<Self, InvalidWaitingRoom> {
        let sale_opens_at = sale_opens_at.ok_or(InvalidWaitingRoom::NoSaleOpensAt)?;
        if draft.opens_at >= sale_opens_at {
            return Err(InvalidWaitingRoom::OpensAtNotBeforeSale);
        }
        if sale_closes_at.is_some_and(|closes| closes <= sale_opens_at) {
            return Err(InvalidWaitingRoom::SaleClosesBeforeItOpens);
        }
        if !(1..=MAX_ADMIT_PER_MINUTE).contains(&draft.admit_per_minute) {
            return Err(InvalidWaitingRoom::AdmitPerMinuteOutOfRange);
        }
        if draft
            .max_active
            .is_some_and(|max| !(1..=MAX_ACTIVE_LIMIT).contains(&max))
        {
            return Err(InvalidWaitingRoom::MaxActiveOutOfRange);
        }
        let admission_ttl_seconds = draft
            .admission_ttl_seconds
            .unwrap_or(DEFAULT_ADMISSION_TTL_SECONDS);
        if !(MIN_ADMISSION_TTL_SECONDS..=MAX_ADMISSION_TTL_SECONDS).contains(&admission_ttl_seconds)
        {
            return Err(InvalidWaitingRoom::AdmissionTtlOutOfRange);
        }
        Ok(Self {
            opens_at: draft.opens_at,
            sale_opens_at,
            sale_closes_at,
            admit_per_minute: draft.admit_per_minute,
            max_active: draft.max_active,
            admission_ttl_seconds,
        })
    }

    /// When customers may start to join the prequeue.
    pub fn opens_at(&self) -> Timestamp {
        self.opens_at
    }

    /// When the prequeue is shuffled and admissions start.
    pub fn sale_opens_at(&self) -> Timestamp {
        self.sale_opens_at
    }

    /// When nobody may join any more, if the sale has an end.
    pub fn sale_closes_at(&self) -> Option<Timestamp> {
        self.sale_closes_at
    }

    pub fn admit_per_minute(&self) -> u32 {
        self.admit_per_minute
    }

    /// The most admissions live at once; `None` is no limit but the rate.
    pub fn max_active(&self) -> Option<u32> {
        self.max_active
    }

    pub fn admission_ttl_seconds(&self) -> u32 {
        self.admission_ttl_seconds
    }

    pub fn admission_ttl(&self) -> Duration {
        Duration::seconds(i64::from(self.admission_ttl_seconds))
    }

    /// The spacing of admissions, `60 s / admit_per_minute`, rounded up to the nanosecond so that
    /// the rounding can only slow admissions down.
    pub fn admission_interval(&self) -> Duration {
        let per_minute = i64::from(self.admit_per_minute);
        Duration::nanoseconds((60_000_000_000 + per_minute - 1) / per_minute)
    }
}

/// The stored shape of a configuration, checked again when read back.
#[derive(Serialize, Deserialize)]
struct ConfigFields {
    #[serde(with = "time::serde::rfc3339")]
    opens_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    sale_opens_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    sale_closes_at: Option<Timestamp>,
    admit_per_minute: u32,
    max_active: Option<u32>,
    admission_ttl_seconds: u32,
}

impl TryFrom<ConfigFields> for WaitingRoomConfig {
    type Error = InvalidWaitingRoom;
    fn try_from(fields: ConfigFields) -> Result<Self, InvalidWaitingRoom> {
        let draft = WaitingRoomDraft {
            opens_at: fields.opens_at,
            admit_per_minute: fields.admit_per_minute,
            max_active: fields.max_active,
            admission_ttl_seconds: Some(fields.admission_ttl_seconds),
        };
        Self::parse(&draft, Some(fields.sale_opens_at), fields.sale_closes_at)
    }
}

impl From<WaitingRoomConfig> for ConfigFields {
    fn from(config: WaitingRoomConfig) -> Self {
        Self {
            opens_at: config.opens_at,
            sale_opens_at: config.sale_opens_at,
            sale_closes_at: config.sale_closes_at,
            admit_per_minute: config.admit_per_minute,
            max_active: config.max_active,
            admission_ttl_seconds: config.admission_ttl_seconds,
        }
    }
}
