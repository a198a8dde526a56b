//! The inventory's decider.
//!
//! Every decision at `now` starts with the `HoldExpired` facts of the holds due at `now` (in expiry
//! order), then decides the command against the state as if they were applied (`LiveView`). So a
//! late expiry timer never blocks a sale, and `ExpireDue` is just that first step.
//! A retried command (a hold placed, released, sold or returned already) adds nothing after them.

use super::live_view::LiveView;
use super::place_hold::place_hold;
use super::state::SaleConfig;
use super::{EventInventory, Hold, HoldStatus, InventoryCommand, InventoryError, InventoryEvent};
use crate::ids::{CustomerId, HoldId, OrderId};
use crate::Timestamp;

/// Decide `command` at `now`. `Ok` carries the due expiries, then the command's own facts; a
/// retry of something already done has no facts of its own (the caller answers from the state:
/// `state.hold(..)` after applying). `Err` decides nothing at all, expiries included: the next
/// decision records them.
pub fn decide(
    state: &EventInventory,
    command: &InventoryCommand,
    now: Timestamp,
) -> Result<Vec<InventoryEvent>, InventoryError> {
    let Some(config) = &state.config else {
        return match opening(command) {
            Some(config) => Ok(vec![opened(config)]),
            None => Err(InventoryError::NotOpen),
        };
    };
    let view = state.at(now);
    let mut events = view.expiry_events();
    match command {
        InventoryCommand::Open { .. } => {
            if opening(command).as_ref() != Some(config) {
                return Err(InventoryError::AlreadyOpen);
            }
        }
        InventoryCommand::ExpireDue => {}
        InventoryCommand::PlaceHold(request) => events.extend(place_hold(&view, config, request)?),
        InventoryCommand::ReleaseHold {
            hold_id,
            customer_id,
        } => events.extend(release_hold(&view, hold_id, customer_id)?),
        InventoryCommand::SellHold { hold_id, order_id } => {
            events.extend(sell_hold(&view, config, hold_id, *order_id)?)
        }
        InventoryCommand::ReturnSeats { order_id } => events.extend(return_seats(&view, order_id)?),
    }
    Ok(events)
}

/// Fold one fact into the state (see [`EventInventory::apply`], which does it in place).
pub fn evolve(mut state: EventInventory, event: &InventoryEvent) -> EventInventory {
    state.apply(event);
    state
}

/// The sale an `Open` command describes.
fn opening(command: &InventoryCommand) -> Option<SaleConfig> {
    match command {
        InventoryCommand::Open {
            sections,
            currency,
            hold_ttl_seconds,
            max_tickets_per_customer,
            sale_opens_at,
            sale_closes_at,
        } => Some(SaleConfig {
            sections: sections.clone(),
            currency: *currency,
            hold_ttl_seconds: *hold_ttl_seconds,
            max_tickets_per_customer: *max_tickets_per_customer,
            sale_opens_at: *sale_opens_at,
            sale_closes_at: *sale_closes_at,
        }),
        _ => None,
    }
}

fn opened(config: SaleConfig) -> InventoryEvent {
    InventoryEvent::InventoryOpened {
        sections: config.sections,
        currency: config.currency,
        hold_ttl_seconds: config.hold_ttl_seconds,
        max_tickets_per_customer: config.max_tickets_per_customer,
        sale_opens_at: config.sale_opens_at,
        sale_closes_at: config.sale_closes_at,
    }
}

fn release_hold(
    view: &LiveView<'_>,
    hold_id: &HoldId,
    customer_id: &CustomerId,
) -> Result<Option<InventoryEvent>, InventoryError> {
    let hold = view
        .state
        .hold(hold_id)
        .ok_or(InventoryError::UnknownHold)?;
    if &hold.customer_id != customer_id {
        return Err(InventoryError::NotOwner);
    }
    let refuse = |status| InventoryError::InvalidHoldState {
        status,
        action: "released",
    };
    match hold.status {
        HoldStatus::Active if view.is_due(hold) => Err(refuse("expired")),
        HoldStatus::Active => Ok(Some(InventoryEvent::HoldReleased {
            hold_id: hold.hold_id,
            customer_id: hold.customer_id.clone(),
            section_id: hold.section_id.clone(),
            seats: hold.seats.clone(),
            quantity: hold.quantity,
        })),
        HoldStatus::Released => Ok(None),
        status => Err(refuse(status.name())),
    }
}

/// Payment succeeded. The sale window does not apply: the hold was placed in time. A hold that
/// lapsed (released, expired, or due now) is sold only if it could be placed again right now.
fn sell_hold(
    view: &LiveView<'_>,
    config: &SaleConfig,
    hold_id: &HoldId,
    order_id: OrderId,
) -> Result<Option<InventoryEvent>, InventoryError> {
    let hold = view
        .state
        .hold(hold_id)
        .ok_or(InventoryError::UnknownHold)?;
    let sold = || {
        Some(InventoryEvent::SeatsSold {
            hold_id: hold.hold_id,
            order_id,
            customer_id: hold.customer_id.clone(),
            section_id: hold.section_id.clone(),
            seats: hold.seats.clone(),
            quantity: hold.quantity,
        })
    };
    match hold.status {
        HoldStatus::Sold { order_id: to } if to == order_id => Ok(None),
        HoldStatus::Sold { .. } | HoldStatus::Returned { .. } => {
            Err(InventoryError::InvalidHoldState {
                status: hold.status.name(),
                action: "sold",
            })
        }
        HoldStatus::Active if !view.is_due(hold) => Ok(sold()),
        HoldStatus::Active | HoldStatus::Released | HoldStatus::Expired => {
            match can_take_again(view, config, hold) {
                true => Ok(sold()),
                false => Err(InventoryError::HoldExpired),
            }
        }
    }
}

/// Every seat of a lapsed hold (or its GA quantity) is free at `now`, and its customer stays
/// within the limit with it.
fn can_take_again(view: &LiveView<'_>, config: &SaleConfig, hold: &Hold) -> bool {
    let Some(&section) = view.state.index.section_by_id.get(&hold.section_id) else {
        return false;
    };
    let seats = &view.state.index.sections[section];
    let free = match seats.is_seated() {
        true => hold.seats.iter().all(|seat| {
            seats
                .locate(seat)
                .is_some_and(|(row, index)| view.live_hold(seats.slot(row, index)).is_none())
        }),
        false => view.free_in_section(section) >= hold.quantity,
    };
    free && view.tickets_of(&hold.customer_id) + hold.quantity <= config.max_tickets_per_customer
}

/// An order was cancelled or refunded: every hold of it still sold goes back on sale.
fn return_seats(
    view: &LiveView<'_>,
    order_id: &OrderId,
) -> Result<Vec<InventoryEvent>, InventoryError> {
    let mut holds = view.state.holds_of_order(order_id).peekable();
    if holds.peek().is_none() {
        return Err(InventoryError::UnknownOrder);
    }
    Ok(holds
        .filter(|hold| {
            hold.status
                == HoldStatus::Sold {
                    order_id: *order_id,
                }
        })
        .map(|hold| InventoryEvent::SeatsReturned {
            order_id: *order_id,
            customer_id: hold.customer_id.clone(),
            section_id: hold.section_id.clone(),
            seats: hold.seats.clone(),
            quantity: hold.quantity,
        })
        .collect())
}
