//! Ticket types and price tiers of a section (`adult`, `child`, `vip`): each with its own price.
//!
//! A section sells one pool of seats whatever the type: types change what a ticket costs, not how
//! many there are, so availability stays one number per section. A section that lists no types has
//! one, [`DEFAULT_TYPE_ID`], at the section's price; the first listed type is the one a hold gets
//! when it names none.

use super::details::InvalidEvent;
use crate::ids::TicketTypeId;
use crate::money::MAX_PRICE_MINOR;
use serde::{Deserialize, Serialize};

/// The type of every ticket of a section that lists none.
pub const DEFAULT_TYPE_ID: &str = "standard";
/// The most types one section may list.
pub const MAX_TICKET_TYPES: usize = 20;
/// The longest name of a type, in characters.
const MAX_TYPE_NAME_CHARS: usize = 100;

/// A type as the operator writes it in `POST /events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketTypeDraft {
    pub type_id: String,
    pub name: String,
    pub price_minor: i64,
}

/// A valid type of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketType {
    pub type_id: TicketTypeId,
    pub name: String,
    /// The price of one ticket of this type, in minor units of the event's currency.
    pub price_minor: i64,
}

/// The types a section sells: the listed ones, or the one default type at `price_minor`.
pub fn effective_types(listed: &[TicketType], price_minor: i64) -> Vec<TicketType> {
    match listed.is_empty() {
        false => listed.to_vec(),
        true => vec![TicketType {
            type_id: TicketTypeId::parse(DEFAULT_TYPE_ID).expect("a valid id"),
            name: "Standard".into(),
            price_minor,
        }],
    }
}

/// The types of section `i`: at most [`MAX_TICKET_TYPES`], ids distinct, names not blank, prices
/// in range. An empty list is the default type (none is stored).
pub(super) fn parse_ticket_types(
    i: usize,
    drafts: Vec<TicketTypeDraft>,
) -> Result<Vec<TicketType>, InvalidEvent> {
    let at = |field: String| format!("sections[{i}].ticket_types{field}");
    if drafts.len() > MAX_TICKET_TYPES {
        return Err(invalid(
            at(String::new()),
            format!("at most {MAX_TICKET_TYPES} types"),
        ));
    }
    let mut types: Vec<TicketType> = Vec::with_capacity(drafts.len());
    for (t, draft) in drafts.into_iter().enumerate() {
        let type_id = TicketTypeId::parse(&draft.type_id)
            .map_err(|e| invalid(at(format!("[{t}].type_id")), e.why))?;
        if types.iter().any(|known| known.type_id == type_id) {
            return Err(invalid(at(format!("[{t}].type_id")), "is listed twice"));
        }
        let name = draft.name.trim();
        if name.is_empty() || name.chars().count() > MAX_TYPE_NAME_CHARS {
            return Err(invalid(
                at(format!("[{t}].name")),
                format!("must be 1 to {MAX_TYPE_NAME_CHARS} characters"),
            ));
        }
        if !(0..=MAX_PRICE_MINOR).contains(&draft.price_minor) {
            return Err(invalid(
                at(format!("[{t}].price_minor")),
                format!("must be between 0 and {MAX_PRICE_MINOR} minor units"),
            ));
        }
        types.push(TicketType {
            type_id,
            name: name.to_owned(),
            price_minor: draft.price_minor,
        });
    }
    Ok(types)
}

fn invalid(field: String, reason: impl Into<String>) -> InvalidEvent {
    InvalidEvent {
        field,
        reason: reason.into(),
    }
}
