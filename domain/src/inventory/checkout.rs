//! A hold's way into an order: `CheckoutHold` ties a live hold to the order that will pay for it,
//! and `SellHold` sells it to that order once paid.
//!
//! Checkout changes no seat: the hold keeps its seats and its `expires_at`, which becomes the
//! order's deadline (payment must finish before it). An Ordered hold still expires lazily like an
//! Active one, and its seats go back on sale; the hold remembers its order (`Hold::order_id`), so
//! only that order may still buy it afterwards, and only if it could be placed again right now.
//!
//! An order that will not pay (declined, or cancelled unpaid) abandons its checkout: the hold is
//! released at once instead of holding its seats until `expires_at`.
//!
//! Refusals of a checkout: a hold that timed out (recorded or due) is `HoldExpired`, the API's
//! `hold_expired`; one the customer gave back, or that another order took, is `InvalidHoldState`:
//! the customer acted on it, it did not simply run out.

use super::live_view::LiveView;
use super::state::SaleConfig;
use super::waitlist_commands::released;
use super::{Hold, HoldStatus, InventoryError, InventoryEvent};
use crate::ids::{CustomerId, HoldId, OrderId};

/// `Ok(None)` when the hold is already this order's (checked out, or even sold or returned since):
/// a retry, recognised forever, before anything that may have changed since (the clock).
pub(super) fn checkout_hold(
    view: &LiveView<'_>,
    hold_id: &HoldId,
    order_id: OrderId,
    customer_id: &CustomerId,
) -> Result<Option<InventoryEvent>, InventoryError> {
    let hold = view
        .state
        .hold(hold_id)
        .ok_or(InventoryError::UnknownHold)?;
    if &hold.customer_id != customer_id {
        return Err(InventoryError::NotOwner);
    }
    if hold.order_id == Some(order_id) {
        return Ok(None);
    }
    match hold.status {
        _ if view.is_due(&hold) => Err(InventoryError::HoldExpired),
        HoldStatus::Expired => Err(InventoryError::HoldExpired),
        HoldStatus::Active => Ok(Some(InventoryEvent::HoldCheckedOut {
            hold_id: hold.hold_id,
            order_id,
            customer_id: hold.customer_id.clone(),
            section_id: hold.section_id.clone(),
            seats: hold.seats.clone(),
            quantity: hold.quantity,
        })),
        // Released, or Ordered / Sold / Returned by another order.
        status => Err(InventoryError::InvalidHoldState {
            status: status.name(),
            action: "checked out",
        }),
    }
}

/// Payment succeeded. Only the order that checked the hold out may buy it. The sale window does not
/// apply: the hold was placed in time. A hold that lapsed (expired, or due now) is sold only if it
/// could be placed again right now.
pub(super) fn sell_hold(
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
        // Nothing is sold once the event is called off: the paid order is refunded instead.
        _ if config.cancelled_at.is_some() => Err(InventoryError::EventCancelled),
        HoldStatus::Sold { .. } | HoldStatus::Returned { .. } => {
            Err(InventoryError::InvalidHoldState {
                status: hold.status.name(),
                action: "sold",
            })
        }
        // Never checked out (Active, Released), or checked out by another order.
        _ if hold.order_id != Some(order_id) => Err(InventoryError::NotCheckedOut),
        // Its order abandoned it: that order will not pay, so there is nothing to sell.
        HoldStatus::Released => Err(InventoryError::InvalidHoldState {
            status: hold.status.name(),
            action: "sold",
        }),
        HoldStatus::Ordered { .. } if !view.is_due(&hold) => Ok(sold()),
        // Ordered but due now, or Expired since its checkout.
        _ => match can_take_again(view, config, &hold) {
            true => Ok(sold()),
            false => Err(InventoryError::HoldExpired),
        },
    }
}

/// The order that checked the hold out gives it up unpaid: `HoldReleased` (and `WaitlistLeft` for
/// an offered hold). Nothing when the
/// hold is no longer taken anyway (released already, expired, or due now: the decision's expiry
/// facts free it).
pub(super) fn abandon_checkout(
    view: &LiveView<'_>,
    hold_id: &HoldId,
    order_id: OrderId,
) -> Result<Vec<InventoryEvent>, InventoryError> {
    let hold = view
        .state
        .hold(hold_id)
        .ok_or(InventoryError::UnknownHold)?;
    if hold.order_id != Some(order_id) {
        return Err(InventoryError::NotCheckedOut);
    }
    match hold.status {
        _ if view.is_due(&hold) => Ok(Vec::new()),
        HoldStatus::Ordered { .. } => Ok(released(view, &hold)),
        HoldStatus::Released | HoldStatus::Expired => Ok(Vec::new()),
        // Paid for: its seats come back with `ReturnSeats`, not here.
        status => Err(InventoryError::InvalidHoldState {
            status: status.name(),
            action: "abandoned",
        }),
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
                .is_some_and(|(row, index)| !view.is_taken(seats.slot(row, index)))
        }),
        false => view.free_in_section(section) >= hold.quantity,
    };
    free && view.tickets_of(&hold.customer_id) + hold.quantity <= config.max_tickets_per_customer
        && super::presale::fits_again(view, config, &hold.hold_id, hold.quantity)
}
