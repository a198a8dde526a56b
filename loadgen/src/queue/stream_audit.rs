//! The waiting-room audit, from the queue stream alone (`<PREFIX>_QUEUE`, the event's subjects
//! `<prefix>.queue.<event>.room` and `….join.<key>`), replayed in stream order:
//!
//! - exactly one `CustomerJoined` per customer, and one for every join loadgen was answered;
//! - every `CustomerAdmitted` is of a customer who joined before it, once, and everyone who saw
//!   themselves admitted has one;
//! - never more than `max_active` live admissions at once (live: admitted, `admitted_until` not
//!   passed, not ended by a confirmed order, not left);
//! - over the steady part of the sale, admissions within ±1 % of `admit_per_minute`
//!   ([`super::rate`]).

use super::rate::{self, RateMeasure};
use domain::ids::CustomerId;
use domain::waiting_room::{WaitingRoomConfig, WaitingRoomEvent};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tv_nats::{EventStore, Stream};

/// Every fact of one event's waiting room, in stream order.
pub async fn load(store: &EventStore, event_id: &str) -> anyhow::Result<Vec<WaitingRoomEvent>> {
    let filter = store
        .naming()
        .subject(Stream::Queue, &format!("{event_id}.>"));
    let mut replay = store
        .replay_subjects(Stream::Queue, vec![filter], 0)
        .await?;
    let mut facts = Vec::new();
    while let Some(raw) = replay.next().await {
        facts.extend(raw?.decode::<WaitingRoomEvent>()?.events);
    }
    Ok(facts)
}

#[derive(Debug, Default, Serialize)]
pub struct StreamAudit {
    pub facts: u64,
    pub prequeue_joins: u64,
    pub line_joins: u64,
    pub admissions: u64,
    /// The most live admissions at any admission, replayed.
    pub max_live: u64,
    pub max_active: Option<u32>,
    pub admit_per_minute: u32,
    pub rate: Option<RateMeasure>,
    pub violations: Vec<String>,
}

/// Checks the facts against the joins loadgen was answered and the admissions buyers saw.
pub fn check(facts: &[WaitingRoomEvent], joined: &[String], admitted: &[String]) -> StreamAudit {
    let mut audit = StreamAudit {
        facts: facts.len() as u64,
        ..StreamAudit::default()
    };
    let config: Option<&WaitingRoomConfig> = facts.iter().find_map(|f| match f {
        WaitingRoomEvent::WaitingRoomConfigured { config, .. } => Some(config),
        _ => None,
    });
    let Some(config) = config else {
        audit
            .violations
            .push("the room was never configured".into());
        return audit;
    };
    audit.max_active = config.max_active();
    audit.admit_per_minute = config.admit_per_minute();
    let mut joins: HashMap<&CustomerId, u32> = HashMap::new();
    let mut admissions: HashSet<&CustomerId> = HashSet::new();
    let mut live: HashMap<&CustomerId, domain::Timestamp> = HashMap::new();
    for fact in facts {
        match fact {
            WaitingRoomEvent::CustomerJoined {
                customer_id, queue, ..
            } => {
                match queue {
                    domain::waiting_room::JoinedQueue::Prequeue => audit.prequeue_joins += 1,
                    _ => audit.line_joins += 1,
                }
                let n = joins.entry(customer_id).or_default();
                *n += 1;
                if *n == 2 {
                    audit
                        .violations
                        .push(format!("{customer_id} joined more than once"));
                }
            }
            WaitingRoomEvent::CustomerAdmitted {
                customer_id,
                admitted_at,
                admitted_until,
            } => {
                audit.admissions += 1;
                if !joins.contains_key(customer_id) {
                    audit
                        .violations
                        .push(format!("{customer_id} admitted without having joined"));
                }
                if !admissions.insert(customer_id) {
                    audit
                        .violations
                        .push(format!("{customer_id} admitted twice"));
                }
                live.retain(|_, until| *until > *admitted_at);
                live.insert(customer_id, *admitted_until);
                audit.max_live = audit.max_live.max(live.len() as u64);
                if let Some(max) = config.max_active() {
                    if live.len() as u64 > u64::from(max) {
                        audit.violations.push(format!(
                            "{} live admissions at {admitted_at}, over max_active {max}",
                            live.len()
                        ));
                    }
                }
            }
            WaitingRoomEvent::AdmissionEnded { customer_id, .. }
            | WaitingRoomEvent::CustomerLeft { customer_id, .. } => {
                live.remove(customer_id);
            }
            _ => {}
        }
    }
    let stored: HashSet<&str> = joins.keys().map(|c| c.as_str()).collect();
    let missing = joined
        .iter()
        .filter(|c| !stored.contains(c.as_str()))
        .count();
    if missing > 0 {
        audit.violations.push(format!(
            "{missing} acknowledged joins are not in the stream"
        ));
    }
    let stored: HashSet<&str> = admissions.iter().map(|c| c.as_str()).collect();
    let unseen = admitted
        .iter()
        .filter(|c| !stored.contains(c.as_str()))
        .count();
    if unseen > 0 {
        audit.violations.push(format!(
            "{unseen} customers were shown admitted without a CustomerAdmitted in the stream"
        ));
    }
    let measure = rate::measure(facts, config);
    if let Some(m) = &measure {
        if m.judged && m.deviation_percent.abs() > rate::TOLERANCE_PERCENT {
            audit.violations.push(format!(
                "admitted {:.1} a minute over the steady {:.1} s, {:+.2} % off admit_per_minute {}",
                m.per_minute,
                m.steady_seconds,
                m.deviation_percent,
                config.admit_per_minute()
            ));
        }
    }
    audit.rate = measure;
    audit
}
