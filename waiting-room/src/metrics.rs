//! The waiting room's gauges, per event: waiting, admitted in total, live admissions and the
//! measured admission rate. Join and poll latency come from the HTTP middleware's
//! `tv_http_request_seconds` by route.

use crate::rooms::Room;
use domain::Timestamp;

/// Records a room's gauges at `now`.
pub fn record_room(room: &Room, now: Timestamp) {
    let counters = room.read(|state| state.counters(now));
    let event = room.event().to_string();
    metrics::gauge!("tv_queue_waiting", "event" => event.clone()).set(counters.waiting as f64);
    metrics::gauge!("tv_queue_admitted_total", "event" => event.clone())
        .set(counters.admitted_total as f64);
    metrics::gauge!("tv_queue_active", "event" => event.clone()).set(counters.active as f64);
    let rate = room.refresh_rate(now).unwrap_or(0);
    metrics::gauge!("tv_queue_admission_rate_per_minute", "event" => event).set(f64::from(rate));
}

/// Counts a join by outcome (`created`, `existing`, `refused`).
pub fn count_join(outcome: &'static str) {
    metrics::counter!("tv_queue_joins_total", "outcome" => outcome).increment(1);
}
