//! The benchmark's report: printed for people, written as JSON for machines.

use crate::audit::Audit;
use crate::cli::{Cli, Scenario};
use crate::expiry::AbandonedReport;
use crate::lag::LagSamples;
use crate::read_audit::ReadAudit;
use crate::stats::ClientStats;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl From<&Histogram<u64>> for Latency {
    fn from(h: &Histogram<u64>) -> Self {
        let ms = |v: u64| v as f64 / 1000.0;
        Self {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProjectionLag {
    pub samples: u64,
    pub latency: Latency,
    pub not_caught_up: u64,
    pub failures: u64,
}

/// Orders placed during the sale, their latency and how they settled.
#[derive(Debug, Serialize)]
pub struct OrdersReport {
    pub placed: u64,
    pub latency: Latency,
    pub audit: crate::orders::OrderAudit,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    /// The sale's event, and the inventory shard of its stream subject (which projector
    /// partition applies it: the shard modulo the partitions).
    pub event_id: String,
    pub inventory_shard: u16,
    pub clients: usize,
    pub seconds: f64,
    pub requests: u64,
    pub successful_holds: u64,
    pub holds_per_second: f64,
    pub requests_per_second: f64,
    pub hold_latency: Latency,
    /// From a hold's acknowledgement until query-svc shows it (`?after=`).
    pub projection_lag: Option<ProjectionLag>,
    pub outcomes: BTreeMap<String, u64>,
    pub orders: Option<OrdersReport>,
    /// Holds whose customers walked away: expired and back on sale.
    pub abandoned: Option<AbandonedReport>,
    pub audit: Audit,
    /// The read models (query-svc) against the streams.
    pub read_audit: Option<ReadAudit>,
    /// Live availability streams watched during the sale (`--watchers`).
    pub watchers: Option<crate::watchers::WatchersReport>,
}

impl Report {
    pub fn new(
        cli: &Cli,
        elapsed: Duration,
        stats: &ClientStats,
        hold_latency: Latency,
        lag: Option<&LagSamples>,
    ) -> Self {
        let requests: u64 = stats.outcomes.values().sum();
        let successful_holds = stats.acked.len() as u64;
        let mut audit = Audit::skipped();
        audit
            .violations
            .extend(stats.retry_mismatches.iter().cloned());
        Self {
            scenario: cli.scenario,
            event_id: String::new(),
            inventory_shard: 0,
            clients: cli.clients,
            seconds: elapsed.as_secs_f64(),
            requests,
            successful_holds,
            holds_per_second: successful_holds as f64 / elapsed.as_secs_f64(),
            requests_per_second: requests as f64 / elapsed.as_secs_f64(),
            hold_latency,
            projection_lag: lag.map(|l| ProjectionLag {
                samples: l.micros.len(),
                latency: Latency::from(&l.micros),
                not_caught_up: l.not_caught_up,
                failures: l.failures,
            }),
            outcomes: stats.outcomes.clone(),
            orders: None,
            abandoned: None,
            audit,
            read_audit: None,
            watchers: None,
        }
    }

    /// Violations of every audit.
    pub fn violations(&self) -> u64 {
        self.audit.violations.len() as u64
            + self.read_audit.as_ref().map_or(0, |r| r.violations.total())
            // A live page that saw the numbers go back, or whose stream broke mid-sale.
            + self
                .watchers
                .as_ref()
                .map_or(0, |w| w.out_of_order + w.broken)
    }

    pub fn print(&self) {
        println!();
        println!(
            "  scenario            {:?}, {} clients, {:.1} s",
            self.scenario, self.clients, self.seconds
        );
        println!(
            "  requests            {} ({:.0}/s)",
            self.requests, self.requests_per_second
        );
        println!(
            "  successful holds    {} ({:.0}/s)",
            self.successful_holds, self.holds_per_second
        );
        println!(
            "  hold latency        p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            self.hold_latency.p50_ms,
            self.hold_latency.p95_ms,
            self.hold_latency.p99_ms,
            self.hold_latency.max_ms
        );
        if let Some(lag) = &self.projection_lag {
            println!(
                "  projection lag      p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms ({} samples, {} not caught up)",
                lag.latency.p50_ms, lag.latency.p99_ms, lag.latency.max_ms, lag.samples, lag.not_caught_up
            );
        }
        if let Some(w) = &self.watchers {
            println!(
                "  live streams        {} open ({} refused, {} broken): {} messages, {:.0}/s; delay p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms ({} samples); {} out of order",
                w.opened, w.refused, w.broken, w.messages, w.messages_per_second,
                w.delay.p50_ms, w.delay.p99_ms, w.delay.max_ms, w.delay_samples, w.out_of_order
            );
        }
        println!("  answers             {:?}", self.outcomes);
        if let Some(orders) = &self.orders {
            println!(
                "  orders              {} placed, p50 {:.2} ms  p99 {:.2} ms; settled in {:.1} s: {:?}",
                orders.placed,
                orders.latency.p50_ms,
                orders.latency.p99_ms,
                orders.audit.settle_seconds,
                orders.audit.statuses
            );
        }
        if let Some(ab) = &self.abandoned {
            println!(
                "  abandoned holds     {} ({} tickets): {} expired once each, at most {:.0} ms after expires_at{}",
                ab.holds,
                ab.tickets,
                ab.expired_once,
                ab.max_expiry_delay_ms,
                ab.tickets_returned
                    .map(|t| format!("; {t} tickets available again"))
                    .unwrap_or_default()
            );
        }
        let a = &self.audit;
        if a.checked {
            println!(
                "  commits             {} commits, {} events, {:.1} holds per commit",
                a.commits, a.events, a.holds_per_commit
            );
            println!(
                "  audit               {} holds in the stream, {} acknowledged, {} sold; {}",
                a.holds_in_stream,
                a.acknowledged,
                a.sold,
                if a.violations.is_empty() {
                    "no violations".to_owned()
                } else {
                    format!("{} VIOLATIONS", a.violations.len())
                }
            );
            for v in a.violations.iter().take(10) {
                println!("    ! {v}");
            }
        } else {
            println!("  audit               skipped");
        }
        if let Some(r) = &self.read_audit {
            println!(
                "  read-model audit    at {}: {} sections, {} seats, {} holds, {} orders; {}",
                r.position,
                r.sections,
                r.seats,
                r.holds,
                r.orders,
                if r.violations.is_empty() {
                    "no violations".to_owned()
                } else {
                    format!("{} VIOLATIONS", r.violations.total())
                }
            );
            for (kind, found) in r.violations.iter() {
                println!("    ! {kind} x{}", found.count);
                for example in found.examples.iter().take(3) {
                    println!("        {example}");
                }
            }
        }
    }
}
