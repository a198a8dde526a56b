//! The audit: re-reads the event's inventory stream and checks the sale's promises
//! independently of the domain code (its own bookkeeping, from the facts alone).
//!
//! - no seat is in two live holds or sales at once;
//! - held + sold never exceeds a section's capacity;
//! - every hold the service acknowledged is in the stream, and no hold id is stored twice.

use crate::cli::Cli;
use domain::inventory::InventoryEvent;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tv_nats::{EventStore, Naming, Stream};

#[derive(Debug, Default, Serialize)]
pub struct Audit {
    pub checked: bool,
    pub commits: u64,
    pub events: u64,
    pub holds_in_stream: u64,
    pub holds_per_commit: f64,
    pub acknowledged: u64,
    pub sold: u64,
    pub violations: Vec<String>,
}

impl Audit {
    pub fn skipped() -> Self {
        Self::default()
    }
}

#[derive(Default)]
struct Section {
    capacity: u64,
    /// Tickets in live holds, by hold.
    held: HashMap<String, u64>,
    sold: u64,
    /// Seat → the hold (or sale) that has it.
    seats: HashMap<String, String>,
}

pub async fn run(cli: &Cli, event_id: &str, acked: &[String]) -> anyhow::Result<Audit> {
    let store = EventStore::connect(&cli.nats_url, Naming::new(&cli.prefix)).await?;
    let loaded = store
        .load::<InventoryEvent>(Stream::Inventory, event_id, 0)
        .await?;
    let mut audit = Audit {
        checked: true,
        acknowledged: acked.len() as u64,
        ..Audit::default()
    };
    let mut sections: HashMap<String, Section> = HashMap::new();
    let mut held_ids = HashSet::new();
    let mut commits_with_holds = 0u64;
    for commit in &loaded.commits {
        audit.commits += 1;
        let mut holds_here = 0;
        for fact in &commit.events {
            audit.events += 1;
            apply(
                fact,
                &mut sections,
                &mut held_ids,
                &mut audit,
                &mut holds_here,
            );
        }
        if holds_here > 0 {
            commits_with_holds += 1;
        }
        for (id, section) in &sections {
            let held: u64 = section.held.values().sum();
            if held + section.sold > section.capacity {
                audit.violations.push(format!(
                    "section {id} over capacity at sequence {}: {held} held + {} sold > {}",
                    commit.sequence, section.sold, section.capacity
                ));
            }
        }
    }
    audit.holds_per_commit = audit.holds_in_stream as f64 / commits_with_holds.max(1) as f64;
    for id in acked {
        if !held_ids.contains(id) {
            audit
                .violations
                .push(format!("acknowledged hold {id} is not in the stream"));
        }
    }
    Ok(audit)
}

fn apply(
    fact: &InventoryEvent,
    sections: &mut HashMap<String, Section>,
    held_ids: &mut HashSet<String>,
    audit: &mut Audit,
    holds_here: &mut u64,
) {
    match fact {
        InventoryEvent::InventoryOpened {
            sections: opened, ..
        } => {
            for s in opened {
                let capacity = match &s.layout {
                    domain::catalog::SectionLayout::Seated { rows } => {
                        rows.iter().map(|r| u64::from(r.seats)).sum()
                    }
                    domain::catalog::SectionLayout::GeneralAdmission { capacity } => {
                        u64::from(*capacity)
                    }
                };
                sections.insert(
                    s.section_id.to_string(),
                    Section {
                        capacity,
                        ..Section::default()
                    },
                );
            }
        }
        InventoryEvent::SeatsHeld {
            hold_id,
            section_id,
            seats,
            quantity,
            ..
        } => {
            let hold = hold_id.to_string();
            *holds_here += 1;
            audit.holds_in_stream += 1;
            if !held_ids.insert(hold.clone()) {
                audit.violations.push(format!("hold {hold} stored twice"));
            }
            let section = sections.entry(section_id.to_string()).or_default();
            section.held.insert(hold.clone(), u64::from(*quantity));
            for seat in seats {
                if let Some(owner) = section.seats.insert(seat.to_string(), hold.clone()) {
                    audit.violations.push(format!(
                        "seat {section_id}/{seat} held by {hold} while {owner} has it"
                    ));
                }
            }
        }
        InventoryEvent::HoldReleased {
            hold_id,
            section_id,
            seats,
            ..
        }
        | InventoryEvent::HoldExpired {
            hold_id,
            section_id,
            seats,
            ..
        } => {
            let hold = hold_id.to_string();
            let section = sections.entry(section_id.to_string()).or_default();
            if section.held.remove(&hold).is_none() {
                audit
                    .violations
                    .push(format!("hold {hold} ended but was not live"));
            }
            for seat in seats {
                if section.seats.get(&seat.to_string()) == Some(&hold) {
                    section.seats.remove(&seat.to_string());
                } else {
                    audit
                        .violations
                        .push(format!("hold {hold} freed seat {seat} it did not have"));
                }
            }
        }
        InventoryEvent::SeatsSold {
            hold_id,
            order_id,
            section_id,
            seats,
            quantity,
            ..
        } => {
            audit.sold += u64::from(*quantity);
            let hold = hold_id.to_string();
            let section = sections.entry(section_id.to_string()).or_default();
            section.held.remove(&hold);
            section.sold += u64::from(*quantity);
            for seat in seats {
                let previous = section
                    .seats
                    .insert(seat.to_string(), format!("order {order_id}"));
                if previous.is_some_and(|p| p != hold) {
                    audit.violations.push(format!(
                        "seat {seat} sold to order {order_id} while another has it"
                    ));
                }
            }
        }
        InventoryEvent::SeatsReturned {
            order_id,
            section_id,
            seats,
            quantity,
            ..
        } => {
            let section = sections.entry(section_id.to_string()).or_default();
            section.sold = section.sold.saturating_sub(u64::from(*quantity));
            for seat in seats {
                if section.seats.remove(&seat.to_string()) != Some(format!("order {order_id}")) {
                    audit.violations.push(format!(
                        "order {order_id} returned seat {seat} it did not have"
                    ));
                }
            }
        }
        // Facts that move no seat.
        _ => {}
    }
}
