//! The inventory of one event: every section (assigned seats and general-admission capacity), its
//! live holds, and what each customer holds and owns. One aggregate per event, on subject
//! `inventory.<event>`, decided by one writer.
//!
//! It guards the promises of a sale: a seat is in at most one live hold or order; held + sold never
//! exceeds a section's capacity; a customer never holds and owns more than the event's limit; a
//! hold is checked out by one order and sold to that order at most once; a retried command (same
//! hold id, same order) decides nothing new. Expiry is lazy: a decision at `now` treats a hold
//! (Active, or Ordered and unpaid) whose `expires_at <= now` as gone, and records its
//! `HoldExpired` first.
//!
//! It decides presales too: before the general sale, a hold during a presale window needs one of
//! its access codes, and a code is good for a bounded number of tickets (`presale.rs`).
//! An operator may take seats off sale with a block (`blocks.rs`): no customer, no expiry, and
//! its seats are taken for every other rule until it is released.
//!
//! It keeps the waiting list of its sold-out sections too: seats that come back are offered to
//! the earliest entry they can fill in the same decision that frees them (`offers.rs`).

mod access_code;
mod apply;
mod best_available;
mod blocks;
mod cancel;
mod checkout;
mod command;
mod compact;
mod decide;
mod error;
mod event;
mod finished;
mod live_view;
mod offers;
mod place_hold;
mod presale;
mod section_seats;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;
mod ticket_types;
mod waitlist;
mod waitlist_commands;

pub use access_code::{
    AccessCode, AccessCodeHash, AccessCodeKey, InvalidAccessCode, MAX_ACCESS_CODE_CHARS,
    MIN_ACCESS_CODE_CHARS,
};
pub use blocks::{Block, BlockReason};
pub use command::{HoldRequest, InventoryCommand, Selection};
pub use decide::{decide, evolve};
pub use error::InventoryError;
pub use event::{InventoryEvent, InventorySection};
pub use presale::Presale;
pub use snapshot::{InventorySnapshot, SnapshotRefused};
pub use state::{EventInventory, Hold, HoldStatus, SeatStatus, SectionAvailability};
pub use waitlist::{WaitlistEntry, WaitlistPlace, WaitlistStatus};
