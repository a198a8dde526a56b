//! The audit: re-reads the event's inventory stream and checks the sale's promises
//! independently of the domain code (its own bookkeeping, from the facts alone; see [`fold`]).
//!
//! - no seat is in two live holds or sales at once;
//! - held + sold never exceeds a section's capacity;
//! - every hold the service acknowledged is in the stream, and no hold id is stored twice;
//! - every abandoned hold expired exactly once (one `HoldExpired`).
//!
//! [`fold`]: crate::fold

use crate::cli::Cli;
use crate::fold::InventoryFold;
use crate::stats::{Fate, HoldTaken};
use domain::inventory::InventoryEvent;
use serde::Serialize;
use std::collections::HashSet;
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

/// Loads the event's inventory stream and folds it.
pub async fn load(cli: &Cli, event_id: &str) -> anyhow::Result<(InventoryFold, Audit)> {
    let store = EventStore::connect(&cli.nats_url, Naming::new(&cli.prefix)).await?;
    let loaded = store
        .load::<InventoryEvent>(Stream::Inventory, event_id, 0)
        .await?;
    let mut audit = Audit {
        checked: true,
        ..Audit::default()
    };
    let mut fold = InventoryFold::default();
    let mut commits_with_holds = 0u64;
    for commit in &loaded.commits {
        audit.commits += 1;
        let mut holds_here = 0;
        for fact in &commit.events {
            audit.events += 1;
            if matches!(fact, InventoryEvent::SeatsHeld { .. }) {
                holds_here += 1;
            }
            if let InventoryEvent::SeatsSold { quantity, .. } = fact {
                audit.sold += u64::from(*quantity);
            }
            audit
                .violations
                .extend(fold.apply(fact, commit.recorded_at));
        }
        if holds_here > 0 {
            commits_with_holds += 1;
            audit.holds_in_stream += holds_here;
        }
        for (id, section) in &fold.sections {
            if section.held + section.sold + section.blocked > section.capacity {
                audit.violations.push(format!(
                    "section {id} over capacity at sequence {}: {} held + {} sold + {} blocked > {}",
                    commit.sequence, section.held, section.sold, section.blocked, section.capacity
                ));
            }
        }
        fold.last_sequence = commit.sequence;
    }
    audit.holds_per_commit = audit.holds_in_stream as f64 / commits_with_holds.max(1) as f64;
    Ok((fold, audit))
}

/// Checks the acknowledged holds against the fold: each stored, each abandoned one expired once.
pub fn check_holds(fold: &InventoryFold, holds: &[HoldTaken], audit: &mut Audit) {
    audit.acknowledged = holds.len() as u64;
    let mut seen = HashSet::new();
    for taken in holds {
        if !seen.insert(&taken.hold_id) {
            continue;
        }
        let Some(hold) = fold.holds.get(&taken.hold_id) else {
            audit.violations.push(format!(
                "acknowledged hold {} is not in the stream",
                taken.hold_id
            ));
            continue;
        };
        if taken.fate == Fate::Abandoned && hold.expired != 1 {
            audit.violations.push(format!(
                "abandoned hold {} has {} HoldExpired facts (expected exactly one)",
                taken.hold_id, hold.expired
            ));
        }
    }
}
