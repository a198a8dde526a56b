//! What one batch came to, and the metrics it moves.
//!
//! - `tv_notifier_notices_written_total{kind}`: notices stored for the first time (and passed on
//!   to every sink after the outbox).
//! - `tv_notifier_notices_skipped_total{reason}`: `duplicate` (a redelivered fact whose notice is
//!   stored already), `undecodable` (a commit that is not a commit at all), `unknown_order` (a
//!   fact of an order never placed).
//! - `tv_notifier_facts_skipped_total{type}`: facts of a type or schema this build cannot read
//!   (written by a newer build, domain::schema); the rest of their commit is still read.
//! - `tv_notifier_lag_seconds`: from the newest commit of a batch being stored to its notices being
//!   stored; `tv_notifier_batch_size`: commits per batch.
//! - `tv_notifier_pending_commits`: commits on the stream not yet delivered to the notifier's
//!   consumer (its backlog), refreshed at most once a second.

use crate::notice::Notification;
use std::collections::BTreeMap;
use tv_nats::Delivery;

/// The notices written and the facts skipped in one batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct BatchReport {
    pub written: BTreeMap<&'static str, u64>,
    pub duplicates: u64,
    pub undecodable: u64,
    pub unknown_order: u64,
    /// Facts skipped for their type or schema, by type.
    pub unreadable: BTreeMap<String, u64>,
}

impl BatchReport {
    /// Counts `made` notices of which `stored` came through every sink (the rest were there
    /// already).
    pub fn count_delivered(&mut self, made: usize, stored: &[Notification]) {
        for notice in stored {
            *self.written.entry(notice.kind.as_str()).or_default() += 1;
        }
        self.duplicates += made.saturating_sub(stored.len()) as u64;
    }

    /// Counts and logs the facts a tolerant decode skipped.
    pub fn skipped(&mut self, facts: &[tv_nats::SkippedFact]) {
        for fact in facts {
            tracing::warn!(
                sequence = fact.sequence,
                kind = %fact.kind,
                schema = fact.schema,
                reason = %fact.reason,
                "a fact this build cannot read; skipped"
            );
            *self.unreadable.entry(fact.kind.clone()).or_default() += 1;
        }
    }

    /// Moves the counters, and the lag and size histograms from `batch`.
    pub fn record(&self, batch: &[Delivery]) {
        for (kind, count) in &self.written {
            metrics::counter!("tv_notifier_notices_written_total", "kind" => *kind)
                .increment(*count);
        }
        for (reason, count) in [
            ("duplicate", self.duplicates),
            ("undecodable", self.undecodable),
            ("unknown_order", self.unknown_order),
        ] {
            if count > 0 {
                metrics::counter!("tv_notifier_notices_skipped_total", "reason" => reason)
                    .increment(count);
            }
        }
        for (kind, count) in &self.unreadable {
            metrics::counter!("tv_notifier_facts_skipped_total", "type" => kind.clone())
                .increment(*count);
        }
        metrics::histogram!("tv_notifier_batch_size").record(batch.len() as f64);
        if let Some(last) = batch.last() {
            let lag = time::OffsetDateTime::now_utc() - last.published;
            metrics::histogram!("tv_notifier_lag_seconds").record(lag.as_seconds_f64().max(0.0));
        }
    }
}

/// The consumer's backlog: commits not yet delivered to it.
pub(crate) fn record_pending(pending: u64) {
    metrics::gauge!("tv_notifier_pending_commits").set(pending as f64);
}
