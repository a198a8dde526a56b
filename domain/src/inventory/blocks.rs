//! Seat blocks: seats an operator takes off sale (press, production) and later gives back.
//!
//! A block is decided by the event's one writer like a hold, and takes only free seats (named,
//! or a quantity: general admission, or the best available adjacent seats of a seated section),
//! but it is not a hold: it has no customer, never expires, counts against no limit and cannot be
//! checked out. Its seats are marked `Slot::BLOCKED` in the seat grid and its tickets counted in
//! `SectionSeats::blocked`, so every rule that looks for a free seat (holds, best available, a
//! lapsed hold sold again, waiting-list offers) sees them taken. Releasing it frees them inside
//! the same decision's offers, so the waiting list gets them before the public.
//!
//! Every block ever made is kept (there are few): a retried `BlockSeats` finds its block, released
//! or not, and decides nothing.

use super::best_available::best_available;
use super::live_view::LiveView;
use super::{EventInventory, InventoryError, InventoryEvent, Selection};
use crate::ids::{BlockId, InvalidId, SeatLabel, SectionId};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{HashMap, HashSet};

/// Why seats are blocked, as the operator wrote it: 1 to 200 characters, no control characters.
/// It is on the public stream: operators write what may be read there ("press", "camera 2").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockReason(String);

impl BlockReason {
    pub const MAX_LEN: usize = 200;

    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let text = text.trim();
        let why = if text.is_empty() {
            "must not be empty"
        } else if text.chars().count() > Self::MAX_LEN {
            "is longer than 200 characters"
        } else if text.chars().any(char::is_control) {
            "must not contain control characters"
        } else {
            return Ok(Self(text.to_owned()));
        };
        Err(InvalidId {
            what: "reason",
            why,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for BlockReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One block, as decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub block_id: BlockId,
    pub section_id: SectionId,
    /// The blocked seats; empty in a general-admission section.
    pub seats: Vec<SeatLabel>,
    /// The ticket count, in every section.
    pub quantity: u32,
    pub reason: BlockReason,
    /// What the operator asked for: a retry must ask for the same.
    pub request: Selection,
    /// True once `BlockReleased`: its seats are back on sale.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub released: bool,
}

/// Every block of the event, in the order they were made.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Blocks {
    list: Vec<Block>,
    by_id: HashMap<BlockId, usize>,
}

impl Blocks {
    pub(super) fn get(&self, id: &BlockId) -> Option<&Block> {
        self.by_id.get(id).map(|&i| &self.list[i])
    }

    pub(super) fn list(&self) -> &[Block] {
        &self.list
    }

    fn push(&mut self, block: Block) {
        self.by_id.insert(block.block_id, self.list.len());
        self.list.push(block);
    }
}

impl EventInventory {
    /// A block ever made, released or not.
    pub fn block(&self, block_id: &BlockId) -> Option<&Block> {
        self.blocks.get(block_id)
    }

    /// Every block ever made, in the order they were made.
    pub fn blocks(&self) -> &[Block] {
        self.blocks.list()
    }

    /// Record a decided block (a second `SeatsBlocked` of one id changes nothing).
    pub(super) fn add_block(&mut self, block: Block) {
        if self.blocks.get(&block.block_id).is_some()
            || !self.index.section_by_id.contains_key(&block.section_id)
        {
            return;
        }
        self.enter_block(&block);
        self.blocks.push(block);
    }

    /// `BlockReleased`: the block's seats are free again, once.
    pub(super) fn release_block(&mut self, block_id: &BlockId) {
        let Some(&at) = self.blocks.by_id.get(block_id) else {
            return;
        };
        if self.blocks.list[at].released {
            return;
        }
        self.blocks.list[at].released = true;
        let block = self.blocks.list[at].clone();
        if let Some(&section) = self.index.section_by_id.get(&block.section_id) {
            let seats = &mut self.index.sections[section];
            seats.blocked = seats.blocked.saturating_sub(block.quantity);
            seats.unblock(&block.seats);
        }
    }

    /// Index a live block: its seats taken, its tickets counted as blocked.
    fn enter_block(&mut self, block: &Block) {
        if block.released {
            return;
        }
        if let Some(&section) = self.index.section_by_id.get(&block.section_id) {
            let seats = &mut self.index.sections[section];
            seats.blocked += block.quantity;
            seats.block(&block.seats);
        }
    }

    /// Index every live block again, after the seat grids were emptied (`fold_finished`).
    pub(super) fn enter_blocks(&mut self) {
        let list = std::mem::take(&mut self.blocks.list);
        for block in &list {
            self.enter_block(block);
        }
        self.blocks.list = list;
    }

