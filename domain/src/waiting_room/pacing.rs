//! How many customers may be let in at `now`: admissions spread evenly at `admit_per_minute`,
//! never a minute's worth at once.
//!
//! Each admission takes the next slot of a schedule spaced `60 s / admit_per_minute` apart; an
//! admission is never made before its slot. The schedule starts with the first admission (no burst
//! at the opening) and may fall behind `now` by at most [`PACING_CATCH_UP`] (or one slot, if
//! slots are further apart): a late admitter tick catches up, so the rate is kept exactly, and a
//! line that was empty for a while gets that much at once, not the whole idle time. On top of the
//! schedule, a hard cap: no more than `admit_per_minute` admissions in any 60 s, counted from the
//! recorded admissions.

use super::WaitingRoom;
use crate::Timestamp;
use time::Duration;

/// How far behind `now` the schedule may be when admissions resume: more than an admitter tick
/// (at most a second, usually one slot), so a late tick loses nothing. A batch is at most
/// `max(2, 0.5 s / interval)` admissions.
pub const PACING_CATCH_UP: Duration = Duration::milliseconds(500);

/// The schedule's next free slot, folded from the `CustomerAdmitted` facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Pacing {
    next_slot: Option<Timestamp>,
}

impl Pacing {
    /// The first slot an admission at `now` would take: `now` for the very first, else the next
    /// free one, or the earliest that keeps the slots due at `now` within one catch-up's worth
    /// (those in `(now - 0.5 s, now]`, or one slot, in `(now - interval, now]`, for wider slots).
    fn first_slot(&self, now: Timestamp, interval: Duration) -> Timestamp {
        let earliest = now - (PACING_CATCH_UP - interval).max(interval - Duration::NANOSECOND);
        self.next_slot.map_or(now, |slot| slot.max(earliest))
    }

    /// How many slots are due at `now` with this spacing.
    pub(super) fn slots_due(&self, now: Timestamp, interval: Duration) -> u64 {
        let first = self.first_slot(now, interval);
        if first > now {
            return 0;
        }
        let behind = (now - first).whole_nanoseconds();
        (behind / interval.whole_nanoseconds()) as u64 + 1
    }

    /// An admission at `at` took the first due slot.
    pub(super) fn admitted(&mut self, at: Timestamp, interval: Duration) {
        self.next_slot = Some(self.first_slot(at, interval) + interval);
    }
}

impl WaitingRoom {
    /// How many customers the rules let in at `now`, if that many were waiting: the pacing slots
    /// due, within `admit_per_minute` per 60 s and the room left under `max_active`. 0 before the
    /// sale opens, when closed or unconfigured.
    pub fn admissible(&self, now: Timestamp) -> u64 {
        let now = self.clock(now);
        let Some(config) = &self.config else { return 0 };
        if now < config.sale_opens_at() || self.closed.is_some() {
            return 0;
        }
        let slots_due = self.pacing.slots_due(now, config.admission_interval());
        let by_minute = u64::from(config.admit_per_minute())
            .saturating_sub(self.admissions.made_in_the_minute_to(now));
        let live = self.admissions.live_at(now);
        let by_active = config
            .max_active()
            .map_or(u64::MAX, |max| u64::from(max).saturating_sub(live));
        slots_due.min(by_minute).min(by_active)
    }
}
