//! The waiting room of an event sold through a queue: who may buy, in what order, and when. One
//! aggregate per event, stored by the waiting-room service on a subject of its own; this module is
//! the rules it decides with, pure like the rest of the crate (the shuffle's seed and the time come
//! in with the command).
//!
//! From `opens_at` customers join the prequeue; at `sale_opens_at` the prequeue is put in a
//! uniformly random order by a Fisher–Yates shuffle from a seed recorded in the fact, so the order
//! can be recomputed and audited; who joins later goes to the back, first come first served.
//! Admissions follow the line, at most `admit_per_minute` a minute spread evenly, and never more
//! than `max_active` live at once (live: not expired, not finished by a confirmed order, not
//! left). Customers who left are stepped over. A customer has one place, whatever the retries.
//!
//! The status of a place (position, how many ahead, the expected wait) and the public counters are
//! O(log n) queries on the state, for millions of people polling.

mod admission_token;
mod admissions;
mod command;
mod config;
mod decide;
mod error;
mod event;
mod fenwick;
mod line;
mod pacing;
mod shuffle;
mod state;
pub mod statistics;
mod status;
#[cfg(test)]
mod tests;

pub use admission_token::{check_admission, AdmissionClaims, AdmissionRefused};
pub use command::{FinishReason, WaitingRoomCommand};
pub use config::{
    InvalidWaitingRoom, WaitingRoomConfig, WaitingRoomDraft, DEFAULT_ADMISSION_TTL_SECONDS,
    MAX_ACTIVE_LIMIT, MAX_ADMISSION_TTL_SECONDS, MAX_ADMIT_PER_MINUTE, MIN_ADMISSION_TTL_SECONDS,
};
pub use decide::{decide, evolve};
pub use error::{ClosedBecause, WaitingRoomError};
pub use event::{AdmissionEndReason, CloseReason, JoinedQueue, WaitingRoomEvent};
pub use pacing::PACING_CATCH_UP;
pub use shuffle::{shuffle_prequeue, shuffled_order, InvalidSeed, ShuffleSeed};
pub use state::WaitingRoom;
pub use status::{
    QueueCounters, QueuePhase, QueueState, QueueStatus, MAX_POLL_AFTER_MS, MIN_POLL_AFTER_MS,
};
