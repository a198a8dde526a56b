//! Fairness, measured on the queue stream after the opening. The room's facts are folded with the
//! domain's own `evolve` into the line the service serves from; then:
//!
//! - the prequeue (customers in the order their joins were stored) against their places in the
//!   line: Spearman's rho (goal |rho| < 0.01) and the chi-square of join decile × place decile
//!   (goal p > 0.01);
//! - the line recomputed from the recorded seed (`shuffle_prequeue`) must be the line served;
//! - late joiners' join order against their places: Kendall's tau (goal ≥ 0.99);
//! - admissions must follow the line (a violation otherwise).

use domain::ids::CustomerId;
use domain::waiting_room::statistics::{
    bucket_table, chi_square, chi_square_p_value, kendall_tau, spearman_rho,
};
use domain::waiting_room::{evolve, shuffle_prequeue, JoinedQueue, WaitingRoom, WaitingRoomEvent};
use serde::Serialize;
use std::collections::HashMap;

/// The most late joiners Kendall's tau is computed on (it is O(n²)); more are sampled evenly.
const TAU_SAMPLE: usize = 4_000;

#[derive(Debug, Default, Serialize)]
pub struct Fairness {
    pub prequeue: u64,
    pub spearman_rho: Option<f64>,
    pub chi_square: Option<f64>,
    pub chi_square_df: Option<u32>,
    pub chi_square_p: Option<f64>,
    /// |rho| < 0.01 and p > 0.01 (judged from 10,000 in the prequeue: below that one standard
    /// deviation of rho, 1/√n, is over 0.01).
    pub prequeue_goal_met: Option<bool>,
    pub late_joiners: u64,
    pub kendall_tau: Option<f64>,
    pub tau_sampled: u64,
    pub violations: Vec<String>,
}

pub fn measure(facts: &[WaitingRoomEvent]) -> Fairness {
    let mut fairness = Fairness::default();
    let room = facts.iter().fold(WaitingRoom::default(), evolve);
    if !room.is_shuffled() {
        return fairness;
    }
    let line: Vec<&CustomerId> = room.line_order().collect();
    let place: HashMap<&CustomerId, usize> =
        line.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let joined = |which: JoinedQueue| -> Vec<&CustomerId> {
        facts
            .iter()
            .filter_map(|f| match f {
                WaitingRoomEvent::CustomerJoined {
                    customer_id, queue, ..
                } if *queue == which => Some(customer_id),
                _ => None,
            })
            .collect()
    };
    let prequeue = joined(JoinedQueue::Prequeue);
    let late = joined(JoinedQueue::Line);
    fairness.prequeue = prequeue.len() as u64;
    fairness.late_joiners = late.len() as u64;

    let seed = facts.iter().find_map(|f| match f {
        WaitingRoomEvent::PrequeueShuffled { seed, .. } => Some(*seed),
        _ => None,
    });
    if let Some(seed) = seed {
        let drawn = shuffle_prequeue(&prequeue, &seed);
        if drawn.iter().zip(&line).any(|(a, b)| a != b) {
            fairness
                .violations
                .push("the line served is not the draw recomputed from the recorded seed".into());
        }
    }
    let n = prequeue.len();
    if n >= 2 {
        let join_order: Vec<usize> = (0..n).collect();
        let ranks: Vec<usize> = prequeue.iter().map(|c| place[c]).collect();
        let rho = spearman_rho(&join_order, &ranks);
        fairness.spearman_rho = Some(rho);
        // At least five expected in each cell of the table.
        let buckets = if n >= 500 {
            10
        } else {
            ((n / 5) as f64).sqrt() as usize
        };
        if buckets >= 2 {
            let table = bucket_table(ranks.iter().copied().enumerate(), n, buckets);
            let (chi2, df) = chi_square(&table);
            let p = chi_square_p_value(chi2, df);
            fairness.chi_square = Some(chi2);
            fairness.chi_square_df = Some(df);
            fairness.chi_square_p = Some(p);
            if n >= 10_000 {
                fairness.prequeue_goal_met = Some(rho.abs() < 0.01 && p > 0.01);
            }
        }
    }
    if late.len() >= 2 {
        let step = late.len().div_ceil(TAU_SAMPLE);
        let pairs: Vec<(u64, u64)> = late
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, c)| (i as u64, place[c] as u64))
            .collect();
        fairness.tau_sampled = pairs.len() as u64;
        fairness.kendall_tau = Some(kendall_tau(&pairs));
    }
    let mut last = None;
    for fact in facts {
        if let WaitingRoomEvent::CustomerAdmitted { customer_id, .. } = fact {
            let at = place.get(customer_id).copied();
            if at.is_none() || at < last {
                fairness
                    .violations
                    .push(format!("{customer_id} admitted out of the line's order"));
            }
            last = at.max(last);
        }
    }
    fairness
}
