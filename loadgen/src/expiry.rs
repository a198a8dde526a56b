//! Abandoned holds: customers who held and walked away. After the sale loadgen waits until each
//! has its `HoldExpired` in the stream (up to its `expires_at` plus [`EXPIRY_SLACK`]), then reports
//! how many expired, once each, and how late after their `expires_at`.

use crate::fold::{HoldState, InventoryFold};
use crate::stats::{Fate, HoldTaken};
use domain::inventory::InventoryEvent;
use serde::Serialize;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tv_nats::{EventStore, Stream};

/// How long past its `expires_at` a hold may wait for its `HoldExpired`: the expiry timer fires
/// on the second after it (rounded up), then the event's writer takes its turn.
pub const EXPIRY_SLACK: Duration = Duration::from_secs(5);

#[derive(Debug, Default, Serialize)]
pub struct AbandonedReport {
    pub holds: u64,
    pub tickets: u64,
    /// Abandoned holds with exactly one `HoldExpired`.
    pub expired_once: u64,
    /// Longest time from an abandoned hold's `expires_at` to its `HoldExpired` being recorded.
    pub max_expiry_delay_ms: f64,
    /// How long loadgen waited after the sale (and the orders) for the last of them.
    pub waited_seconds: f64,
    /// Tickets query-svc shows available again (`None` without the read-model audit).
    pub tickets_returned: Option<u64>,
}

/// Waits until every abandoned hold has a `HoldExpired`, or the last one is past its `expires_at`
/// plus the slack. Reads only the commits appended since the previous look.
pub async fn wait(store: &EventStore, event_id: &str, holds: &[HoldTaken]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut waiting: HashSet<&str> = holds
        .iter()
        .filter(|h| h.fate == Fate::Abandoned)
        .map(|h| h.hold_id.as_str())
        .collect();
    let Some(last_expiry) = holds
        .iter()
        .filter(|h| h.fate == Fate::Abandoned)
        .filter_map(|h| h.expires_at)
        .max()
    else {
        return Ok(0.0);
    };
    let give_up = last_expiry + EXPIRY_SLACK;
    let mut after = 0;
    loop {
        let loaded = store
            .load::<InventoryEvent>(Stream::Inventory, event_id, after)
            .await?;
        after = loaded.last_sequence;
        for fact in loaded.commits.iter().flat_map(|c| &c.events) {
            if let InventoryEvent::HoldExpired { hold_id, .. } = fact {
                waiting.remove(hold_id.to_string().as_str());
            }
        }
        if waiting.is_empty() || OffsetDateTime::now_utc() > give_up {
            return Ok(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What became of the abandoned holds, from the stream's fold.
pub fn report(fold: &InventoryFold, holds: &[HoldTaken], waited_seconds: f64) -> AbandonedReport {
    let mut report = AbandonedReport {
        waited_seconds,
        ..AbandonedReport::default()
    };
    let mut max_delay = time::Duration::ZERO;
    let mut seen = HashSet::new();
    for taken in holds.iter().filter(|h| h.fate == Fate::Abandoned) {
        if !seen.insert(&taken.hold_id) {
            continue;
        }
        report.holds += 1;
        let Some(hold) = fold.holds.get(&taken.hold_id) else {
            continue;
        };
        report.tickets += hold.quantity;
        if hold.state == HoldState::Expired && hold.expired == 1 {
            report.expired_once += 1;
        }
        if let Some(recorded) = hold.expired_recorded_at {
            max_delay = max_delay.max(recorded - hold.expires_at);
        }
    }
    report.max_expiry_delay_ms = max_delay.as_seconds_f64() * 1000.0;
    report
}
