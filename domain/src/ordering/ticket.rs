//! Tickets: what a confirmed order gives its customer, one per seat (or per general-admission
//! place), each with a code printed on it and scanned at the gate.
//!
//! A code is derived, not drawn: `TV-` and 12 Crockford base32 characters (60 bits) of a UUID v5 of
//! the order and the ticket's index. The same order always gets the same tickets, so confirming it
//! again (a retried reactor) issues nothing new, and a rebuilt read model shows the same codes.
//! 60 random bits keep codes apart: among a million tickets the chance that any two share a code is
//! about 4 in 10 million; a read model that stores codes should still keep them unique.

use crate::ids::{ticket_uuid, OrderId, SeatLabel, SectionId};
use serde::{Deserialize, Serialize};

/// One ticket of a confirmed order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ticket {
    /// `TV-` and 12 characters of `0-9 A-Z` without `I L O U`, e.g. `TV-7K3M9Q2X0BFE`.
    pub code: String,
    pub section_id: SectionId,
    /// The assigned seat; `None` in a general-admission section.
    pub seat: Option<SeatLabel>,
}

/// Crockford's base32: no `I`, `L`, `O` or `U`, so a code read aloud or typed is not mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters after `TV-`: 12 × 5 = 60 bits.
const CODE_CHARS: u32 = 12;

/// The code of the `index`-th ticket (from 0) of an order.
pub fn ticket_code(order_id: OrderId, index: u32) -> String {
    // The low 60 bits of a v5 UUID are all hash: its version and variant bits sit higher up.
    let bits = ticket_uuid(order_id, index).as_u128() & ((1 << (5 * CODE_CHARS)) - 1);
    let mut code = String::with_capacity(3 + CODE_CHARS as usize);
    code.push_str("TV-");
    for position in (0..CODE_CHARS).rev() {
        code.push(ALPHABET[((bits >> (5 * position)) & 0x1f) as usize] as char);
    }
    code
}

/// The tickets of an order of `quantity` places in a section: one per seat in seat order when the
/// seats are named, otherwise `quantity` general-admission tickets.
pub fn tickets_for(
    order_id: OrderId,
    section_id: &SectionId,
    seats: &[SeatLabel],
    quantity: u32,
) -> Vec<Ticket> {
    (0..quantity)
        .map(|index| Ticket {
            code: ticket_code(order_id, index),
            section_id: section_id.clone(),
            seat: seats.get(index as usize).cloned(),
        })
        .collect()
}
