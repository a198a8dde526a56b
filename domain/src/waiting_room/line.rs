//! The line: every customer who joined, in the order they will be let in, with the places that
//! are gone (customers who left before their turn) counted so that "how many are ahead of me" is
//! O(log n) for millions of people.
//!
//! Indexes `0..prequeue_len` are the prequeue: in join order until the shuffle, in the shuffled
//! order after. Customers who join after the sale opened are appended behind them. Everyone below
//! `front` was admitted or is gone; from `front` on, everyone not gone is waiting, in order.

use super::fenwick::Fenwick;
use super::{shuffled_order, ShuffleSeed};
use crate::ids::CustomerId;

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Line {
    customers: Vec<CustomerId>,
    prequeue_len: usize,
    /// The seed the prequeue was shuffled with, once it was.
    shuffled_with: Option<ShuffleSeed>,
    /// Whether the customer at an index left before being admitted; `gone_count` counts the same.
    gone: Vec<bool>,
    gone_count: Fenwick,
    /// The index of the next customer to admit.
    front: usize,
}

impl Line {
    pub(super) fn len(&self) -> usize {
        self.customers.len()
    }

    pub(super) fn customer(&self, index: usize) -> &CustomerId {
        &self.customers[index]
    }

    pub(super) fn prequeue_len(&self) -> usize {
        self.prequeue_len
    }

    pub(super) fn shuffled_with(&self) -> Option<&ShuffleSeed> {
        self.shuffled_with.as_ref()
    }

    /// True while the index is in a prequeue that has not been shuffled.
    pub(super) fn in_unshuffled_prequeue(&self, index: usize) -> bool {
        self.shuffled_with.is_none() && index < self.prequeue_len
    }

    /// The prequeue takes joiners only until anyone joined the line behind it or it was shuffled.
    pub(super) fn prequeue_is_open(&self) -> bool {
        self.shuffled_with.is_none() && self.customers.len() == self.prequeue_len
    }

    /// Append a joiner; returns their index.
    pub(super) fn push(&mut self, customer: CustomerId, into_prequeue: bool) -> usize {
        let index = self.customers.len();
        if into_prequeue && self.prequeue_is_open() {
            self.prequeue_len += 1;
        }
        self.customers.push(customer);
        self.gone.push(false);
        self.gone_count.push(0);
        index
    }

    /// Put the prequeue in the seed's order. Returns the customers of the prequeue with their new
    /// indexes, for the caller's index of places.
    pub(super) fn shuffle(
        &mut self,
        seed: ShuffleSeed,
    ) -> impl Iterator<Item = (usize, &CustomerId)> {
        let order = shuffled_order(self.prequeue_len, &seed);
        let customers: Vec<CustomerId> = order.iter().map(|&j| self.customers[j].clone()).collect();
        let gone: Vec<bool> = order.iter().map(|&j| self.gone[j]).collect();
        self.customers.splice(0..self.prequeue_len, customers);
        self.gone.splice(0..self.prequeue_len, gone);
        self.gone_count = Fenwick::from_counts(self.gone.iter().map(|&g| u32::from(g)));
        self.shuffled_with = Some(seed);
        self.skip_gone();
        self.customers[..self.prequeue_len].iter().enumerate()
    }

    /// The customer at `index` left before their turn.
    pub(super) fn mark_gone(&mut self, index: usize) {
        if !self.gone[index] {
            self.gone[index] = true;
            self.gone_count.add(index, 1);
            self.skip_gone();
        }
    }

    /// The customer at `index` was admitted: the front moves behind them.
    pub(super) fn admitted(&mut self, index: usize) {
        self.front = self.front.max(index + 1);
        self.skip_gone();
    }

    fn skip_gone(&mut self) {
        if self.shuffled_with.is_none() {
            // Before the shuffle the front stays at 0: nobody is admitted from a prequeue.
            return;
        }
        while self.front < self.customers.len() && self.gone[self.front] {
            self.front += 1;
        }
    }

    /// How many are waiting ahead of the waiting customer at `index`, in O(log n).
    pub(super) fn ahead_of(&self, index: usize) -> u64 {
        let between = index.saturating_sub(self.front);
        (between - self.gone_count.range(self.front, index) as usize) as u64
    }

    /// The indexes of the next `count` waiting customers (fewer if fewer wait), front first.
    /// Costs `count` plus the gone places it steps over.
    pub(super) fn next_waiting(&self, count: usize) -> impl Iterator<Item = usize> + '_ {
        (self.front..self.customers.len())
            .filter(|&index| !self.gone[index])
            .take(count)
    }
}
