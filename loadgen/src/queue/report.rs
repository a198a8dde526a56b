//! The waiting-room sale's report: printed for people, written as JSON for machines, next to the
//! plain sale's report (holds, orders and their audits) of the same run.

use super::fairness::Fairness;
use super::flood::FloodReport;
use super::monitor::CountersSeen;
use super::stream_audit::StreamAudit;
use crate::report::{Latency, Report};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct QueueReport {
    pub event_id: String,
    pub buyers: usize,
    pub late_buyers: usize,
    pub stream_followers: usize,
    pub joins: JoinsReport,
    pub following: FollowingReport,
    pub admissions: AdmissionsReport,
    pub time_in_queue: Latency,
    /// From the later of the join and the opening to the admission seen.
    pub wait_after_open: Latency,
    pub command_side: CommandSide,
    pub counters: CountersSeen,
    pub stream_audit: StreamAudit,
    pub fairness: Fairness,
    pub poll_flood: Option<FloodReport>,
    /// Holds, orders and the audits of the plain sale (absent with `--join-only`).
    pub sale: Option<Report>,
    /// Invariants the buyers' own answers break (holds refused while seats lasted, …).
    pub violations: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct JoinsReport {
    pub acknowledged: u64,
    /// The prequeue's join burst: its joins, its length and their rate.
    pub burst_joins: u64,
    pub burst_seconds: f64,
    pub per_second: f64,
    pub latency: Latency,
    pub outcomes: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct FollowingReport {
    pub polls: u64,
    pub polls_per_second: f64,
    pub poll_failures: u64,
    pub streams_opened: u64,
    pub stream_messages: u64,
}

#[derive(Debug, Serialize)]
pub struct AdmissionsReport {
    pub configured_per_minute: u32,
    /// Admissions buyers saw, and the buyers still waiting when the sale ended.
    pub seen: u64,
    pub gave_up: u64,
    pub max_active: u32,
    pub max_live_from_counters: u64,
    pub max_live_from_stream: u64,
}

/// What command-svc saw of the queued buyers.
#[derive(Debug, Serialize)]
pub struct CommandSide {
    pub commands: u64,
    pub peak_commands_per_second: u64,
    /// Holds (one per admitted buyer) in the busiest second.
    pub peak_holds_per_second: u64,
    pub admitted_per_second: f64,
    pub hold_answers: BTreeMap<String, u64>,
    /// Holds refused before the first `sold_out`.
    pub refused_while_seats_lasted: u64,
}

impl QueueReport {
    pub fn violation_count(&self) -> u64 {
        (self.stream_audit.violations.len()
            + self.fairness.violations.len()
            + self.violations.len()) as u64
            + self.sale.as_ref().map_or(0, Report::violations)
    }

    pub fn print(&self) {
        if let Some(sale) = &self.sale {
            sale.print();
        }
        let j = &self.joins;
        let f = &self.following;
        let a = &self.admissions;
        println!();
        println!(
            "  waiting room        event {}, {} buyers ({} late, {} on SSE)",
            self.event_id, self.buyers, self.late_buyers, self.stream_followers
        );
        println!(
            "  joins               {} ({} in a burst of {:.2} s: {:.0}/s), p50 {:.2} ms  p99 {:.2} ms  {:?}",
            j.acknowledged,
            j.burst_joins,
            j.burst_seconds,
            j.per_second,
            j.latency.p50_ms,
            j.latency.p99_ms,
            j.outcomes
        );
        println!(
            "  following           {} polls ({:.0}/s, {} failed), {} streams, {} messages",
            f.polls, f.polls_per_second, f.poll_failures, f.streams_opened, f.stream_messages
        );
        let rate = match &self.stream_audit.rate {
            Some(r) => format!(
                "{:.1}/min over the steady {:.1} s ({} admissions), {:+.2} % {}",
                r.per_minute,
                r.steady_seconds,
                r.admissions,
                r.deviation_percent,
                if r.judged {
                    "(judged against ±1 %)"
                } else {
                    "(too few to judge)"
                }
            ),
            None => "no steady part".into(),
        };
        println!(
            "  admissions          {} seen, {} gave up; configured {}/min, stream: {rate}",
            a.seen, a.gave_up, a.configured_per_minute
        );
        println!(
            "  live admissions     at most {} (counters) / {} (stream); max_active {}",
            a.max_live_from_counters, a.max_live_from_stream, a.max_active
        );
        println!(
            "  time in queue       p50 {:.0} ms  p99 {:.0} ms; after the opening p50 {:.0} ms  p99 {:.0} ms",
            self.time_in_queue.p50_ms,
            self.time_in_queue.p99_ms,
            self.wait_after_open.p50_ms,
            self.wait_after_open.p99_ms
        );
        let c = &self.command_side;
        println!(
            "  command side        {} commands, peak {}/s; holds peak {}/s (admitting {:.0}/s) {:?}",
            c.commands,
            c.peak_commands_per_second,
            c.peak_holds_per_second,
            c.admitted_per_second,
            c.hold_answers
        );
        let fr = &self.fairness;
        let show =
            |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
        println!(
            "  fairness            prequeue {}: Spearman rho {}, chi2 {} ({} df, p {}); {} late: Kendall tau {}",
            fr.prequeue,
            show(fr.spearman_rho, 5),
            show(fr.chi_square, 2),
            fr.chi_square_df.map_or("-".into(), |d| d.to_string()),
            show(fr.chi_square_p, 4),
            fr.late_joiners,
            show(fr.kendall_tau, 4)
        );
        if let Some(flood) = &self.poll_flood {
            println!(
                "  poll flood          {:.0} polls/s (p99 {:.2} ms), /healthz {:.0}/s: ratio {:.2} ({} loops, {:.0} s each)",
                flood.polls.per_second,
                flood.polls.latency.p99_ms,
                flood.healthz.per_second,
                flood.ratio,
                flood.concurrency,
                flood.seconds
            );
        }
        let found: Vec<&String> = self
            .stream_audit
            .violations
            .iter()
            .chain(&self.fairness.violations)
            .chain(&self.violations)
            .collect();
        println!(
            "  queue audit         {} facts, {} + {} joins, {} admissions; {}",
            self.stream_audit.facts,
            self.stream_audit.prequeue_joins,
            self.stream_audit.line_joins,
            self.stream_audit.admissions,
            if found.is_empty() {
                "no violations".to_owned()
            } else {
                format!("{} VIOLATIONS", found.len())
            }
        );
        for v in found.iter().take(10) {
            println!("    ! {v}");
        }
    }
}
