//! The binary form of a snapshot, the one writers save (command-svc encodes it with postcard): the
//! content of the JSON form (`snapshot.rs`) field for field, read into the same `Snapshot` and put
//! through the same checks; only the parsing differs.
//!
//! A binary format cannot leave a field out nor tell an enum's forms apart by their fields, so
//! every field is written in its place and tombstones are tagged; ids travel as their UUIDs' bytes
//! and times in `time`'s compact form, which makes a 100k-hold snapshot a fraction of its JSON
//! size and quick to read. The sale's configuration travels as its JSON text: its size does not
//! grow with the sale, and its shape (tagged layouts, optional fields left out) needs a
//! self-describing format.

use super::super::finished::{BinaryTombstone, BinaryTombstoneRef, Tombstone};
use super::super::presale::{PresaleCodes, PresaleCodesFields};
use super::super::state::SaleConfig;
use super::super::{Block, BlockReason, EventInventory, Hold, HoldStatus, Selection};
use super::super::{WaitlistEntry, WaitlistStatus};
use super::{Snapshot, SNAPSHOT_VERSION};
use crate::ids::WaitlistId;
use crate::ids::{BlockId, CustomerId, HoldId, OrderId, SeatLabel, SectionId, TicketTypeId};
use crate::Timestamp;
use serde::{Deserialize, Serialize, Serializer};

/// `Hold` in a binary snapshot: every field in its place, the expiry in `time`'s compact form.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Hold")]
pub(in crate::inventory) struct HoldFields {
    hold_id: HoldId,
    customer_id: CustomerId,
    section_id: SectionId,
    seats: Vec<SeatLabel>,
    quantity: u32,
    expires_at: Timestamp,
    request: Selection,
    status: HoldStatus,
    order_id: Option<OrderId>,
    type_id: Option<TicketTypeId>,
}

pub(in crate::inventory) fn whole_hold<S: Serializer>(
    hold: &&Hold,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    HoldFields::serialize(hold, serializer)
}

/// `WaitlistEntry` in a binary snapshot.
#[derive(Serialize, Deserialize)]
#[serde(remote = "WaitlistEntry")]
struct WaitlistFields {
    waitlist_id: WaitlistId,
    customer_id: CustomerId,
    section_id: SectionId,
    quantity: u32,
    adjacent: bool,
    status: WaitlistStatus,
}

/// `Block` in a binary snapshot.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Block")]
struct BlockFields {
    block_id: BlockId,
    section_id: SectionId,
    seats: Vec<SeatLabel>,
    quantity: u32,
    reason: BlockReason,
    request: Selection,
    released: bool,
}

/// A list written and read through a binary form (`$fields`): `$out` borrows one value to write
/// it, `$in` owns one read.
macro_rules! binary_list {
    ($fields:ident, $ty:ty, $out:ident, $in:ident, $with:tt, $write:ident) => {
        struct $out<'a>(&'a $ty);

        impl Serialize for $out<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $fields::serialize(self.0, serializer)
            }
        }

        #[derive(Deserialize)]
        struct $in(#[serde(with = $with)] $ty);

        fn $write<S: Serializer>(list: &&[$ty], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(list.iter().map($out))
        }
    };
}

binary_list!(HoldFields, Hold, HoldOut, HoldIn, "HoldFields", write_holds);
binary_list!(
    WaitlistFields,
    WaitlistEntry,
    EntryOut,
    EntryIn,
    "WaitlistFields",
    write_entries
);
binary_list!(
    BlockFields,
    Block,
    BlockOut,
    BlockIn,
    "BlockFields",
    write_blocks
);

fn write_codes<S: Serializer>(codes: &&PresaleCodes, serializer: S) -> Result<S::Ok, S::Error> {
    PresaleCodesFields::serialize(codes, serializer)
}

/// What a binary snapshot holds, in this order.
#[derive(Serialize)]
#[serde(rename = "Snapshot")]
struct BinaryRef<'a> {
    version: u32,
    /// The configuration's JSON text.
    config: Option<String>,
    #[serde(serialize_with = "write_holds")]
    holds: &'a [Hold],
    customers: &'a [CustomerId],
    finished: Vec<(&'a HoldId, BinaryTombstoneRef<'a>)>,
    returned_orders: Vec<&'a OrderId>,
    #[serde(serialize_with = "write_entries")]
    waitlist: &'a [WaitlistEntry],
    #[serde(serialize_with = "write_codes")]
    presale_codes: &'a PresaleCodes,
    #[serde(serialize_with = "write_blocks")]
    blocks: &'a [Block],
}

/// What `BinaryRef` writes.
#[derive(Deserialize)]
#[serde(rename = "Snapshot")]
pub(super) struct Binary {
    pub(super) version: u32,
    config: Option<String>,
    holds: Vec<HoldIn>,
    customers: Vec<CustomerId>,
    finished: Vec<(HoldId, BinaryTombstone)>,
    returned_orders: Vec<OrderId>,
    waitlist: Vec<EntryIn>,
    #[serde(with = "PresaleCodesFields")]
    presale_codes: PresaleCodes,
    blocks: Vec<BlockIn>,
}

pub(super) fn serialize<S: Serializer>(
    state: &EventInventory,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let config = state
        .config
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(serde::ser::Error::custom)?;
    let (finished, returned_orders) = super::sorted_tombstones(state);
    BinaryRef {
        version: SNAPSHOT_VERSION,
        config,
        holds: &state.holds,
        customers: state.customers.list(),
        finished: finished
            .into_iter()
            .map(|(id, tombstone)| (id, tombstone.binary()))
            .collect(),
        returned_orders,
        waitlist: state.waitlist.entries(),
        presale_codes: &state.presale_codes,
        blocks: state.blocks.list(),
    }
    .serialize(serializer)
}

impl Binary {
    /// The snapshot as the JSON form would have read it.
    pub(super) fn into_snapshot(self) -> Result<Snapshot, String> {
        let config = match self.config {
            Some(text) => Some(
                serde_json::from_str::<SaleConfig>(&text)
                    .map_err(|e| format!("the sale's configuration: {e}"))?,
            ),
            None => None,
        };
        Ok(Snapshot {
            version: self.version,
            config,
            holds: self.holds.into_iter().map(|hold| hold.0).collect(),
            customers: self.customers,
            finished: self
                .finished
                .into_iter()
                .map(|(id, tombstone)| (id, Tombstone::from(tombstone)))
                .collect(),
            returned_orders: self.returned_orders,
            waitlist: self.waitlist.into_iter().map(|entry| entry.0).collect(),
            presale_codes: self.presale_codes,
            blocks: self.blocks.into_iter().map(|block| block.0).collect(),
        })
    }
}
