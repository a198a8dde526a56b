//! A Fenwick tree (binary indexed tree) of counts: marks at indexes, and how many marks lie in a
//! range, both in O(log n). The line uses it to count the places that are gone between the front
//! and a customer, so that a position is answered in O(log n) for millions of people.

/// Counts over indexes `0..len()`, appended to at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Fenwick {
    /// `tree[k - 1]` holds the sum of the counts at indexes `k - lowbit(k) .. k` (1-based `k`).
    tree: Vec<u32>,
}

fn lowbit(k: usize) -> usize {
    k & k.wrapping_neg()
}

impl Fenwick {
    /// A tree over these counts, in O(n).
    pub(super) fn from_counts(counts: impl IntoIterator<Item = u32>) -> Self {
        let mut tree: Vec<u32> = counts.into_iter().collect();
        for k in 1..=tree.len() {
            let parent = k + lowbit(k);
            if parent <= tree.len() {
                tree[parent - 1] += tree[k - 1];
            }
        }
        Self { tree }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.tree.len()
    }

    /// Append one more index with this count.
    pub(super) fn push(&mut self, count: u32) {
        let k = self.tree.len() + 1;
        // The new node covers `k - lowbit(k) .. k`: the count plus the indexes before it there.
        let covered = self.prefix(k - 1) - self.prefix(k - lowbit(k));
        self.tree.push(count + covered);
    }

    /// Add `delta` to the count at `index` (which must exist).
    pub(super) fn add(&mut self, index: usize, delta: u32) {
        let mut k = index + 1;
        while k <= self.tree.len() {
            self.tree[k - 1] += delta;
            k += lowbit(k);
        }
    }

    /// The sum of the counts at indexes `0..end` (`end` at most `len()`).
    pub(super) fn prefix(&self, end: usize) -> u32 {
        let mut k = end.min(self.tree.len());
        let mut sum = 0;
        while k > 0 {
            sum += self.tree[k - 1];
            k -= lowbit(k);
        }
        sum
    }

    /// The sum of the counts at indexes `start..end`.
    pub(super) fn range(&self, start: usize, end: usize) -> u32 {
        if end <= start {
            return 0;
        }
        self.prefix(end) - self.prefix(start)
    }
}

#[cfg(test)]
mod tests {
    use super::Fenwick;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ranges_are_the_sums_of_their_counts(
            counts in prop::collection::vec(0..3u32, 0..70),
            extra in prop::collection::vec((0..70usize, 1..3u32), 0..20),
        ) {
            // Built at once, or pushed one by one: the same tree.
            let mut tree = Fenwick::default();
            for &c in &counts {
                tree.push(c);
            }
            prop_assert_eq!(&tree, &Fenwick::from_counts(counts.clone()));
            let mut counts = counts;
            for (index, delta) in extra {
                if index < counts.len() {
                    counts[index] += delta;
                    tree.add(index, delta);
                }
            }
            prop_assert_eq!(tree.len(), counts.len());
            for start in 0..=counts.len() {
                for end in start..=counts.len() {
                    let expected: u32 = counts[start..end].iter().sum();
                    prop_assert_eq!(tree.range(start, end), expected);
                }
            }
        }
    }
}
