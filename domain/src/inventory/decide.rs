//! The inventory's decider.
//!
//! Every decision at `now` starts with the `HoldExpired` facts of the holds due at `now` (in expiry
//! order), then decides the command against the state as if they were applied (`LiveView`). So a
//! late expiry timer never blocks a sale, and `ExpireDue` is just that first step.
//! A retried command (a hold placed, released, checked out, sold or returned already) adds nothing
//! after them.

use super::blocks::{block_seats, release_block};
use super::cancel::cancel_sale;
use super::checkout::{abandon_checkout, checkout_hold, sell_hold};
use super::live_view::LiveView;
use super::offers::offers;
use super::place_hold::place_hold;
use super::presale::load_codes;
use super::state::SaleConfig;
use super::waitlist_commands::{join_waitlist, leave_waitlist, released};
use super::{EventInventory, HoldStatus, InventoryCommand, InventoryError, InventoryEvent};
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
    if !view.due.is_empty()
        && state.waitlist.anyone_waiting()
        && !matches!(command, InventoryCommand::ExpireDue)
    {
        // The seats of the due holds go to the waiting list before this command may take them:
        // the expiries and their offers are decided first, then the command on the state they
        // make. A writer records due expiries before each batch, so it never pays for this copy.
        let mut facts = decide(state, &InventoryCommand::ExpireDue, now)?;
        let mut settled = state.clone();
        for fact in &facts {
            settled.apply(fact);
        }
        facts.extend(decide(&settled, command, now)?);
        return Ok(facts);
    }
    let mut events = view.expiry_events();
    // Whether the command may free seats, which the waiting list gets first.
    let frees = match command {
        InventoryCommand::Open { .. } => {
            let as_opened = SaleConfig {
                closed_at: None,
                cancelled_at: None,
                ..config.clone()
            };
            if opening(command) != Some(as_opened) {
                return Err(InventoryError::AlreadyOpen);
            }
            false
        }
        InventoryCommand::ExpireDue => true,
        InventoryCommand::CloseSale => {
            if !config.closed(now) {
                events.push(InventoryEvent::SaleClosed { closed_at: now });
            }
            false
        }
        // Seats freed by a cancellation go to nobody: the waiting list ends with the sale.
        InventoryCommand::CancelSale => {
            events.extend(cancel_sale(&view, config));
            false
        }
        InventoryCommand::PlaceHold(request) => {
            events.extend(place_hold(&view, config, request)?);
            false
        }
        InventoryCommand::ReleaseHold {
            hold_id,
            customer_id,
        } => {
            events.extend(release_hold(&view, hold_id, customer_id)?);
            true
        }
        InventoryCommand::CheckoutHold {
            hold_id,
            order_id,
            customer_id,
        } => {
            events.extend(checkout_hold(&view, hold_id, *order_id, customer_id)?);
            false
        }
        InventoryCommand::SellHold { hold_id, order_id } => {
            events.extend(sell_hold(&view, config, hold_id, *order_id)?);
            false
        }
        InventoryCommand::ReturnSeats { order_id } => {
            events.extend(return_seats(&view, order_id)?);
            true
        }
        InventoryCommand::AbandonCheckout { hold_id, order_id } => {
            events.extend(abandon_checkout(&view, hold_id, *order_id)?);
            true
        }
        InventoryCommand::JoinWaitlist {
            waitlist_id,
            customer_id,
            section_id,
            quantity,
            adjacent,
        } => {
            events.extend(join_waitlist(
                &view,
                config,
                *waitlist_id,
                customer_id,
                section_id,
                *quantity,
                *adjacent,
            )?);
            false
        }
        InventoryCommand::LeaveWaitlist {
            waitlist_id,
            customer_id,
        } => {
            events.extend(leave_waitlist(&view, waitlist_id, customer_id)?);
            true
        }
        InventoryCommand::LoadAccessCodes { presale_id, codes } => {
            events.extend(load_codes(state, config, presale_id, codes)?);
            false
        }
        InventoryCommand::BlockSeats {
            block_id,
            section_id,
            selection,
            reason,
        } => {
            events.extend(block_seats(
                &view, *block_id, section_id, selection, reason,
            )?);
            false
        }
        InventoryCommand::ReleaseBlock { block_id } => {
            events.extend(release_block(&view, block_id)?);
            true
        }
    };
    if frees {
        let offered = offers(&view, config, &events);
        events.extend(offered);
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
            waiting_room,
            presales,
        } => Some(SaleConfig {
            sections: sections.clone(),
            currency: *currency,
            hold_ttl_seconds: *hold_ttl_seconds,
            max_tickets_per_customer: *max_tickets_per_customer,
            sale_opens_at: *sale_opens_at,
            sale_closes_at: *sale_closes_at,
            waiting_room: *waiting_room,
            closed_at: None,
            cancelled_at: None,
            presales: presales.clone(),
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
        waiting_room: config.waiting_room,
        presales: config.presales,
    }
}

fn release_hold(
    view: &LiveView<'_>,
    hold_id: &HoldId,
    customer_id: &CustomerId,
) -> Result<Vec<InventoryEvent>, InventoryError> {
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
    // An Ordered hold is being paid for: the order, not the customer, decides what becomes of it.
    match hold.status {
        _ if view.is_due(&hold) => Err(refuse("expired")),
        HoldStatus::Active => Ok(released(view, &hold)),
        HoldStatus::Released => Ok(Vec::new()),
        status => Err(refuse(status.name())),
    }
}

/// An order was cancelled or refunded: every hold of it still sold goes back on sale, in hold id
/// order (the same however the state keeps its finished holds).
fn return_seats(
    view: &LiveView<'_>,
    order_id: &OrderId,
) -> Result<Vec<InventoryEvent>, InventoryError> {
    let mut holds = view.state.holds_of_order(order_id).peekable();
    if holds.peek().is_none() && !view.state.order_returned(order_id) {
        return Err(InventoryError::UnknownOrder);
    }
    let mut sold: Vec<_> = holds
        .filter(|hold| {
            hold.status
                == HoldStatus::Sold {
                    order_id: *order_id,
                }
        })
        .collect();
    sold.sort_by_key(|hold| hold.hold_id);
    Ok(sold
        .into_iter()
        .map(|hold| InventoryEvent::SeatsReturned {
            order_id: *order_id,
            customer_id: hold.customer_id.clone(),
            section_id: hold.section_id.clone(),
            seats: hold.seats.clone(),
            quantity: hold.quantity,
        })
        .collect())
}
