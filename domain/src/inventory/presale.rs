//! Presales: windows before the general sale in which a hold needs an access code, each code good
//! for at most `max_tickets_per_code` tickets in total.
//!
//! The inventory sees hashes only ([`super::access_code`]). Codes are loaded per presale
//! (`AccessCodesLoaded`, only the hashes not loaded yet). A hold placed during a presale names its
//! code's hash; the writer checks the window, that the hash belongs to that presale and what the
//! code has left, and records the spending in the same decision (`AccessCodeSpent`, right after
//! the hold's `SeatsHeld`). The budget is decided here, in the event's one writer, so no race of
//! retries or instances can overspend a code.
//!
//! What a code has spent is the tickets of its holds that occupy seats now: live (Active, Ordered)
//! or sold. A hold released, expired, abandoned or returned gives its tickets back to the code, as
//! a pretix voucher or an alf.io code is free again once a cart lapses or an order is cancelled. A
//! lapsed hold its order still buys takes them again only if the code has them left.

use super::access_code::AccessCodeHash;
use super::live_view::LiveView;
use super::state::SaleConfig;
use super::{EventInventory, HoldRequest, InventoryError, InventoryEvent};
use crate::ids::{HoldId, PresaleId};
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A presale as the catalog set it up: `[opens_at, closes_at)`, before the general sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presale {
    pub presale_id: PresaleId,
    #[serde(with = "time::serde::rfc3339")]
    pub opens_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: Timestamp,
    /// Tickets one code may hold and own in total, across every customer who types it.
    pub max_tickets_per_code: u32,
}

impl Presale {
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.opens_at <= now && now < self.closes_at
    }
}

/// A code of one presale: what a hold spends and what a budget is counted for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct SpentCode {
    pub presale_id: PresaleId,
    pub code: AccessCodeHash,
}

/// The codes loaded into each presale, and the code each hold placed during a presale spent (kept
/// after the hold ends, so that a lapsed hold bought by its order counts again). The tickets each
/// code has spent are an index (`Index::code_tickets`), kept by `enter` and `leave`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct PresaleCodes {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    codes: BTreeMap<PresaleId, BTreeSet<AccessCodeHash>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    spent_by: BTreeMap<HoldId, SpentCode>,
}

/// `PresaleCodes` in a binary snapshot: both maps, empty or not (a binary format cannot leave one
/// out).
#[derive(Serialize, Deserialize)]
#[serde(remote = "PresaleCodes")]
pub(super) struct PresaleCodesFields {
    codes: BTreeMap<PresaleId, BTreeSet<AccessCodeHash>>,
    spent_by: BTreeMap<HoldId, SpentCode>,
}

impl PresaleCodes {
    pub(super) fn is_empty(&self) -> bool {
        self.codes.is_empty() && self.spent_by.is_empty()
    }

    /// The code a hold spent, if it was placed during a presale.
    pub(super) fn spent_by(&self, hold_id: &HoldId) -> Option<&SpentCode> {
        self.spent_by.get(hold_id)
    }

    fn knows(&self, presale_id: &PresaleId, code: &AccessCodeHash) -> bool {
        self.codes
            .get(presale_id)
            .is_some_and(|codes| codes.contains(code))
    }
}

/// Where a new hold at `now` falls: the general sale, or an open presale. Before the general sale
/// and outside every presale, nothing may be held (`SaleNotOpen`).
pub(super) fn presale_at(
    config: &SaleConfig,
    now: Timestamp,
) -> Result<Option<&Presale>, InventoryError> {
    if config.sale_opens_at.is_none_or(|opens| now >= opens) {
        return Ok(None);
    }
    config
        .presales
        .iter()
        .find(|presale| presale.is_open(now))
        .map(Some)
        .ok_or(InventoryError::SaleNotOpen)
}

/// The code a hold during `presale` spends: the request's, loaded into that presale.
pub(super) fn code_for(
    state: &EventInventory,
    presale: &Presale,
    request: &HoldRequest,
) -> Result<SpentCode, InventoryError> {
    let code = request
        .access_code
        .filter(|code| state.presale_codes.knows(&presale.presale_id, code))
        .ok_or(InventoryError::AccessCodeInvalid)?;
    Ok(SpentCode {
        presale_id: presale.presale_id.clone(),
        code,
    })
}

