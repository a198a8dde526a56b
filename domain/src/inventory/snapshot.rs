//! Snapshots of the inventory: the sale's configuration, the whole holds and the tombstones of the
//! folded ones (with the customers they name), nothing derived.
//!
//! Deserializing rebuilds the indexes by entering the holds one by one, through the same code that
//! `apply` uses, and refuses a snapshot that breaks the aggregate's promises (a seat in two live
//! holds, a hold in an unknown section): a bad snapshot fails loudly instead of selling a seat twice.
//!
//! The JSON form below is what a human-readable format (serde_json) reads and writes; a binary
//! format (postcard, what writers save) gets the same content in the form of `snapshot/binary.rs`,
//! read into the same `Snapshot` and checked the same way.

pub(super) mod binary;

use super::finished::{Customers, Tombstone};
use super::presale::PresaleCodes;
use super::section_seats::Slot;
use super::state::SaleConfig;
use super::waitlist::{Waitlist, WaitlistEntry};
use super::{Block, EventInventory, Hold, HoldStatus};
use crate::ids::{CustomerId, HoldId, OrderId};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;

/// Bumped when the snapshot's shape changes; an unknown version is refused (replay the log).
/// Version 2 added the `ordered` hold status and `Hold::order_id`: a binary that knows only
/// version 1 refuses such a snapshot and replays, instead of dropping what it does not know.
/// Version 3 added the tombstones of finished holds (`finished`, `customers`, `returned_orders`):
/// a binary that knows only version 2 would read a state without them and let a retried hold id
/// be placed a second time, so it refuses the snapshot and replays.
/// Version 4 added the waiting list (`waitlist`): a binary that knows only version 3 would drop
/// the entries, and sell returned seats to the public instead of offering them.
/// Version 5 added an operator's close of the sale (`closed_at` in the configuration): a binary
/// that knows only version 4 would read the sale as open and take holds after the close.
/// Version 6 added an operator's cancellation (`cancelled_at` in the configuration): a binary that
/// knows only version 5 would go on selling a cancelled event.
/// Version 7 added presales (`presales` in the configuration, `presale_codes`): a binary that
/// knows only version 6 would sell before the general sale without codes, or forget what a code
/// has spent. Version 8 added operators' seat blocks (`blocks`): a binary that knows only an
/// earlier version would put blocked seats back on sale.
/// The binary form (`snapshot/binary.rs`) is another encoding of the same content, not a new
/// version: a stored document's first byte tells the two apart (command-svc's `load.rs`), binary
/// documents exist from version 8 on, and a reader built before them finds no JSON and replays.
const SNAPSHOT_VERSION: u32 = 8;
/// Versions a binary snapshot may carry: the form did not exist before version 8.
const BINARY_VERSIONS: std::ops::RangeInclusive<u32> = 8..=SNAPSHOT_VERSION;
/// Versions still read: a version 1 snapshot is a version 2 one without checkouts, a version 2 one
/// is a version 3 one without tombstones (its finished holds are folded once loaded), a version 3
/// one is a version 4 one without a waiting list, a version 4 one is a version 5 one whose sale
/// no operator closed, a version 5 one is a version 6 one of an event nobody cancelled, a version
/// 6 one is a version 7 one without presales, and a version 7 one is a version 8 one without
/// blocks.
const READABLE_VERSIONS: std::ops::RangeInclusive<u32> = 1..=SNAPSHOT_VERSION;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    config: Option<&'a SaleConfig>,
    holds: &'a [Hold],
    customers: &'a [CustomerId],
    finished: Vec<(&'a HoldId, &'a Tombstone)>,
    returned_orders: Vec<&'a OrderId>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    waitlist: &'a [WaitlistEntry],
    #[serde(skip_serializing_if = "PresaleCodes::is_empty")]
    presale_codes: &'a PresaleCodes,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    blocks: &'a [Block],
}

#[derive(Deserialize)]
struct Snapshot {
    version: u32,
    config: Option<SaleConfig>,
    holds: Vec<Hold>,
    #[serde(default)]
    customers: Vec<CustomerId>,
    #[serde(default)]
    finished: Vec<(HoldId, Tombstone)>,
    #[serde(default)]
    returned_orders: Vec<OrderId>,
    #[serde(default)]
    waitlist: Vec<WaitlistEntry>,
    #[serde(default)]
    presale_codes: PresaleCodes,
    #[serde(default)]
    blocks: Vec<Block>,
}

