//! Deciding a `PlaceHold`: the retry check, the sale window (or presale window and its code), the
//! admission (for an event sold through a waiting room), the seats (named or best available), the
//! code's budget and the customer's limit, in that order, against the inventory as it stands at
//! `now`.

use super::best_available::best_available;
use super::live_view::LiveView;
use super::presale;
use super::state::SaleConfig;
use super::ticket_types::{recorded, typed};
use super::{HoldRequest, InventoryError, InventoryEvent, Selection};
use crate::ids::SeatLabel;
use crate::waiting_room::AdmissionRefused;
use std::collections::HashSet;
use time::Duration;

/// Empty when the request repeats a hold already placed: the caller answers with that hold.
/// Otherwise its `SeatsHeld`, then its `HoldTyped` in a section that lists ticket types, then the
/// `AccessCodeSpent` of its code during a presale.
pub(super) fn place_hold(
    view: &LiveView<'_>,
    config: &SaleConfig,
    request: &HoldRequest,
) -> Result<Vec<InventoryEvent>, InventoryError> {
    let state = view.state;
    // A retry is recognised before anything that may have changed since the first answer (the
    // window, the seats): it gets the first answer again, forever.
    if let Some(existing) = state.hold(&request.hold_id) {
        let same_type = config
            .sections
            .iter()
            .find(|s| s.section_id == request.section_id)
            .is_some_and(|s| recorded(s, request.type_id.as_ref()) == existing.type_id);
        let same_request = existing.customer_id == request.customer_id
            && existing.section_id == request.section_id
            && existing.request == request.selection
            && same_type
            && presale::same_code(state, request);
        return match same_request {
            true => Ok(Vec::new()),
            false => Err(InventoryError::IdempotencyKeyReused),
        };
    }

    let presale = presale::presale_at(config, view.now)?;
    if config.closed(view.now) {
        return Err(InventoryError::SaleClosed);
    }
    let code = presale
        .map(|presale| presale::code_for(state, presale, request).map(|code| (presale, code)))
        .transpose()?;
    if config.waiting_room {
        check_admission(view, request)?;
    }
    let section = *state
        .index
        .section_by_id
        .get(&request.section_id)
        .ok_or(InventoryError::UnknownSection)?;
    // A type of another section (or none of this one) is refused before any seat is looked at.
    let typed = typed(
        &config.sections[section],
        request.hold_id,
        request.type_id.as_ref(),
    )?;

    let max = config.max_tickets_per_customer;
    let (seats, quantity) = match &request.selection {
        Selection::Seats(seats) => {
            check_named_seats(view, section, seats, max)?;
            (seats.clone(), seats.len() as u32)
        }
        Selection::Quantity(quantity) => (pick_seats(view, section, *quantity, max)?, *quantity),
    };

    if let Some((presale, code)) = &code {
        presale::check_budget(view, presale, code, quantity)?;
    }
    let current = view.tickets_of(&request.customer_id);
    if current + quantity > max {
        return Err(InventoryError::LimitExceeded {
            limit: max,
            current,
        });
    }

    let held = InventoryEvent::SeatsHeld {
        hold_id: request.hold_id,
        customer_id: request.customer_id.clone(),
        section_id: request.section_id.clone(),
        seats,
        quantity,
        expires_at: view
            .now
            .saturating_add(Duration::seconds(i64::from(config.hold_ttl_seconds))),
        request: request.selection.clone(),
    };
    let spent = code.map(|(_, code)| InventoryEvent::AccessCodeSpent {
        hold_id: request.hold_id,
        presale_id: code.presale_id,
        code: code.code,
    });
    Ok(std::iter::once(held).chain(typed).chain(spent).collect())
}

/// Named seats: a sensible count, a seated section, no seat twice, every seat exists and is free.
fn check_named_seats(
    view: &LiveView<'_>,
    section: usize,
    seats: &[SeatLabel],
    max: u32,
) -> Result<(), InventoryError> {
    if seats.is_empty() || seats.len() > max as usize {
        return Err(InventoryError::InvalidQuantity { max });
    }
    let section = &view.state.index.sections[section];
    if !section.is_seated() {
        return Err(InventoryError::SeatsInGaSection);
    }
    let mut named = HashSet::with_capacity(seats.len());
    if let Some(twice) = seats.iter().find(|seat| !named.insert(*seat)) {
        return Err(InventoryError::DuplicateSeat(twice.clone()));
    }
    let mut taken = Vec::new();
    for seat in seats {
        let (row, index) = section
            .locate(seat)
            .ok_or_else(|| InventoryError::UnknownSeat(seat.clone()))?;
        if view.is_taken(section.slot(row, index)) {
            taken.push(seat.clone());
        }
    }
    match taken.is_empty() {
        true => Ok(()),
        false => Err(InventoryError::SeatUnavailable(taken)),
    }
}

/// A quantity: general admission takes it from the capacity (no seats named); a seated section
/// gives the best available adjacent seats.
fn pick_seats(
    view: &LiveView<'_>,
    section: usize,
    quantity: u32,
    max: u32,
) -> Result<Vec<SeatLabel>, InventoryError> {
    if quantity == 0 || quantity > max {
        return Err(InventoryError::InvalidQuantity { max });
    }
    let available = view.free_in_section(section);
    if available < quantity {
        return Err(InventoryError::SoldOut { available });
    }
    let seats = &view.state.index.sections[section];
    if !seats.is_seated() {
        return Ok(Vec::new());
    }
    let no_block = InventoryError::NoAdjacentSeats {
        requested: quantity,
    };
    let map = view.seat_map(section).ok_or(no_block.clone())?;
    let block = best_available(&map, quantity as usize).ok_or(no_block)?;
    Ok((block.first..block.first + block.len)
        .filter_map(|seat| seats.label(block.row, seat))
        .collect())
}

/// A new hold of an event sold through a waiting room needs an admission of this customer to
/// this event that is still live at the decision's `now`.
fn check_admission(view: &LiveView<'_>, request: &HoldRequest) -> Result<(), InventoryError> {
    let claims = request
        .admission
        .as_ref()
        .ok_or(InventoryError::NotAdmitted)?;
    crate::waiting_room::check_admission(
        claims,
        &request.customer_id,
        request.hold_id.event(),
        view.now,
    )
    .map_err(|refused| match refused {
        AdmissionRefused::AdmissionExpired => InventoryError::AdmissionExpired,
        _ => InventoryError::NotAdmitted,
    })
}
