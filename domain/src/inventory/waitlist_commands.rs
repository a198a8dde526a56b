//! Deciding `JoinWaitlist` and `LeaveWaitlist`, and the release of a hold, which ends the
//! waiting-list entry it was offered to.

use super::live_view::LiveView;
use super::state::SaleConfig;
use super::{Hold, InventoryError, InventoryEvent};
use crate::ids::{CustomerId, SectionId, WaitlistId};

/// A customer asks to wait for `quantity` tickets of a sold-out section. `Ok(None)` when the
/// customer already has a live entry, or this very entry was made before: the caller answers with
/// that entry (`live_waitlist_entry`, `waitlist_place`).
pub(super) fn join_waitlist(
    view: &LiveView<'_>,
    config: &SaleConfig,
    waitlist_id: WaitlistId,
    customer_id: &CustomerId,
    section_id: &SectionId,
    quantity: u32,
    adjacent: bool,
) -> Result<Option<InventoryEvent>, InventoryError> {
    let state = view.state;
    // Adjacency means something in a seated section only.
    let seated = state
        .index
        .section_by_id
        .get(section_id)
        .is_some_and(|&i| state.index.sections[i].is_seated());
    let adjacent = adjacent && seated;
    if let Some(existing) = state.waitlist.get(&waitlist_id) {
        let same = &existing.customer_id == customer_id
            && &existing.section_id == section_id
            && existing.quantity == quantity
            && existing.adjacent == adjacent;
        return match same {
            true => Ok(None),
            false => Err(InventoryError::IdempotencyKeyReused),
        };
    }
    if state.waitlist.live_entry_of(customer_id).is_some() {
        return Ok(None);
    }
    if config.closed(view.now) {
        return Err(InventoryError::SaleClosed);
    }
    let section = *state
        .index
        .section_by_id
        .get(section_id)
        .ok_or(InventoryError::UnknownSection)?;
    let max = config.max_tickets_per_customer;
    if quantity == 0 || quantity > max {
        return Err(InventoryError::InvalidQuantity { max });
    }
    let available = view.free_in_section(section);
    if available > 0 {
        return Err(InventoryError::NotSoldOut { available });
    }
    let current = view.tickets_of(customer_id);
    if current + quantity > max {
        return Err(InventoryError::LimitExceeded {
            limit: max,
            current,
        });
    }
    Ok(Some(InventoryEvent::WaitlistJoined {
        waitlist_id,
        customer_id: customer_id.clone(),
        section_id: section_id.clone(),
        quantity,
        adjacent,
    }))
}

/// The customer leaves: a waiting entry ends; an offered one gives its hold back while nobody
/// checked it out. Leaving again, or leaving an entry that ended, decides nothing.
pub(super) fn leave_waitlist(
    view: &LiveView<'_>,
    waitlist_id: &WaitlistId,
    customer_id: &CustomerId,
) -> Result<Vec<InventoryEvent>, InventoryError> {
    let state = view.state;
    // Another customer's entry is answered as one that does not exist.
    let entry = state
        .waitlist
        .get(waitlist_id)
        .filter(|entry| &entry.customer_id == customer_id)
        .ok_or(InventoryError::UnknownWaitlistEntry)?;
    use super::WaitlistStatus::*;
    match entry.status {
        Waiting => Ok(vec![InventoryEvent::WaitlistLeft {
            waitlist_id: *waitlist_id,
            customer_id: customer_id.clone(),
            hold_id: None,
        }]),
        Offered { hold_id } => {
            let hold = state.hold(&hold_id).ok_or(InventoryError::UnknownHold)?;
            match hold.status {
                _ if view.is_due(&hold) => Ok(Vec::new()),
                super::HoldStatus::Active => Ok(released(view, &hold)),
                status => Err(InventoryError::InvalidHoldState {
                    status: status.name(),
                    action: "given back by leaving the waiting list",
                }),
            }
        }
        _ => Ok(Vec::new()),
    }
}

/// `HoldReleased` for a live hold, followed by `WaitlistLeft` when it was an entry's offer.
pub(super) fn released(view: &LiveView<'_>, hold: &Hold) -> Vec<InventoryEvent> {
    let mut facts = vec![InventoryEvent::HoldReleased {
        hold_id: hold.hold_id,
        customer_id: hold.customer_id.clone(),
        section_id: hold.section_id.clone(),
        seats: hold.seats.clone(),
        quantity: hold.quantity,
    }];
    if let Some(entry) = view.state.waitlist.offered_with(&hold.hold_id) {
        facts.push(InventoryEvent::WaitlistLeft {
            waitlist_id: entry.waitlist_id,
            customer_id: entry.customer_id.clone(),
            hold_id: Some(hold.hold_id),
        });
    }
    facts
}
