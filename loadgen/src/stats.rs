//! What each client measured, merged at the end (no shared locks on the hot path).

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// What the customer does with a hold the service acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Goes on to an order paid through the test gateway.
    Ordered,
    /// Walks away: the hold must expire at its `expires_at` and its tickets return to sale.
    Abandoned,
    /// Keeps it until the end of the run (it expires later, at the event's hold TTL).
    Kept,
}

/// A hold the service acknowledged (201).
#[derive(Debug, Clone)]
pub struct HoldTaken {
    pub hold_id: String,
    pub customer: String,
    pub fate: Fate,
    pub expires_at: Option<OffsetDateTime>,
}

/// An order the service acknowledged (202).
#[derive(Debug, Clone)]
pub struct OrderTaken {
    pub order_id: String,
    pub customer: String,
}

pub struct ClientStats {
    /// Latency of every hold request, in microseconds.
    pub latency_us: Histogram<u64>,
    /// Answers by outcome: `201`, `409 sold_out`, `error: …`.
    pub outcomes: BTreeMap<String, u64>,
    /// Holds the service acknowledged (201).
    pub acked: Vec<HoldTaken>,
    /// Latency of every order request, in microseconds.
    pub order_latency_us: Histogram<u64>,
    /// Orders the service acknowledged (202).
    pub orders: Vec<OrderTaken>,
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