/// The tombstones and the returned orders in id order: the same state always gives the same bytes.
type SortedTombstones<'a> = (Vec<(&'a HoldId, &'a Tombstone)>, Vec<&'a OrderId>);

fn sorted_tombstones(state: &EventInventory) -> SortedTombstones<'_> {
    let mut finished: Vec<_> = state.finished.iter().collect();
    finished.sort_unstable_by_key(|(id, _)| **id);
    let mut returned_orders: Vec<_> = state.returned_orders.iter().collect();
    returned_orders.sort_unstable();
    (finished, returned_orders)
}

impl Serialize for EventInventory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            return binary::serialize(self, serializer);
        }
        let (finished, returned_orders) = sorted_tombstones(self);
        SnapshotRef {
            version: SNAPSHOT_VERSION,
            config: self.config.as_ref(),
            holds: &self.holds,
            customers: self.customers.list(),
            finished,
            returned_orders,
            waitlist: self.waitlist.entries(),
            presale_codes: &self.presale_codes,
            blocks: self.blocks.list(),
        }
        .serialize(serializer)
    }
}

/// A snapshot as read, JSON or binary, not checked yet: `EventInventory::try_from` checks it and
/// rebuilds the indexes, and says why when it refuses it (a binary format may drop the messages of
/// errors raised while it decodes).
pub struct InventorySnapshot(Form);

enum Form {
    Json(Snapshot),
    Binary(binary::Binary),
}

/// Why a snapshot was refused: it breaks a promise of the aggregate, or it is of a version this
/// build cannot read. The caller replays the log instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inventory snapshot refused: {0}")]
pub struct SnapshotRefused(String);

impl<'de> Deserialize<'de> for InventorySnapshot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(InventorySnapshot(match deserializer.is_human_readable() {
            true => Form::Json(Snapshot::deserialize(deserializer)?),
            false => Form::Binary(binary::Binary::deserialize(deserializer)?),
        }))
    }
}

impl TryFrom<InventorySnapshot> for EventInventory {
    type Error = SnapshotRefused;

    fn try_from(snapshot: InventorySnapshot) -> Result<Self, SnapshotRefused> {
        let snapshot = match snapshot.0 {
            Form::Json(snapshot) => snapshot,
            Form::Binary(binary) => {
                if !BINARY_VERSIONS.contains(&binary.version) {
                    return Err(SnapshotRefused(format!(
                        "binary snapshot version {} is not one of {BINARY_VERSIONS:?}",
                        binary.version
                    )));
                }
                binary.into_snapshot().map_err(SnapshotRefused)?
            }
        };
        EventInventory::restore(snapshot).map_err(SnapshotRefused)
    }
}

impl<'de> Deserialize<'de> for EventInventory {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snapshot = InventorySnapshot::deserialize(deserializer)?;
        EventInventory::try_from(snapshot).map_err(|refused| de::Error::custom(refused.0))
    }
}

