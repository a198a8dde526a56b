//! The read-model audit's comparisons, pure: what query-svc answered against what the streams
//! say (the inventory [`InventoryFold`] and the settled orders), at the [`Window`] each answer
//! was computed in. Every comparison is exact; one that depends on a hold expiring inside its
//! window returns [`AskAgain`] instead of guessing.

use super::violations::Violations;
use super::window::{AskAgain, Window};
use crate::fold::{HoldState, InventoryFold, SeatOwner};
use crate::orders::SettledOrder;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One section of `GET /events/{id}/availability`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SectionSeen {
    pub section_id: String,
    pub capacity: u64,
    pub available: u64,
    pub held: u64,
    pub sold: u64,
}

/// One seat of `GET /events/{id}/sections/{section}/seats`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SeatSeen {
    pub seat: String,
    pub status: String,
}

/// `GET /holds/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HoldSeen {
    pub hold_id: String,
    pub status: String,
    #[serde(default)]
    pub section_id: String,
    #[serde(default)]
    pub customer_id: String,
    pub seats: Vec<String>,
    pub quantity: u64,
}

/// A ticket of an order as the read model shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct TicketSeen {
    pub code: String,
    pub section_id: String,
    pub seat: Option<String>,
}

/// `GET /orders/{id}` (and an entry of `GET /customers/{id}/orders`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderSeen {
    pub order_id: String,
    pub status: String,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub hold_id: Option<String>,
    pub tickets: Vec<TicketSeen>,
}

/// Tickets of pending holds in `section_id` that had not lapsed in `window`.
fn live_held(fold: &InventoryFold, section_id: &str, window: &Window) -> Result<u64, AskAgain> {
    let mut held = 0;
    let mut again: Option<AskAgain> = None;
    for hold in fold.pending_holds(section_id) {
        match window.lapsed(hold.expires_at) {
            Ok(false) => held += hold.quantity,
            Ok(true) => {}
            Err(a) => again = Some(a.max(again)),
        }
    }
    again.map_or(Ok(held), Err)
}

/// Availability: per section held + sold ≤ capacity, sold as the stream's, held as the stream's
/// pending holds not lapsed, available the rest (less the seats blocked by operators).
pub fn availability(
    fold: &InventoryFold,
    seen: &[SectionSeen],
    window: &Window,
    found: &mut Violations,
) -> Result<(), AskAgain> {
    let mut expected_held = BTreeMap::new();
    for id in fold.sections.keys() {
        expected_held.insert(id.as_str(), live_held(fold, id, window)?);
    }
    let by_id: HashMap<&str, &SectionSeen> =
        seen.iter().map(|s| (s.section_id.as_str(), s)).collect();
    for (id, section) in &fold.sections {
        let Some(s) = by_id.get(id.as_str()) else {
            found.add(
                "section_missing",
                format!("section {id} is not in the availability"),
            );
            continue;
        };
        let held = expected_held[id.as_str()];
        if s.held + s.sold > s.capacity {
            found.add(
                "over_capacity",
                format!(
                    "section {id}: {} held + {} sold > {}",
                    s.held, s.sold, s.capacity
                ),
            );
        }
        if s.capacity != section.capacity {
            found.add(
                "capacity_mismatch",
                format!(
                    "section {id}: capacity {} (stream: {})",
                    s.capacity, section.capacity
                ),
            );
        }
        if s.sold != section.sold {
            found.add(
                "sold_mismatch",
                format!("section {id}: sold {} (stream: {})", s.sold, section.sold),
            );
        }
        if s.held != held {
            found.add(
                "held_mismatch",
                format!(
                    "section {id}: held {} (stream: {held} in live holds)",
                    s.held
                ),
            );
        }
        let available = section
            .capacity
            .saturating_sub(held + section.sold + section.blocked);
        if s.available != available {
            found.add(
                "available_mismatch",
                format!(
                    "section {id}: available {} (stream: {available})",
                    s.available
                ),
            );
        }
    }
    Ok(())
}

