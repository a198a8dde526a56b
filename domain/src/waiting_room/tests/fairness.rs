//! Fairness, measured: where a customer joined the prequeue tells nothing about their place after
//! the shuffle, and after the opening the line is first come, first served. Seeds are fixed, so the
//! numbers are the same on every run (they are printed with `--nocapture`, and recorded in
//! docs/DECISIONS.md).
//!
//! Under a uniform shuffle of n = 100,000, Spearman's rho between join order and rank has a
//! standard deviation of 1/√(n-1) ≈ 0.0032: |rho| < 0.01 is a bound a fair shuffle misses about
//! once in 600 seeds, and one that a shuffle leaning towards early joiners by a percent fails.

use crate::waiting_room::statistics::{bucket_table, chi_square, kendall_tau, spearman_rho};

/// The upper 1 % point of chi-square with 81 degrees of freedom (a 10 × 10 table).
const CHI2_81_DF_AT_1_PERCENT: f64 = 113.5;
use super::*;
use crate::waiting_room::{decide, evolve, shuffled_order};

const CROWD: usize = 100_000;

/// The prequeue of `n` customers in known order, shuffled at the opening through the decider;
/// returns the rank (0-based place in line) of each join index.
fn ranks_after_the_shuffle(n: usize, seed: ShuffleSeed) -> Vec<usize> {
    let mut state = state_after(config(60_000, None), []);
    for i in 0..n {
        let when = at(-3_000) + Duration::milliseconds(i as i64);
        state = evolve(state, &joined_prequeue(&nth(i), when));
    }
    let events = decide(&state, &WaitingRoomCommand::ShufflePrequeue { seed }, at(0)).unwrap();
    let state = events.iter().fold(state, evolve);
    (0..n)
        .map(|i| {
            state
                .status(&nth(i), at(0), None)
                .unwrap()
                .position
                .unwrap() as usize
                - 1
        })
        .collect()
}

#[test]
fn the_rank_after_the_shuffle_is_independent_of_the_join_order() {
    let ranks = ranks_after_the_shuffle(CROWD, seed(2030));
    let join_order: Vec<usize> = (0..CROWD).collect();
    let rho = spearman_rho(&join_order, &ranks);
    let table = bucket_table(ranks.iter().copied().enumerate(), CROWD, 10);
    let (chi2, _) = chi_square(&table);
    eprintln!("prequeue of {CROWD}, seed 2030: Spearman rho = {rho:.5}, chi2 (81 df) = {chi2:.2}");
    assert!(rho.abs() < 0.01, "rho = {rho}");
    assert!(chi2 < CHI2_81_DF_AT_1_PERCENT, "chi2 = {chi2}");
    let mut sorted = ranks;
    sorted.sort_unstable();
    assert_eq!(sorted, join_order, "the shuffle is not a permutation");
}

#[test]
fn other_seeds_are_as_fair() {
    // The same measures for the next seeds, straight from the shuffle: not one lucky seed.
    for n in 1..=4 {
        let order = shuffled_order(CROWD, &seed(n));
        let mut ranks = vec![0; CROWD];
        for (rank, &joined) in order.iter().enumerate() {
            ranks[joined] = rank;
        }
        let join_order: Vec<usize> = (0..CROWD).collect();
        let rho = spearman_rho(&join_order, &ranks);
        let (chi2, _) = chi_square(&bucket_table(ranks.iter().copied().enumerate(), CROWD, 10));
        eprintln!(
            "prequeue of {CROWD}, seed {n}: Spearman rho = {rho:.5}, chi2 (81 df) = {chi2:.2}"
        );
        assert!(rho.abs() < 0.01, "seed {n}: rho = {rho}");
        assert!(chi2 < CHI2_81_DF_AT_1_PERCENT, "seed {n}: chi2 = {chi2}");
    }
}

#[test]
fn every_joiner_of_a_small_prequeue_is_equally_likely_at_every_place() {
    // Ten customers, 20,000 seeds: how often the j-th joiner lands at place r. A fair shuffle puts
    // each of them at each place 2,000 times, give or take chance.
    const SEEDS: u64 = 20_000;
    let mut table = vec![vec![0u64; 10]; 10];
    for n in 0..SEEDS {
        for (rank, &joined) in shuffled_order(10, &seed(1_000_000 + n)).iter().enumerate() {
            table[joined][rank] += 1;
        }
    }
    let (chi2, _) = chi_square(&table);
    eprintln!("prequeue of 10 over {SEEDS} seeds: chi2 (81 df) = {chi2:.2}");
    assert!(chi2 < CHI2_81_DF_AT_1_PERCENT, "chi2 = {chi2}");
}

#[test]
fn after_the_opening_the_line_is_first_come_first_served() {
    // A prequeue of 1,000, then 5,000 joiners after the opening; some leave, some are admitted.
    let mut state = state_after(config(600, None), []);
    let mut log = Vec::new();
    for i in 0..1_000 {
        state = step(
            state,
            &join(&customer(&format!("early{i}"))),
            at(-100),
            &mut log,
        );
    }
    state = step(
        state,
        &WaitingRoomCommand::ShufflePrequeue { seed: seed(7) },
        at(0),
        &mut log,
    );
    for i in 0..5_000 {
        let when = at_ms(i as i64 * 10);
        state = step(state, &join(&nth(i)), when, &mut log);
        if i % 97 == 0 {
            state = step(state, &leave(&nth(i / 2)), when, &mut log);
        }
        if i % 10 == 0 {
            state = step(state, &WaitingRoomCommand::Admit, when, &mut log);
        }
    }
    // A sample: every fifth late joiner still waiting, join order against position.
    let pairs: Vec<(u64, u64)> = (0..5_000)
        .step_by(5)
        .filter_map(|i| {
            let status = state.status(&nth(i), at(60), None)?;
            status.position.map(|position| (i as u64, position))
        })
        .collect();
    assert!(pairs.len() > 800, "only {} still waiting", pairs.len());
    let tau = kendall_tau(&pairs);
    eprintln!(
        "{} late joiners sampled: Kendall tau = {tau:.4}",
        pairs.len()
    );
    assert!(tau >= 0.99, "tau = {tau}");
    // Everyone early stands ahead of everyone late.
    let last_early = (0..1_000)
        .filter_map(|i| {
            state
                .status(&customer(&format!("early{i}")), at(60), None)?
                .position
        })
        .max()
        .unwrap_or(0);
    assert!(pairs.iter().all(|&(_, position)| position > last_early));
}