impl EventInventory {
    fn restore(snapshot: Snapshot) -> Result<Self, String> {
        if !READABLE_VERSIONS.contains(&snapshot.version) {
            return Err(format!(
                "inventory snapshot version {} is not one of {READABLE_VERSIONS:?}",
                snapshot.version
            ));
        }
        let mut state = EventInventory::default();
        let Some(config) = snapshot.config else {
            let empty = snapshot.holds.is_empty()
                && snapshot.finished.is_empty()
                && snapshot.waitlist.is_empty()
                && snapshot.blocks.is_empty();
            return match empty {
                true => Ok(state),
                false => Err("inventory snapshot has holds but no sale".into()),
            };
        };
        state.open(config);
        state.customers = Customers::from_list(snapshot.customers)?;
        state.finished.reserve(snapshot.finished.len());
        for (hold_id, tombstone) in snapshot.finished {
            tombstone.check(hold_id, &state.context())?;
            if state.finished.insert(hold_id, tombstone).is_some() {
                return Err(format!("hold {hold_id} appears twice"));
            }
        }
        state.returned_orders = snapshot.returned_orders.into_iter().collect();
        for entry in &snapshot.waitlist {
            if !state.index.section_by_id.contains_key(&entry.section_id) {
                return Err(format!(
                    "waiting-list entry {} is in unknown section",
                    entry.waitlist_id
                ));
            }
        }
        state.waitlist = Waitlist::from_entries(snapshot.waitlist)?;
        // Before the holds: entering a hold counts it against the code it spent.
        state.presale_codes = snapshot.presale_codes;
        // Blocks first: a hold on a blocked seat is then found by the seat check below.
        state.restore_blocks(snapshot.blocks)?;
        // Sized once: entering a hundred thousand holds into growing tables would move each entry
        // many times over.
        state.holds.reserve_exact(snapshot.holds.len());
        state.index.hold_by_id.reserve(snapshot.holds.len());
        for mut hold in snapshot.holds {
            // `add_hold` indexes every hold by id: a second one with an id is found there.
            if state.index.hold_by_id.contains_key(&hold.hold_id)
                || state.finished.contains_key(&hold.hold_id)
            {
                return Err(format!("hold {} appears twice", hold.hold_id));
            }
            hold.order_id = order_of(&hold)?;
            state.check_restorable(&hold)?;
            state.add_hold(hold);
        }
        for (section, seats) in state.sections().iter().zip(&state.index.sections) {
            let taken = u64::from(seats.held) + u64::from(seats.sold) + u64::from(seats.blocked);
            if taken > u64::from(seats.capacity) {
                return Err(format!("section {} is oversold", section.section_id));
            }
        }
        // An older snapshot has every finished hold whole.
        state.compact();
        Ok(state)
    }

    /// A hold fits the sections, and if it occupies seats they are empty.
    fn check_restorable(&self, hold: &Hold) -> Result<(), String> {
        let section = self
            .index
            .section_by_id
            .get(&hold.section_id)
            .and_then(|&i| self.index.sections.get(i))
            .ok_or_else(|| format!("hold {} is in unknown section", hold.hold_id))?;
        let occupies = matches!(
            hold.status,
            HoldStatus::Active | HoldStatus::Ordered { .. } | HoldStatus::Sold { .. }
        );
        let fits = match section.is_seated() {
            true => !hold.seats.is_empty() && hold.seats.len() == hold.quantity as usize,
            false => hold.seats.is_empty(),
        };
        if !fits {
            return Err(format!("hold {} does not fit its section", hold.hold_id));
        }
        let mut distinct = HashSet::with_capacity(hold.seats.len());
        for seat in &hold.seats {
            if !distinct.insert(seat) {
                return Err(format!("hold {} names seat {seat} twice", hold.hold_id));
            }
            let (row, index) = section
                .locate(seat)
                .ok_or_else(|| format!("hold {} names unknown seat {seat}", hold.hold_id))?;
            if occupies && section.slot(row, index) == Slot::BLOCKED {
                return Err(format!("seat {seat} is held and blocked"));
            }
            if occupies && section.slot(row, index) != Slot::EMPTY {
                return Err(format!("seat {seat} is in two live holds"));
            }
        }
        Ok(())
    }
}

/// The hold's order as replaying its facts would have set it: the one its status names, or the one
/// that checked it out before it expired or abandoned it. A version 1 snapshot names it only in
/// the status.
fn order_of(hold: &Hold) -> Result<Option<OrderId>, String> {
    let named = match hold.status {
        HoldStatus::Ordered { order_id }
        | HoldStatus::Sold { order_id }
        | HoldStatus::Returned { order_id } => Some(order_id),
        HoldStatus::Active => None,
        HoldStatus::Expired | HoldStatus::Released => return Ok(hold.order_id),
    };
    match (named, hold.order_id) {
        (None, Some(_)) => Err(format!(
            "hold {} is {} but names an order",
            hold.hold_id,
            hold.status.name()
        )),
        (Some(named), Some(kept)) if named != kept => Err(format!(
            "hold {} is {} for order {named} but names order {kept}",
            hold.hold_id,
            hold.status.name()
        )),
        _ => Ok(named),
    }
}
