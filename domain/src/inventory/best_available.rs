//! Best available: which adjacent seats a quantity hold gets in a seated section.
//!
//! A block is `quantity` adjacent free seats in one row. The rules, in order:
//! 1. never leave a single orphan seat (a free run of exactly one seat beside the block, in the
//!    block's own free run) when any block anywhere leaves none;
//! 2. the earliest row (the first row is the best);
//! 3. the block whose centre is nearest the row's centre;
//! 4. the lowest seat number.
//!
//! Cost: rows whose free count is below the quantity are skipped unseen; a visited row is one scan
//! of its seats, and each free run of it is judged in constant time (see `best_in_run`). The search
//! stops at the first row with a block that orphans nothing.

/// A seated section as the search sees it at some `now`.
pub(super) trait SeatMap {
    fn rows(&self) -> usize;
    fn seats_in_row(&self, row: usize) -> usize;
    /// The free seats of a row: a row with fewer than the quantity is skipped unseen.
    fn free_in_row(&self, row: usize) -> usize;
    fn is_free(&self, row: usize, seat: usize) -> bool;
}

/// `len` adjacent seats of one row, from the 0-based seat index `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Block {
    pub row: usize,
    pub first: usize,
    pub len: usize,
}

/// A candidate start in one row, ordered by how well it is placed: distance to the centre, then
/// the lowest seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Placement {
    /// Twice the distance between the block's centre and the row's centre (an integer).
    off_centre: usize,
    first: usize,
}

/// The best block of `quantity` seats, or `None` when no row has that many adjacent free seats.
pub(super) fn best_available(map: &impl SeatMap, quantity: usize) -> Option<Block> {
    if quantity == 0 {
        return None;
    }
    let mut orphaning: Option<Block> = None;
    for row in 0..map.rows() {
        if map.free_in_row(row) < quantity {
            continue;
        }
        let (clean, orphan) = best_in_row(map, row, quantity, orphaning.is_none());
        if let Some(p) = clean {
            return Some(Block {
                row,
                first: p.first,
                len: quantity,
            });
        }
        if orphaning.is_none() {
            orphaning = orphan.map(|p| Block {
                row,
                first: p.first,
                len: quantity,
            });
        }
    }
    orphaning
}

/// The best placement in one row that orphans no seat, and the best one that does (looked for
/// only while `want_orphaning`: once an earlier row has one, only a clean block can do better).
fn best_in_row(
    map: &impl SeatMap,
    row: usize,
    quantity: usize,
    want_orphaning: bool,
) -> (Option<Placement>, Option<Placement>) {
    let seats = map.seats_in_row(row);
    let (mut clean, mut orphan) = (None::<Placement>, None::<Placement>);
    let mut seat = 0;
    while seat < seats {
        if !map.is_free(row, seat) {
            seat += 1;
            continue;
        }
        let run_start = seat;
        while seat < seats && map.is_free(row, seat) {
            seat += 1;
        }
        let run = seat - run_start;
        // A run of exactly quantity + 1 seats leaves one alone whatever the block does.
        if run < quantity || (run == quantity + 1 && !want_orphaning) {
            continue;
        }
        let (run_clean, run_orphan) = best_in_run(seats, run_start, seat, quantity);
        clean = min_placement(clean, run_clean);
        orphan = min_placement(orphan, run_orphan);
    }
    (clean, orphan)
}

/// The best placements of a block inside the free run `start..end` of a row of `seats` seats.
///
/// The block may start anywhere in `lo..=hi`; the distance to the centre is V-shaped in the start,
/// and at most two starts orphan a seat (`lo + 1` and `hi - 1`). So the best start of either kind
/// is within three places of the ideal start or of an end of the range: checking those few
/// candidates is exact, whatever the length of the run.
fn best_in_run(
    seats: usize,
    start: usize,
    end: usize,
    quantity: usize,
) -> (Option<Placement>, Option<Placement>) {
    let (lo, hi) = (start, end - quantity);
    let ideal = (seats - quantity) / 2;
    let near_ideal = ideal.saturating_sub(3).clamp(lo, hi)..=(ideal + 3).clamp(lo, hi);
    let near_ends = [
        lo,
        lo + 1,
        lo + 2,
        hi.saturating_sub(2),
        hi.saturating_sub(1),
        hi,
    ];
    let (mut clean, mut orphan) = (None, None);
    for first in near_ideal.chain(near_ends) {
        if first < lo || first > hi {
            continue;
        }
        let placement = Placement {
            // Seats first+1 ..= first+quantity (1-based) centre on first + (quantity+1)/2; the row
            // centres on (seats+1)/2. Doubled, both are integers.
            off_centre: (2 * first + quantity).abs_diff(seats),
            first,
        };
        let leaves_orphan = first - lo == 1 || hi - first == 1;
        if leaves_orphan {
            orphan = min_placement(orphan, Some(placement));
        } else {
            clean = min_placement(clean, Some(placement));
        }
    }
    (clean, orphan)
}