/// What a seat should show in `window`.
fn expected_seat(
    fold: &InventoryFold,
    section_id: &str,
    seat: &str,
    window: &Window,
) -> Result<&'static str, AskAgain> {
    match fold.seats.get(&(section_id.to_owned(), seat.to_owned())) {
        None => Ok("available"),
        Some(SeatOwner::Order(_)) => Ok("sold"),
        Some(SeatOwner::Block(_)) => Ok("blocked"),
        Some(SeatOwner::Hold(id)) => match fold.holds.get(id) {
            Some(h) if h.state.pending() => Ok(if window.lapsed(h.expires_at)? {
                "available"
            } else {
                "held"
            }),
            _ => Ok("available"),
        },
    }
}

/// A seated section's seat map: every seat once, sold seats exactly the stream's, held seats
/// exactly the live holds'.
pub fn seat_map(
    fold: &InventoryFold,
    section_id: &str,
    seen: &[SeatSeen],
    window: &Window,
    found: &mut Violations,
) -> Result<(), AskAgain> {
    let mut expected = Vec::with_capacity(seen.len());
    let mut again: Option<AskAgain> = None;
    for s in seen {
        match expected_seat(fold, section_id, &s.seat, window) {
            Ok(e) => expected.push(e),
            Err(a) => again = Some(a.max(again)),
        }
    }
    if let Some(again) = again {
        return Err(again);
    }
    let mut listed = HashSet::new();
    for (s, expected) in seen.iter().zip(expected) {
        if !listed.insert(s.seat.as_str()) {
            found.add(
                "seat_listed_twice",
                format!("seat {section_id}/{} is in the seat map twice", s.seat),
            );
        }
        if s.status == expected {
            continue;
        }
        let kind = if s.status == "sold" || expected == "sold" {
            "sold_seat_mismatch"
        } else {
            "seat_status_mismatch"
        };
        found.add(
            kind,
            format!(
                "seat {section_id}/{} is {} (stream: {expected})",
                s.seat, s.status
            ),
        );
    }
    for ((section, seat), _) in fold.seats.iter().filter(|((s, _), _)| s == section_id) {
        if !listed.contains(seat.as_str()) {
            found.add(
                "seat_missing",
                format!("seat {section}/{seat} is not in the seat map"),
            );
        }
    }
    Ok(())
}

/// What `GET /holds/{id}` should show in `window` for a hold the stream left in `state`.
fn expected_hold_status(
    state: HoldState,
    expires_at: time::OffsetDateTime,
    window: &Window,
) -> Result<&'static str, AskAgain> {
    Ok(match state {
        HoldState::Active if window.lapsed(expires_at)? => "expired",
        HoldState::Active => "active",
        HoldState::CheckedOut if window.lapsed(expires_at)? => "expired",
        HoldState::CheckedOut => "ordered",
        HoldState::Released => "released",
        HoldState::Expired => "expired",
        HoldState::Sold => "ordered",
    })
}

/// One acknowledged hold: found, with the stream's status, section, seats and quantity.
pub fn hold(
    fold: &InventoryFold,
    hold_id: &str,
    seen: Option<&HoldSeen>,
    window: &Window,
    found: &mut Violations,
) -> Result<(), AskAgain> {
    // A hold missing from the stream is the stream audit's finding.
    let Some(fact) = fold.holds.get(hold_id) else {
        return Ok(());
    };
    let expected = expected_hold_status(fact.state, fact.expires_at, window)?;
    let Some(seen) = seen else {
        found.add(
            "hold_missing",
            format!("hold {hold_id}: 404 from GET /holds/{{id}}"),
        );
        return Ok(());
    };
    if seen.status != expected {
        found.add(
            "hold_status_mismatch",
            format!("hold {hold_id} is {} (stream: {expected})", seen.status),
        );
    }
    if seen.hold_id != hold_id
        || seen.section_id != fact.section_id
        || seen.customer_id != fact.customer_id
        || seen.seats != fact.seats
        || seen.quantity != fact.quantity
    {
        found.add(
            "hold_contents_mismatch",
            format!(
                "hold {hold_id}: {} {:?} x{} (stream: {} {:?} x{})",
                seen.section_id,
                seen.seats,
                seen.quantity,
                fact.section_id,
                fact.seats,
                fact.quantity
            ),
        );
    }
    Ok(())
}

