//! Ticket types in the inventory: which type a hold is of, and what its tickets cost.
//!
//! Types share their section's seats (availability stays one number per section); a hold is of
//! one type, named in the request or the section's first (default) one. In a section that lists
//! types, the decided type is recorded by `HoldTyped` right after the `SeatsHeld`, in the same
//! commit; a section that lists none has only its default type, and its holds are decided, and
//! stored, exactly as before types existed.

use super::{InventoryError, InventoryEvent, InventorySection};
use crate::catalog::{effective_types, TicketType};
use crate::ids::{HoldId, TicketTypeId};

/// The type `requested` in `section` (its first type when none is named).
pub(super) fn type_of(
    section: &InventorySection,
    requested: Option<&TicketTypeId>,
) -> Result<TicketType, InventoryError> {
    let types = effective_types(&section.ticket_types, section.price_minor);
    match requested {
        None => Ok(types.into_iter().next().expect("a section has a type")),
        Some(id) => types
            .into_iter()
            .find(|t| &t.type_id == id)
            .ok_or(InventoryError::UnknownTicketType),
    }
}

/// What the hold's request for `requested` records: the type, when the section lists types.
pub(super) fn typed(
    section: &InventorySection,
    hold_id: HoldId,
    requested: Option<&TicketTypeId>,
) -> Result<Option<InventoryEvent>, InventoryError> {
    let chosen = type_of(section, requested)?;
    Ok(
        (!section.ticket_types.is_empty()).then_some(InventoryEvent::HoldTyped {
            hold_id,
            type_id: chosen.type_id,
        }),
    )
}

/// The type a hold of `section` records for `requested`, as `typed` would: for the retry check.
pub(super) fn recorded(
    section: &InventorySection,
    requested: Option<&TicketTypeId>,
) -> Option<TicketTypeId> {
    match section.ticket_types.is_empty() {
        true => None,
        false => type_of(section, requested).ok().map(|t| t.type_id),
    }
}
