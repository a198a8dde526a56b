//! The waiting list of an event's sold-out sections: who waits for seats to come back, in the order
//! they joined, and what became of each entry.
//!
//! An entry is `Waiting` until seats come back that it can take; it then gets them as a hold of its
//! customer (`Offered`, the hold `HoldId::offered_to` the entry). The offer's end ends the entry:
//! its customer gives it back or leaves (or its order gives it up) → `Left`; it runs out →
//! `Expired`. A customer has at most one live (waiting or offered) entry per event.
//!
//! Part of the inventory aggregate, so that seats freed by a decision are offered in that same
//! decision (`offers.rs`). Entries are kept whole for the life of the sale (a few dozen bytes each,
//! one per customer at most who asked); the indexes are derived and rebuilt from them on load.

use crate::ids::{CustomerId, HoldId, SectionId, WaitlistId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// One customer's place on the waiting list of one section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub waitlist_id: WaitlistId,
    pub customer_id: CustomerId,
    pub section_id: SectionId,
    /// Tickets wanted, all at once.
    pub quantity: u32,
    /// In a seated section: only seats side by side in one row will do.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adjacent: bool,
    pub status: WaitlistStatus,
}

/// Where an entry is in its life: `Waiting` → `Offered` → `Left` or `Expired`, or `Waiting` →
/// `Left`. An offered entry stays `Offered` once its hold is checked out or bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WaitlistStatus {
    Waiting,
    Offered { hold_id: HoldId },
    Left,
    Expired,
}

impl WaitlistStatus {
    /// The stable name used in answers and read models.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Offered { .. } => "offered",
            Self::Left => "left",
            Self::Expired => "expired",
        }
    }

    /// Waiting or offered: the customer cannot join again.
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Waiting | Self::Offered { .. })
    }
}

/// An entry as an answer shows it: the entry and, while it waits, its place in its section's line
/// (1 = next to be offered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistPlace {
    pub entry: WaitlistEntry,
    pub position: Option<u32>,
}

/// Every entry, in joining order, and indexes derived from them.
#[derive(Debug, Clone, Default)]
pub(super) struct Waitlist {
    entries: Vec<WaitlistEntry>,
    by_id: HashMap<WaitlistId, usize>,
    /// Waiting entries per section, in joining order.
    waiting: HashMap<SectionId, BTreeSet<usize>>,
    /// The live entry of each customer who has one.
    live_by_customer: HashMap<CustomerId, usize>,
    /// Offered entries by their hold.
    by_offer: HashMap<HoldId, usize>,
}

impl PartialEq for Waitlist {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Waitlist {
    /// The list these entries make (a snapshot's), or why they cannot be one.
    pub(super) fn from_entries(entries: Vec<WaitlistEntry>) -> Result<Self, String> {
        let mut list = Waitlist::default();
        for entry in entries {
            let id = entry.waitlist_id;
            if list.by_id.contains_key(&id) {
                return Err(format!("waiting-list entry {id} appears twice"));
            }
            if entry.status.is_live() && list.live_by_customer.contains_key(&entry.customer_id) {
                return Err(format!(
                    "customer {} has two live waiting-list entries",
                    entry.customer_id
                ));
            }
            list.push(entry);
        }
        Ok(list)
    }

    pub(super) fn entries(&self) -> &[WaitlistEntry] {
        &self.entries
    }

    pub(super) fn get(&self, id: &WaitlistId) -> Option<&WaitlistEntry> {
        self.entries.get(*self.by_id.get(id)?)
    }

    /// The customer's waiting or offered entry, if any.
    pub(super) fn live_entry_of(&self, customer: &CustomerId) -> Option<&WaitlistEntry> {
        self.entries.get(*self.live_by_customer.get(customer)?)
    }

    /// The offered entry whose hold this is.
    pub(super) fn offered_with(&self, hold_id: &HoldId) -> Option<&WaitlistEntry> {
        self.entries.get(*self.by_offer.get(hold_id)?)
    }

