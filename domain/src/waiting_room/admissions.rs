//! Every admission ever made, in the order made, and how many of them are live at a time.
//!
//! Admissions are recorded in order of `admitted_at` (the room's clock never runs backwards, see
//! `WaitingRoom::clock`) with one TTL, so `admitted_until` is in order too: the admissions that
//! expired by `now` are a prefix, found by binary search. Those that ended early (an order
//! confirmed, the customer left) are counted in a Fenwick tree, so the live count at any `now` is
//! O(log n) without a sweep: lazy expiry, like inventory holds.

use super::fenwick::Fenwick;
use crate::Timestamp;
use time::Duration;

/// Why an admission stopped counting against `max_active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    Expired,
    OrderConfirmed,
    Left,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Admission {
    /// The customer's slot in the line (their join index).
    pub(super) slot: usize,
    pub(super) admitted_at: Timestamp,
    pub(super) admitted_until: Timestamp,
    pub(super) ended: Option<Ended>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Admissions {
    records: Vec<Admission>,
    /// 1 for every admission that ended, whatever the reason.
    ended_count: Fenwick,
    /// Every admission below this one ended: where the next sweep for expiries starts.
    swept: usize,
}

impl Admissions {
    pub(super) fn total(&self) -> u64 {
        self.records.len() as u64
    }

    pub(super) fn get(&self, seq: usize) -> &Admission {
        &self.records[seq]
    }

    /// Record an admission; returns its sequence number.
    pub(super) fn push(&mut self, slot: usize, admitted_at: Timestamp, until: Timestamp) -> usize {
        self.records.push(Admission {
            slot,
            admitted_at,
            admitted_until: until,
            ended: None,
        });
        self.ended_count.push(0);
        self.records.len() - 1
    }

    /// The admission stopped counting; a second end changes nothing.
    pub(super) fn end(&mut self, seq: usize, why: Ended) {
        if self.records[seq].ended.is_none() {
            self.records[seq].ended = Some(why);
            self.ended_count.add(seq, 1);
            while self.swept < self.records.len() && self.records[self.swept].ended.is_some() {
                self.swept += 1;
            }
        }
    }

    /// Admissions still live at `now`: not ended, and `admitted_until` later than `now`.
    pub(super) fn live_at(&self, now: Timestamp) -> u64 {
        let first_unexpired = self.records.partition_point(|a| a.admitted_until <= now);
        let unexpired = self.records.len() - first_unexpired;
        let ended = self.ended_count.range(first_unexpired, self.records.len()) as usize;
        (unexpired - ended) as u64
    }

    /// Admissions made in the minute up to `now`: at times in `(now - 60 s, now]`.
    pub(super) fn made_in_the_minute_to(&self, now: Timestamp) -> u64 {
        let minute_ago = now - Duration::MINUTE;
        let before = self
            .records
            .partition_point(|a| a.admitted_at <= minute_ago);
        (self.records.len() - before) as u64
    }

    /// The sequence numbers of the admissions that expired by `now` and are not recorded as ended,
    /// oldest first. Costs the number of admissions due since the last sweep.
    pub(super) fn due_at(&self, now: Timestamp) -> impl Iterator<Item = usize> + '_ {
        (self.swept..self.records.len())
            .take_while(move |&seq| self.records[seq].admitted_until <= now)
            .filter(|&seq| self.records[seq].ended.is_none())
    }
}
