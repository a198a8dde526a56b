//! The line: every customer who joined, in the order they will be let in, with the places that
//! are gone (customers who left before their turn) counted so that "how many are ahead of me" is
//! O(log n) for millions of people.
//!
//! A customer's slot is their join index, fixed for good. Line indexes `0..prequeue_len` are the
//! prequeue: in join order until the shuffle, in the drawn order after (a permutation of slots,
//! so the shuffle moves no customer id and touches no map). Customers who join after the sale
//! opened are appended behind them, at line index = slot. Everyone below `front` was admitted or is
//! gone; from `front` on, everyone not gone is waiting, in order.

use super::fenwick::Fenwick;
use super::{shuffled_order, ShuffleSeed};
use crate::ids::CustomerId;

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Line {
    /// Every joiner, by slot (join order).
    joined: Vec<CustomerId>,
    prequeue_len: usize,
    /// The seed the prequeue was shuffled with, once it was.
    shuffled_with: Option<ShuffleSeed>,
    /// After the shuffle, `drawn[rank]` is the slot at that rank of the prequeue and
    /// `rank_of[slot]` the reverse; empty before (the identity).
    drawn: Vec<u32>,
    rank_of: Vec<u32>,
    /// Whether the customer at a line index left before being admitted; `gone_count` counts the
    /// same.
    gone: Vec<bool>,
    gone_count: Fenwick,
    /// The line index of the next customer to admit.
    front: usize,
}

impl Line {
    pub(super) fn len(&self) -> usize {
        self.joined.len()
    }

    /// The customer at a line index.
    pub(super) fn customer(&self, index: usize) -> &CustomerId {
        let slot = match self.drawn.get(index) {
            Some(&slot) => slot as usize,
            None => index,
        };
        &self.joined[slot]
    }

    /// The customer who joined in this slot.
    pub(super) fn joiner(&self, slot: usize) -> &CustomerId {
        &self.joined[slot]
    }

    /// Where the customer of a slot stands in the line.
    fn index_of(&self, slot: usize) -> usize {
        match self.rank_of.get(slot) {
            Some(&rank) => rank as usize,
            None => slot,
        }
    }

    pub(super) fn prequeue_len(&self) -> usize {
        self.prequeue_len
    }

    pub(super) fn shuffled_with(&self) -> Option<&ShuffleSeed> {
        self.shuffled_with.as_ref()
    }

    /// True while the slot is in a prequeue that has not been shuffled.
    pub(super) fn in_unshuffled_prequeue(&self, slot: usize) -> bool {
        self.shuffled_with.is_none() && slot < self.prequeue_len
    }

    /// The prequeue takes joiners only until anyone joined the line behind it or it was shuffled.
    pub(super) fn prequeue_is_open(&self) -> bool {
        self.shuffled_with.is_none() && self.joined.len() == self.prequeue_len
    }

    /// Append a joiner; returns their slot.
    pub(super) fn push(&mut self, customer: CustomerId, into_prequeue: bool) -> usize {
        let slot = self.joined.len();
        if into_prequeue && self.prequeue_is_open() {
            self.prequeue_len += 1;
        }
        self.joined.push(customer);
        self.gone.push(false);
        self.gone_count.push(0);
        slot
    }

    /// Put the first `len` joiners of the prequeue in the seed's order; any later prequeue joiner
    /// becomes a joiner of the line (line index = slot). O(n) on arrays of integers.
    pub(super) fn shuffle(&mut self, len: usize, seed: ShuffleSeed) {
        self.prequeue_len = len.min(self.prequeue_len);
        let drawn = shuffled_order(self.prequeue_len, &seed);
        let mut rank_of = vec![0u32; drawn.len()];
        for (rank, &slot) in drawn.iter().enumerate() {
            rank_of[slot] = rank as u32;
        }
        let gone: Vec<bool> = drawn.iter().map(|&slot| self.gone[slot]).collect();
        self.gone.splice(0..gone.len(), gone);
        self.gone_count = Fenwick::from_counts(self.gone.iter().map(|&g| u32::from(g)));
        self.drawn = drawn.into_iter().map(|slot| slot as u32).collect();
        self.rank_of = rank_of;
        self.shuffled_with = Some(seed);
        self.skip_gone();
    }

    /// The customer of `slot` left before their turn.
    pub(super) fn mark_gone(&mut self, slot: usize) {
        let index = self.index_of(slot);
        if !self.gone[index] {
            self.gone[index] = true;
            self.gone_count.add(index, 1);
            self.skip_gone();
        }
    }

    /// The customer of `slot` was admitted: the front moves behind them.
    pub(super) fn admitted(&mut self, slot: usize) {
        self.front = self.front.max(self.index_of(slot) + 1);
        self.skip_gone();
    }

    fn skip_gone(&mut self) {
        if self.shuffled_with.is_none() {
            // Before the shuffle the front stays at 0: nobody is admitted from a prequeue.
            return;
        }
        while self.front < self.joined.len() && self.gone[self.front] {
            self.front += 1;
        }
    }

    /// How many are waiting (or in the prequeue) ahead of the waiting customer of `slot`, in
    /// O(log n).
    pub(super) fn ahead_of(&self, slot: usize) -> u64 {
        let index = self.index_of(slot);
        let between = index.saturating_sub(self.front);
        (between - self.gone_count.range(self.front, index) as usize) as u64
    }

    /// The line indexes of the next `count` waiting customers (fewer if fewer wait), front first.
    /// Costs `count` plus the gone places it steps over.
    pub(super) fn next_waiting(&self, count: usize) -> impl Iterator<Item = usize> + '_ {
        (self.front..self.joined.len())
            .filter(|&index| !self.gone[index])
            .take(count)
    }
}