fn min_placement(a: Option<Placement>, b: Option<Placement>) -> Option<Placement> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Rows drawn as text: `.` free, `x` taken.
    struct Drawn(Vec<Vec<bool>>);

    fn rows(drawn: &[&str]) -> Drawn {
        Drawn(
            drawn
                .iter()
                .map(|r| r.chars().map(|c| c == '.').collect())
                .collect(),
        )
    }

    impl SeatMap for Drawn {
        fn rows(&self) -> usize {
            self.0.len()
        }
        fn seats_in_row(&self, row: usize) -> usize {
            self.0[row].len()
        }
        fn free_in_row(&self, row: usize) -> usize {
            self.0[row].iter().filter(|f| **f).count()
        }
        fn is_free(&self, row: usize, seat: usize) -> bool {
            self.0[row][seat]
        }
    }

    /// The chosen block drawn back into its row, as `o`: easy to read in a failing assertion.
    fn pick(drawn: &[&str], quantity: usize) -> Option<(usize, String)> {
        let block = best_available(&rows(drawn), quantity)?;
        let mut row: Vec<char> = drawn[block.row].chars().collect();
        for seat in &mut row[block.first..block.first + block.len] {
            assert_eq!(*seat, '.', "picked a taken seat");
            *seat = 'o';
        }
        Some((block.row, row.into_iter().collect()))
    }

    #[test]
    fn an_empty_row_gets_its_centre() {
        assert_eq!(pick(&["........"], 2), Some((0, "...oo...".into())));
        assert_eq!(pick(&["........."], 3), Some((0, "...ooo...".into())));
    }

    #[test]
    fn a_tie_around_the_centre_goes_to_the_lower_seat() {
        assert_eq!(pick(&["........."], 2), Some((0, "...oo....".into())));
    }

    #[test]
    fn the_first_row_wins_over_a_better_centred_block_behind_it() {
        assert_eq!(
            pick(&["..xxxxxx", "........"], 2),
            Some((0, "ooxxxxxx".into()))
        );
    }

    #[test]
    fn full_rows_and_short_runs_are_passed_over() {
        assert_eq!(
            pick(&["xxxxxxxx", ".x.x.x.x", "xxx...xx"], 3),
            Some((2, "xxxoooxx".into()))
        );
    }

    #[test]
    fn a_block_never_leaves_one_seat_alone_in_its_run() {
        // Centred would be .ooooo.: it orphans both end seats. Sliding to an end orphans none (and
        // of the two ends, equally far from the centre, the lower seats win).
        assert_eq!(pick(&["......."], 5), Some((0, "ooooo..".into())));
        // In a run of three, a pair always orphans one: the later row's clean block wins.
        assert_eq!(
            pick(&["x...xxxx", "xxxx..xx"], 2),
            Some((1, "xxxxooxx".into()))
        );
    }

    #[test]
    fn an_orphan_is_accepted_only_when_every_block_makes_one() {
        assert_eq!(pick(&["x...x", "xx..."], 2), Some((0, "xoo.x".into())));
    }

    #[test]
    fn no_row_with_enough_adjacent_seats_means_none() {
        assert_eq!(pick(&["..x..", ".x.x."], 3), None);
        assert_eq!(pick(&["....."], 0), None);
    }

    #[test]
    fn runs_longer_than_the_block_take_the_spot_nearest_the_centre() {
        // Free 1-3 and 6-10 of ten seats. The run 1-3 can only orphan; in 6-10 the pair 6-7 is
        // nearest the centre without orphaning (7-8 would leave seat 6 alone).
        assert_eq!(pick(&["...xx....."], 2), Some((0, "...xxoo...".into())));
    }

    /// The rules written the slow, obvious way: every block of every row.
    fn naive(map: &Drawn, q: usize) -> Option<Block> {
        let mut best: Option<(bool, usize, usize, usize)> = None; // (orphans, row, off, first)
        for (r, row) in map.0.iter().enumerate() {
            let n = row.len();
            for first in 0..n.saturating_sub(q - 1) {
                if !row[first..first + q].iter().all(|f| *f) {
                    continue;
                }
                let free_left = (0..first).rev().take_while(|&s| row[s]).count();
                let free_right = (first + q..n).take_while(|&s| row[s]).count();
                let orphans = free_left == 1 || free_right == 1;
                let key = (orphans, r, (2 * first + q).abs_diff(n), first);
                if best.is_none_or(|b| key < b) {
                    best = Some(key);
                }
            }
        }
        best.map(|(_, row, _, first)| Block { row, first, len: q })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn agrees_with_the_naive_search(
            drawn in prop::collection::vec(prop::collection::vec(any::<bool>(), 1..24), 1..5),
            q in 1usize..6,
        ) {
            let map = Drawn(drawn);
            prop_assert_eq!(best_available(&map, q), naive(&map, q));
        }
    }
}