    /// Restore the blocks of a snapshot, before its holds: each fits its section, names each seat
    /// once, and takes no seat another block took.
    pub(super) fn restore_blocks(&mut self, blocks: Vec<Block>) -> Result<(), String> {
        for block in blocks {
            let id = block.block_id;
            if self.blocks.get(&id).is_some() {
                return Err(format!("block {id} appears twice"));
            }
            let section = self
                .index
                .section_by_id
                .get(&block.section_id)
                .map(|&i| &self.index.sections[i])
                .ok_or_else(|| format!("block {id} is in unknown section"))?;
            let fits = match section.is_seated() {
                true => block.seats.len() == block.quantity as usize && block.quantity > 0,
                false => block.seats.is_empty(),
            };
            if !fits {
                return Err(format!("block {id} does not fit its section"));
            }
            let mut distinct = HashSet::new();
            for seat in &block.seats {
                let (row, index) = section
                    .locate(seat)
                    .ok_or_else(|| format!("block {id} names unknown seat {seat}"))?;
                if !distinct.insert(seat)
                    || (!block.released
                        && section.slot(row, index) != super::section_seats::Slot::EMPTY)
                {
                    return Err(format!("seat {seat} is blocked twice"));
                }
            }
            self.enter_block(&block);
            self.blocks.push(block);
        }
        Ok(())
    }
}

/// Deciding `BlockSeats`: `Ok(None)` when the request repeats a block already made.
pub(super) fn block_seats(
    view: &LiveView<'_>,
    block_id: BlockId,
    section_id: &SectionId,
    selection: &Selection,
    reason: &BlockReason,
) -> Result<Option<InventoryEvent>, InventoryError> {
    let state = view.state;
    if let Some(existing) = state.block(&block_id) {
        return match &existing.section_id == section_id && &existing.request == selection {
            true => Ok(None),
            false => Err(InventoryError::IdempotencyKeyReused),
        };
    }
    let section = *state
        .index
        .section_by_id
        .get(section_id)
        .ok_or(InventoryError::UnknownSection)?;
    let seats = &state.index.sections[section];
    let (labels, quantity) = match selection {
        Selection::Seats(named) => {
            if named.is_empty() {
                return Err(InventoryError::EmptyBlock);
            }
            if !seats.is_seated() {
                return Err(InventoryError::SeatsInGaSection);
            }
            let mut distinct = HashSet::with_capacity(named.len());
            if let Some(twice) = named.iter().find(|seat| !distinct.insert(*seat)) {
                return Err(InventoryError::DuplicateSeat(twice.clone()));
            }
            let mut taken = Vec::new();
            for seat in named {
                let (row, index) = seats
                    .locate(seat)
                    .ok_or_else(|| InventoryError::UnknownSeat(seat.clone()))?;
                if view.is_taken(seats.slot(row, index)) {
                    taken.push(seat.clone());
                }
            }
            if !taken.is_empty() {
                return Err(InventoryError::SeatUnavailable(taken));
            }
            (named.clone(), named.len() as u32)
        }
        Selection::Quantity(quantity) => {
            if *quantity == 0 {
                return Err(InventoryError::EmptyBlock);
            }
            let available = view.free_in_section(section);
            if available < *quantity {
                return Err(InventoryError::SoldOut { available });
            }
            let labels = match seats.is_seated() {
                false => Vec::new(),
                true => {
                    let none = InventoryError::NoAdjacentSeats {
                        requested: *quantity,
                    };
                    let map = view.seat_map(section).ok_or(none.clone())?;
                    let run = best_available(&map, *quantity as usize).ok_or(none)?;
                    (run.first..run.first + run.len)
                        .filter_map(|seat| seats.label(run.row, seat))
                        .collect()
                }
            };
            (labels, *quantity)
        }
    };
    Ok(Some(InventoryEvent::SeatsBlocked {
        block_id,
        section_id: section_id.clone(),
        seats: labels,
        quantity,
        reason: reason.clone(),
        request: selection.clone(),
    }))
}

/// Deciding `ReleaseBlock`: nothing when the block was released already.
pub(super) fn release_block(
    view: &LiveView<'_>,
    block_id: &BlockId,
) -> Result<Option<InventoryEvent>, InventoryError> {
    let block = view
        .state
        .block(block_id)
        .ok_or(InventoryError::UnknownBlock)?;
    if block.released {
        return Ok(None);
    }
    Ok(Some(InventoryEvent::BlockReleased {
        block_id: *block_id,
        section_id: block.section_id.clone(),
        seats: block.seats.clone(),
        quantity: block.quantity,
    }))
}
