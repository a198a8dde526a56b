//! An event's details: parsed from an operator's draft once, valid from then on.

use super::presales::{parse_presales, PresaleDraft};
use super::ticket_types::{parse_ticket_types, TicketType, TicketTypeDraft};
use crate::ids::{RowLabel, SectionId, MAX_SEATS_PER_ROW};
use crate::inventory::{InventoryCommand, InventorySection, Presale};
use crate::money::{Currency, MAX_PRICE_MINOR};
use crate::waiting_room::{WaitingRoomConfig, WaitingRoomDraft};
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The most sections one event may have.
pub const MAX_SECTIONS: usize = 200;
/// The most assigned seats one event may have: bounds the inventory aggregate's memory.
pub const MAX_SEATS_PER_EVENT: u32 = 200_000;
/// The largest general-admission capacity of one section.
pub const MAX_GA_CAPACITY: u32 = 1_000_000;
/// Bounds of a hold's time to live, in seconds.
pub const MIN_HOLD_TTL_SECONDS: u32 = 5;
pub const MAX_HOLD_TTL_SECONDS: u32 = 86_400;
pub const DEFAULT_HOLD_TTL_SECONDS: u32 = 600;
/// Bounds of the per-customer ticket limit.
pub const MAX_TICKETS_PER_CUSTOMER: u32 = 100;
pub const DEFAULT_MAX_TICKETS_PER_CUSTOMER: u32 = 8;

/// An operator's description of a new event, as it arrives (strings and numbers, unchecked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDraft {
    pub name: String,
    pub venue: String,
    pub starts_at: Timestamp,
    pub currency: String,
    pub sections: Vec<SectionDraft>,
    pub sale_opens_at: Option<Timestamp>,
    pub sale_closes_at: Option<Timestamp>,
    pub hold_ttl_seconds: Option<u32>,
    pub max_tickets_per_customer: Option<u32>,
    /// The event is sold only through its waiting room (see [`crate::waiting_room`]).
    #[serde(default)]
    pub waiting_room: Option<WaitingRoomDraft>,
    /// Windows before the general sale that need an access code.
    #[serde(default)]
    pub presales: Vec<PresaleDraft>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionDraft {
    pub section_id: String,
    pub name: String,
    pub price_minor: i64,
    /// Assigned seats: rows of seats numbered from 1. Exactly one of `rows` and `capacity`.
    pub rows: Option<Vec<RowDraft>>,
    /// General admission: how many tickets the section holds.
    pub capacity: Option<u32>,
    /// Ticket types with their prices; none: one type at `price_minor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_types: Option<Vec<TicketTypeDraft>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowDraft {
    pub row: String,
    pub seats: u32,
}

/// Why a draft is not a valid event: the field (a JSON path like `sections[2].rows[0].seats`)
/// and what is wrong with it, for the operator to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidEvent {
    pub field: String,
    pub reason: String,
}

/// A valid event description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetails {
    pub name: String,
    pub venue: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: Timestamp,
    pub currency: Currency,
    pub sections: Vec<Section>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_opens_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sale_closes_at: Option<Timestamp>,
    pub hold_ttl_seconds: u32,
    pub max_tickets_per_customer: u32,
    /// When set, the event is sold only to customers its waiting room admitted. Absent from
    /// events created before waiting rooms existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<WaitingRoomConfig>,
    /// Windows before the general sale that need an access code (absent when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presales: Vec<Presale>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub section_id: SectionId,
    pub name: String,
    /// The price of one ticket in this section, in minor units of the event's currency.
    pub price_minor: i64,
    pub layout: SectionLayout,
    /// The section's ticket types (absent: one type at `price_minor`, see
    /// [`super::effective_types`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ticket_types: Vec<TicketType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SectionLayout {
    /// Assigned seats, labelled `<row>-<n>`; the first row is the best.
    Seated { rows: Vec<Row> },
    /// General admission: a capacity, no seat labels.
    GeneralAdmission { capacity: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub row: RowLabel,
    pub seats: u32,
}

