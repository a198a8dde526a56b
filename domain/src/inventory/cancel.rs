//! Deciding `CancelSale`: an operator calls the event off.
//!
//! The sale ends at once, and everything that only the inventory holds goes in the same decision:
//! every live hold is released (an offered one ends its waiting-list entry) and every waiting entry
//! ends. Holds checked out or sold belong to orders, which the application cancels and settles one
//! by one (seats returned, money refunded); `SellHold` is refused from now on, so a payment that
//! lands late is refunded rather than sold.

use super::live_view::LiveView;
use super::state::SaleConfig;
use super::waitlist_commands::released;
use super::{HoldStatus, InventoryEvent, WaitlistStatus};

/// The facts of a cancellation at `view.now`; none when the event was cancelled already.
pub(super) fn cancel_sale(view: &LiveView<'_>, config: &SaleConfig) -> Vec<InventoryEvent> {
    if config.cancelled_at.is_some() {
        return Vec::new();
    }
    let state = view.state;
    let mut facts = vec![InventoryEvent::SaleCancelled {
        cancelled_at: view.now,
    }];
    for hold in &state.holds {
        // Due holds are released by the decision's expiry facts already.
        if hold.status == HoldStatus::Active && !view.is_due(hold) {
            facts.extend(released(view, hold));
        }
    }
    for entry in state.waitlist.entries() {
        if entry.status == WaitlistStatus::Waiting {
            facts.push(InventoryEvent::WaitlistLeft {
                waitlist_id: entry.waitlist_id,
                customer_id: entry.customer_id.clone(),
                hold_id: None,
            });
        }
    }
    facts
}