    /// True when somebody waits in some section.
    pub(super) fn anyone_waiting(&self) -> bool {
        self.waiting.values().any(|line| !line.is_empty())
    }

    /// The waiting entries of a section, first come first.
    pub(super) fn waiting_in<'a>(
        &'a self,
        section: &SectionId,
    ) -> impl Iterator<Item = &'a WaitlistEntry> + 'a {
        self.waiting
            .get(section)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.entries.get(i))
    }

    /// 1 for the first waiting entry of its section; `None` once it no longer waits. Linear in the
    /// entries ahead.
    pub(super) fn position(&self, id: &WaitlistId) -> Option<u32> {
        let &at = self.by_id.get(id)?;
        let entry = &self.entries[at];
        if entry.status != WaitlistStatus::Waiting {
            return None;
        }
        let ahead = self.waiting.get(&entry.section_id)?.range(..at).count();
        Some(ahead as u32 + 1)
    }

    /// `WaitlistJoined`: a new waiting entry (an id already known changes nothing).
    pub(super) fn join(&mut self, entry: WaitlistEntry) {
        if !self.by_id.contains_key(&entry.waitlist_id)
            && !self.live_by_customer.contains_key(&entry.customer_id)
        {
            self.push(entry);
        }
    }

    /// `WaitlistOffered`: a waiting entry got its hold.
    pub(super) fn offered(&mut self, id: &WaitlistId, hold_id: HoldId) {
        self.change(id, WaitlistStatus::Offered { hold_id }, |s| {
            s == WaitlistStatus::Waiting
        });
    }

    /// `WaitlistLeft`: a live entry ends, its offer (if any) given back.
    pub(super) fn left(&mut self, id: &WaitlistId) {
        self.change(id, WaitlistStatus::Left, |s| s.is_live());
    }

    /// `WaitlistOfferExpired`: an offered entry ends with its hold.
    pub(super) fn offer_expired(&mut self, id: &WaitlistId) {
        self.change(id, WaitlistStatus::Expired, |s| {
            matches!(s, WaitlistStatus::Offered { .. })
        });
    }

    fn push(&mut self, entry: WaitlistEntry) {
        let at = self.entries.len();
        self.by_id.insert(entry.waitlist_id, at);
        self.entries.push(entry);
        self.enter(at);
    }

    fn change(
        &mut self,
        id: &WaitlistId,
        to: WaitlistStatus,
        from: impl Fn(WaitlistStatus) -> bool,
    ) {
        let Some(&at) = self.by_id.get(id) else {
            return;
        };
        if from(self.entries[at].status) {
            self.leave(at);
            self.entries[at].status = to;
            self.enter(at);
        }
    }

    /// Index an entry in its current status.
    fn enter(&mut self, at: usize) {
        let entry = &self.entries[at];
        if entry.status.is_live() {
            self.live_by_customer.insert(entry.customer_id.clone(), at);
        }
        match entry.status {
            WaitlistStatus::Waiting => {
                self.waiting
                    .entry(entry.section_id.clone())
                    .or_default()
                    .insert(at);
            }
            WaitlistStatus::Offered { hold_id } => {
                self.by_offer.insert(hold_id, at);
            }
            WaitlistStatus::Left | WaitlistStatus::Expired => {}
        }
    }

    /// Undo `enter` for an entry about to change status.
    fn leave(&mut self, at: usize) {
        let entry = &self.entries[at];
        if entry.status.is_live() {
            self.live_by_customer.remove(&entry.customer_id);
        }
        match entry.status {
            WaitlistStatus::Waiting => {
                if let Some(line) = self.waiting.get_mut(&entry.section_id) {
                    line.remove(&at);
                }
            }
            WaitlistStatus::Offered { hold_id } => {
                self.by_offer.remove(&hold_id);
            }
            WaitlistStatus::Left | WaitlistStatus::Expired => {}
        }
    }
}
