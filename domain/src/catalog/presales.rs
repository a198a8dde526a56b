//! The presales of an event's draft: windows before the general sale in which only holders of an
//! access code may buy (the inventory decides them, see `crate::inventory`).
//!
//! A presale has an id unique in its event, opens before it closes, closes no later than the
//! general sale opens (so an event with presales names `sale_opens_at`), overlaps no other presale
//! (so at most one is open at any time) and lets one code buy at least one ticket.

use super::details::InvalidEvent;
use crate::ids::PresaleId;
use crate::inventory::Presale;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The most presales one event may have.
pub const MAX_PRESALES: usize = 20;
/// The most tickets one access code may be good for.
pub const MAX_TICKETS_PER_CODE: u32 = 10_000;

/// The operator's object in `presales` of `POST /events`, as it arrives (unchecked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresaleDraft {
    pub presale_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub opens_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: Timestamp,
    pub max_tickets_per_code: u32,
}

/// Check the presales of a draft whose general sale opens at `sale_opens_at`; in the draft's
/// order.
pub(super) fn parse_presales(
    drafts: Vec<PresaleDraft>,
    sale_opens_at: Option<Timestamp>,
) -> Result<Vec<Presale>, InvalidEvent> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    if drafts.len() > MAX_PRESALES {
        return Err(invalid(
            "presales".into(),
            format!("may list at most {MAX_PRESALES} presales"),
        ));
    }
    let Some(sale_opens_at) = sale_opens_at else {
        return Err(invalid(
            "sale_opens_at".into(),
            "an event with presales needs the time its general sale opens",
        ));
    };
    let mut ids = HashSet::new();
    let mut presales: Vec<Presale> = Vec::with_capacity(drafts.len());
    for (i, draft) in drafts.into_iter().enumerate() {
        let at = |field: &str| format!("presales[{i}].{field}");
        let presale_id =
            PresaleId::parse(&draft.presale_id).map_err(|e| invalid(at("presale_id"), e.why))?;
        if !ids.insert(presale_id.clone()) {
            return Err(invalid(
                at("presale_id"),
                format!("{presale_id} is used by an earlier presale"),
            ));
        }
        if draft.closes_at <= draft.opens_at {
            return Err(invalid(at("closes_at"), "must be later than opens_at"));
        }
        if draft.closes_at > sale_opens_at {
            return Err(invalid(
                at("closes_at"),
                "must be no later than sale_opens_at: a presale comes before the general sale",
            ));
        }
        if !(1..=MAX_TICKETS_PER_CODE).contains(&draft.max_tickets_per_code) {
            return Err(invalid(
                at("max_tickets_per_code"),
                format!("must be between 1 and {MAX_TICKETS_PER_CODE}"),
            ));
        }
        if let Some(other) = presales
            .iter()
            .find(|p| p.opens_at < draft.closes_at && draft.opens_at < p.closes_at)
        {
            return Err(invalid(
                at("opens_at"),
                format!(
                    "overlaps presale {}: presales may not overlap",
                    other.presale_id
                ),
            ));
        }
        presales.push(Presale {
            presale_id,
            opens_at: draft.opens_at,
            closes_at: draft.closes_at,
            max_tickets_per_code: draft.max_tickets_per_code,
        });
    }
    Ok(presales)
}

fn invalid(field: String, reason: impl Into<String>) -> InvalidEvent {
    InvalidEvent {
        field,
        reason: reason.into(),
    }
}