impl Section {
    /// How many tickets this section can sell.
    pub fn capacity(&self) -> u32 {
        match &self.layout {
            SectionLayout::Seated { rows } => rows.iter().map(|r| r.seats).sum(),
            SectionLayout::GeneralAdmission { capacity } => *capacity,
        }
    }
}

/// The longest name of an event, a venue or a section, in characters.
const MAX_NAME_CHARS: usize = 200;

impl EventDetails {
    /// Check an operator's draft field by field. The first problem found is reported with its JSON
    /// path (`sections[2].rows[0].seats`) and a reason a person can act on.
    pub fn parse(draft: EventDraft) -> Result<EventDetails, InvalidEvent> {
        let name = parse_name("name", draft.name)?;
        let venue = parse_name("venue", draft.venue)?;
        let currency: Currency = draft
            .currency
            .parse()
            .map_err(|e: crate::money::InvalidCurrency| invalid("currency", e.to_string()))?;

        if draft.sections.is_empty() {
            return Err(invalid("sections", "must list at least one section"));
        }
        if draft.sections.len() > MAX_SECTIONS {
            return Err(invalid(
                "sections",
                format!("may list at most {MAX_SECTIONS} sections"),
            ));
        }
        let mut seen_ids = HashSet::new();
        let mut seats_so_far: u64 = 0;
        let mut sections = Vec::with_capacity(draft.sections.len());
        for (i, section) in draft.sections.into_iter().enumerate() {
            let section = parse_section(i, section, &mut seats_so_far)?;
            if !seen_ids.insert(section.section_id.clone()) {
                return Err(invalid(
                    format!("sections[{i}].section_id"),
                    format!("{} is used by an earlier section", section.section_id),
                ));
            }
            sections.push(section);
        }

        let hold_ttl_seconds = draft.hold_ttl_seconds.unwrap_or(DEFAULT_HOLD_TTL_SECONDS);
        if !(MIN_HOLD_TTL_SECONDS..=MAX_HOLD_TTL_SECONDS).contains(&hold_ttl_seconds) {
            return Err(invalid(
                "hold_ttl_seconds",
                format!(
                    "must be between {MIN_HOLD_TTL_SECONDS} and {MAX_HOLD_TTL_SECONDS} seconds"
                ),
            ));
        }
        let max_tickets_per_customer = draft
            .max_tickets_per_customer
            .unwrap_or(DEFAULT_MAX_TICKETS_PER_CUSTOMER);
        if !(1..=MAX_TICKETS_PER_CUSTOMER).contains(&max_tickets_per_customer) {
            return Err(invalid(
                "max_tickets_per_customer",
                format!("must be between 1 and {MAX_TICKETS_PER_CUSTOMER}"),
            ));
        }
        if let (Some(opens), Some(closes)) = (draft.sale_opens_at, draft.sale_closes_at) {
            if opens >= closes {
                return Err(invalid(
                    "sale_closes_at",
                    "must be later than sale_opens_at",
                ));
            }
        }

        let waiting_room = draft
            .waiting_room
            .as_ref()
            .map(|room| {
                WaitingRoomConfig::parse(room, draft.sale_opens_at, draft.sale_closes_at)
                    .map_err(|e| invalid(e.field(), e.to_string()))
            })
            .transpose()?;
        let presales = parse_presales(draft.presales, draft.sale_opens_at)?;

        Ok(EventDetails {
            name,
            venue,
            starts_at: draft.starts_at,
            currency,
            sections,
            sale_opens_at: draft.sale_opens_at,
            sale_closes_at: draft.sale_closes_at,
            hold_ttl_seconds,
            max_tickets_per_customer,
            waiting_room,
            presales,
        })
    }

    /// The sections as the inventory needs them: layout and price, no display names.
    pub fn inventory_sections(&self) -> Vec<InventorySection> {
        self.sections
            .iter()
            .map(|s| InventorySection {
                section_id: s.section_id.clone(),
                price_minor: s.price_minor,
                layout: s.layout.clone(),
                ticket_types: s.ticket_types.clone(),
            })
            .collect()
    }

