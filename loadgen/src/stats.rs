//! What each client measured, merged at the end (no shared locks on the hot path).

use hdrhistogram::Histogram;
use std::collections::BTreeMap;

pub struct ClientStats {
    /// Latency of every hold request, in microseconds.
    pub latency_us: Histogram<u64>,
    /// Answers by outcome: `201`, `409 sold_out`, `error: …`.
    pub outcomes: BTreeMap<String, u64>,
    /// Hold ids the service acknowledged (201).
    pub acked: Vec<String>,
    /// Latency of every order request, in microseconds.
    pub order_latency_us: Histogram<u64>,
    /// Order ids the service acknowledged (202).
    pub orders: Vec<String>,
    /// Retries with the same key whose answer differed from the first.
    pub retry_mismatches: Vec<String>,
}

impl ClientStats {
    pub fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
            outcomes: BTreeMap::new(),
            acked: Vec::new(),
            order_latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
            orders: Vec::new(),
            retry_mismatches: Vec::new(),
        }
    }

    pub fn count(&mut self, outcome: String) {
        *self.outcomes.entry(outcome).or_default() += 1;
    }

    pub fn merge(&mut self, other: ClientStats) {
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms with the same bounds");
        for (outcome, n) in other.outcomes {
            *self.outcomes.entry(outcome).or_default() += n;
        }
        self.acked.extend(other.acked);
        self.order_latency_us
            .add(&other.order_latency_us)
            .expect("histograms with the same bounds");
        self.orders.extend(other.orders);
        self.retry_mismatches.extend(other.retry_mismatches);
    }
}