/// Holds the read model shows active never share a seat (a hold stored twice would).
pub fn holds_together(seen: &[&HoldSeen], found: &mut Violations) {
    let mut owner: HashMap<(&str, &str), &str> = HashMap::new();
    for h in seen.iter().filter(|h| h.status == "active") {
        for seat in &h.seats {
            if let Some(other) = owner.insert((&h.section_id, seat), &h.hold_id) {
                found.add(
                    "seat_in_two_holds",
                    format!(
                        "seat {}/{seat} is in active holds {other} and {}",
                        h.section_id, h.hold_id
                    ),
                );
            }
        }
    }
}

/// One acknowledged order: found, with the stream's final status and tickets.
pub fn order(settled: &SettledOrder, seen: Option<&OrderSeen>, found: &mut Violations) {
    let id = &settled.order_id;
    let Some(seen) = seen else {
        found.add(
            "order_missing",
            format!("order {id}: 404 from GET /orders/{{id}}"),
        );
        return;
    };
    // `paid` is internal: the API shows it as `pending_payment`.
    let expected = if settled.status == "paid" {
        "pending_payment"
    } else {
        settled.status.as_str()
    };
    if seen.status != expected {
        found.add(
            "order_status_mismatch",
            format!("order {id} is {} (stream: {expected})", seen.status),
        );
    }
    let mut tickets = seen.tickets.clone();
    tickets.sort();
    let mut stream: Vec<TicketSeen> = settled
        .tickets
        .iter()
        .map(|(code, section_id, seat)| TicketSeen {
            code: code.clone(),
            section_id: section_id.clone(),
            seat: seat.clone(),
        })
        .collect();
    stream.sort();
    if tickets != stream {
        found.add(
            "order_tickets_mismatch",
            format!(
                "order {id} has {} tickets (stream: {})",
                tickets.len(),
                stream.len()
            ),
        );
    }
}

/// The event's orders as the read model lists them (each customer's list, filtered to the
/// event): no order listed twice, no two orders on one hold, no two confirmed on one hold (a
/// charge twice), no ticket code or seat in two confirmed orders.
pub fn orders_together(listed: &[OrderSeen], found: &mut Violations) {
    let mut ids = HashSet::new();
    let mut by_hold: HashMap<&str, Vec<&OrderSeen>> = HashMap::new();
    let mut codes: HashMap<&str, &str> = HashMap::new();
    let mut seats: HashMap<(&str, &str), &str> = HashMap::new();
    for o in listed {
        if !ids.insert(o.order_id.as_str()) {
            found.add(
                "duplicate_order",
                format!("order {} is listed twice", o.order_id),
            );
            continue;
        }
        if let Some(hold) = &o.hold_id {
            by_hold.entry(hold).or_default().push(o);
        }
        for t in &o.tickets {
            if let Some(other) = codes.insert(&t.code, &o.order_id) {
                found.add(
                    "ticket_twice",
                    format!("ticket {} is in orders {other} and {}", t.code, o.order_id),
                );
            }
            if o.status != "confirmed" {
                continue;
            }
            if let Some(seat) = &t.seat {
                if let Some(other) = seats.insert((&t.section_id, seat), &o.order_id) {
                    found.add(
                        "seat_sold_twice",
                        format!(
                            "seat {}/{seat} is in confirmed orders {other} and {}",
                            t.section_id, o.order_id
                        ),
                    );
                }
            }
        }
    }
    for (hold, orders) in by_hold.iter().filter(|(_, o)| o.len() > 1) {
        let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
        found.add(
            "duplicate_order",
            format!("hold {hold} has {} orders: {ids:?}", ids.len()),
        );
        if orders.iter().filter(|o| o.status == "confirmed").count() > 1 {
            found.add(
                "duplicate_charge",
                format!("hold {hold} is paid by more than one confirmed order: {ids:?}"),
            );
        }
    }
}
