//! The admission rate, measured on the stream over the steady part of the sale.
//!
//! The room admits in batches, one per admitter turn, each taking the pacing slots due since the
//! last (slots `60 s / admit_per_minute` apart; the first batch catches up one second's worth).
//! The steady part starts after the first batch that was not cut short and lasts while no batch
//! is cut short, i.e. while, after each batch, someone still waits and the live admissions are
//! below `max_active`: then every batch takes exactly the slots due, and the count over the span
//! is the configured rate to within one slot. The measure is judged only over at least
//! [`MIN_JUDGED`] admissions, where one slot is under 1 %.

use domain::ids::CustomerId;
use domain::waiting_room::{WaitingRoomConfig, WaitingRoomEvent};
use domain::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// How far the measured rate may be from the configured one, in percent.
pub const TOLERANCE_PERCENT: f64 = 1.0;
/// Admissions needed in the steady part before the rate is judged.
pub const MIN_JUDGED: u64 = 200;

#[derive(Debug, Clone, Serialize)]
pub struct RateMeasure {
    pub steady_seconds: f64,
    pub admissions: u64,
    pub per_minute: f64,
    pub deviation_percent: f64,
    /// Enough admissions to judge against ±1 %.
    pub judged: bool,
}

/// One admitter turn: its time, how many it admitted, and whether it was cut short.
struct Batch {
    at: Timestamp,
    admitted: u64,
    cut_short: bool,
}

pub fn measure(facts: &[WaitingRoomEvent], config: &WaitingRoomConfig) -> Option<RateMeasure> {
    let batches = batches(facts, config);
    let start = batches.iter().position(|b| !b.cut_short)?;
    let steady: Vec<&Batch> = batches[start + 1..]
        .iter()
        .take_while(|b| !b.cut_short)
        .collect();
    let last = steady.last()?;
    let seconds = (last.at - batches[start].at).as_seconds_f64();
    if seconds <= 0.0 {
        return None;
    }
    let admissions: u64 = steady.iter().map(|b| b.admitted).sum();
    let per_minute = admissions as f64 * 60.0 / seconds;
    let configured = f64::from(config.admit_per_minute());
    Some(RateMeasure {
        steady_seconds: seconds,
        admissions,
        per_minute,
        deviation_percent: (per_minute - configured) / configured * 100.0,
        judged: admissions >= MIN_JUDGED,
    })
}

/// The admission batches in stream order, with the line and the live admissions after each.
fn batches(facts: &[WaitingRoomEvent], config: &WaitingRoomConfig) -> Vec<Batch> {
    let max_active = config.max_active().map_or(u64::MAX, u64::from);
    let mut batches: Vec<Batch> = Vec::new();
    let mut waiting: HashSet<&CustomerId> = HashSet::new();
    let mut live: HashMap<&CustomerId, Timestamp> = HashMap::new();
    // A batch is judged right after its last admission: cut short if nobody was left waiting
    // or the room was full.
    let mut open = false;
    for fact in facts {
        let same_batch = matches!(fact, WaitingRoomEvent::CustomerAdmitted { admitted_at, .. }
            if batches.last().is_some_and(|b| b.at == *admitted_at));
        if open && !same_batch {
            if let Some(batch) = batches.last_mut() {
                batch.cut_short = waiting.is_empty() || live.len() as u64 >= max_active;
            }
            open = false;
        }
        match fact {
            WaitingRoomEvent::CustomerJoined { customer_id, .. } => {
                waiting.insert(customer_id);
            }
            WaitingRoomEvent::CustomerAdmitted {
                customer_id,
                admitted_at,
                admitted_until,
            } => {
                if !open {
                    batches.push(Batch {
                        at: *admitted_at,
                        admitted: 0,
                        cut_short: false,
                    });
                    open = true;
                }
                if let Some(batch) = batches.last_mut() {
                    batch.admitted += 1;
                }
                waiting.remove(customer_id);
                live.retain(|_, until| *until > *admitted_at);
                live.insert(customer_id, *admitted_until);
            }
            WaitingRoomEvent::AdmissionEnded { customer_id, .. } => {
                live.remove(customer_id);
            }
            WaitingRoomEvent::CustomerLeft { customer_id, .. } => {
                waiting.remove(customer_id);
                live.remove(customer_id);
            }
            _ => {}
        }
    }
    if open {
        if let Some(batch) = batches.last_mut() {
            batch.cut_short = waiting.is_empty() || live.len() as u64 >= max_active;
        }
    }
    batches
}