    /// How many tickets the whole event can sell.
    pub fn total_capacity(&self) -> u64 {
        self.sections.iter().map(|s| u64::from(s.capacity())).sum()
    }
}

/// The command that opens the inventory of a published event: everything the inventory needs to
/// decide alone is copied from the catalog's details.
pub fn open_inventory(details: &EventDetails) -> InventoryCommand {
    InventoryCommand::Open {
        sections: details.inventory_sections(),
        currency: details.currency,
        hold_ttl_seconds: details.hold_ttl_seconds,
        max_tickets_per_customer: details.max_tickets_per_customer,
        sale_opens_at: details.sale_opens_at,
        sale_closes_at: details.sale_closes_at,
        waiting_room: details.waiting_room.is_some(),
        presales: details.presales.clone(),
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> InvalidEvent {
    InvalidEvent {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A display name: not blank, at most `MAX_NAME_CHARS` characters.
fn parse_name(field: &str, text: String) -> Result<String, InvalidEvent> {
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(text)
}

/// One section; `seats_so_far` counts assigned seats across the event, to stop early on a draft
/// that would exceed `MAX_SEATS_PER_EVENT`.
fn parse_section(
    i: usize,
    draft: SectionDraft,
    seats_so_far: &mut u64,
) -> Result<Section, InvalidEvent> {
    let at = |field: &str| format!("sections[{i}].{field}");
    let section_id =
        SectionId::parse(&draft.section_id).map_err(|e| invalid(at("section_id"), e.why))?;
    let name = parse_name(&at("name"), draft.name)?;
    if !(0..=MAX_PRICE_MINOR).contains(&draft.price_minor) {
        return Err(invalid(
            at("price_minor"),
            format!("must be between 0 and {MAX_PRICE_MINOR} minor units"),
        ));
    }
    let layout = match (draft.rows, draft.capacity) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                format!("sections[{i}]"),
                "give either rows (assigned seats) or capacity (general admission), not both",
            ))
        }
        (None, None) => {
            return Err(invalid(
                format!("sections[{i}]"),
                "give either rows (assigned seats) or capacity (general admission)",
            ))
        }
        (Some(rows), None) => SectionLayout::Seated {
            rows: parse_rows(i, rows, seats_so_far)?,
        },
        (None, Some(capacity)) => {
            if !(1..=MAX_GA_CAPACITY).contains(&capacity) {
                return Err(invalid(
                    at("capacity"),
                    format!("must be between 1 and {MAX_GA_CAPACITY}"),
                ));
            }
            SectionLayout::GeneralAdmission { capacity }
        }
    };
    let ticket_types = parse_ticket_types(i, draft.ticket_types.unwrap_or_default())?;
    Ok(Section {
        section_id,
        name,
        price_minor: draft.price_minor,
        layout,
        ticket_types,
    })
}

fn parse_rows(
    i: usize,
    drafts: Vec<RowDraft>,
    seats_so_far: &mut u64,
) -> Result<Vec<Row>, InvalidEvent> {
    if drafts.is_empty() {
        return Err(invalid(
            format!("sections[{i}].rows"),
            "must list at least one row",
        ));
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(drafts.len());
    for (j, draft) in drafts.into_iter().enumerate() {
        let at = |field: &str| format!("sections[{i}].rows[{j}].{field}");
        let row = RowLabel::parse(&draft.row).map_err(|e| invalid(at("row"), e.why))?;
        if !seen.insert(row.clone()) {
            return Err(invalid(
                at("row"),
                format!("row {row} is listed twice in this section"),
            ));
        }
        if !(1..=MAX_SEATS_PER_ROW).contains(&draft.seats) {
            return Err(invalid(
                at("seats"),
                format!("must be between 1 and {MAX_SEATS_PER_ROW}"),
            ));
        }
        *seats_so_far += u64::from(draft.seats);
        if *seats_so_far > u64::from(MAX_SEATS_PER_EVENT) {
            return Err(invalid(
                "sections",
                format!("an event may have at most {MAX_SEATS_PER_EVENT} assigned seats"),
            ));
        }
        rows.push(Row {
            row,
            seats: draft.seats,
        });
    }
    Ok(rows)
}