/// The tickets of holds that spent `code` and occupy seats at the view's `now` (due ones are free).
fn spent_at(view: &LiveView<'_>, code: &SpentCode) -> u32 {
    let state = view.state;
    let counted = state.index.code_tickets.get(code).copied().unwrap_or(0);
    let due: u32 = view
        .due
        .iter()
        .filter_map(|&i| state.holds.get(i as usize))
        .filter(|hold| state.presale_codes.spent_by(&hold.hold_id) == Some(code))
        .map(|hold| hold.quantity)
        .sum();
    counted.saturating_sub(due)
}

/// `quantity` more tickets fit in the code's budget.
pub(super) fn check_budget(
    view: &LiveView<'_>,
    presale: &Presale,
    code: &SpentCode,
    quantity: u32,
) -> Result<(), InventoryError> {
    let spent = spent_at(view, code);
    match spent + quantity <= presale.max_tickets_per_code {
        true => Ok(()),
        false => Err(InventoryError::AccessCodeUsedUp {
            max: presale.max_tickets_per_code,
            spent,
        }),
    }
}

/// A lapsed hold may be taken again (sold to its order) only within its code's budget, if it
/// spent one.
pub(super) fn fits_again(
    view: &LiveView<'_>,
    config: &SaleConfig,
    hold_id: &HoldId,
    quantity: u32,
) -> bool {
    let Some(code) = view.state.presale_codes.spent_by(hold_id) else {
        return true;
    };
    let Some(presale) = config
        .presales
        .iter()
        .find(|p| p.presale_id == code.presale_id)
    else {
        return true;
    };
    check_budget(view, presale, code, quantity).is_ok()
}

/// A retry of a hold placed with a code must name that code.
pub(super) fn same_code(state: &EventInventory, request: &HoldRequest) -> bool {
    state
        .presale_codes
        .spent_by(&request.hold_id)
        .is_none_or(|spent| request.access_code == Some(spent.code))
}

/// `LoadAccessCodes`: the codes of a known presale that it does not have yet, if any.
pub(super) fn load_codes(
    state: &EventInventory,
    config: &SaleConfig,
    presale_id: &PresaleId,
    codes: &[AccessCodeHash],
) -> Result<Option<InventoryEvent>, InventoryError> {
    if !config.presales.iter().any(|p| &p.presale_id == presale_id) {
        return Err(InventoryError::UnknownPresale);
    }
    let new: BTreeSet<AccessCodeHash> = codes
        .iter()
        .filter(|code| !state.presale_codes.knows(presale_id, code))
        .copied()
        .collect();
    Ok(
        (!new.is_empty()).then(|| InventoryEvent::AccessCodesLoaded {
            presale_id: presale_id.clone(),
            codes: new.into_iter().collect(),
        }),
    )
}

impl EventInventory {
    /// Folds `AccessCodesLoaded`.
    pub(super) fn codes_loaded(&mut self, presale_id: &PresaleId, codes: &[AccessCodeHash]) {
        self.presale_codes
            .codes
            .entry(presale_id.clone())
            .or_default()
            .extend(codes.iter().copied());
    }

    /// Folds `AccessCodeSpent`: the hold (just placed) counts against its code from now on.
    pub(super) fn code_spent(&mut self, hold_id: &HoldId, spent: SpentCode) {
        if self.presale_codes.spent_by.contains_key(hold_id) {
            return;
        }
        // A folded hold occupies nothing: only a whole one may count now.
        let occupying = self
            .index
            .hold_by_id
            .get(hold_id)
            .map(|&at| &self.holds[at as usize])
            .filter(|hold| {
                hold.status.is_pending() || matches!(hold.status, super::HoldStatus::Sold { .. })
            })
            .map(|hold| hold.quantity);
        if let Some(quantity) = occupying {
            *self.index.code_tickets.entry(spent.clone()).or_insert(0) += quantity;
        }
        self.presale_codes.spent_by.insert(*hold_id, spent);
    }

    /// A hold starts (`+1`) or stops (`-1`) occupying seats: its code's count follows.
    pub(super) fn count_code(&mut self, hold_id: &HoldId, quantity: u32, starts: bool) {
        let Some(code) = self.presale_codes.spent_by.get(hold_id) else {
            return;
        };
        let count = self.index.code_tickets.entry(code.clone()).or_insert(0);
        *count = match starts {
            true => *count + quantity,
            false => count.saturating_sub(quantity),
        };
    }
}
