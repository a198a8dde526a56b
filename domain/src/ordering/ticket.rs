//! Tickets: what a confirmed order gives its customer, one per seat (or per general-admission
//! place), each with a code printed on it (and in its QR code) and scanned at the gate.
//!
//! A code is signed, not drawn: `TV-` and the URL-safe base64 (no padding, 44 characters) of the
//! order id (16 bytes), the ticket's index in the order (1 byte) and a MAC (16 bytes, 128 bits) of
//! both under the event's scanner key. The scanner key is HMAC-SHA256 of the event id under the
//! server's ticket key ([`TicketKey`]), so
//! - nobody without the key can make a code that is accepted: knowing an order id gives nothing;
//! - the same order always gets the same tickets, so a retried confirmation issues nothing new
//!   (the order's `Confirm` is idempotent on equal tickets) and a rebuilt read model shows the
//!   same codes;
//! - codes are unique (they carry their order and index) and name their order, so a check-in
//!   finds the order from the code alone, without waiting for a read model;
//! - a scanner given its event's [`ScannerKey`] verifies a code offline ([`ScannerKey::verify`]),
//!   and cannot make codes for other events.
//!
//! Orders confirmed before codes were signed keep their codes (`TV-` and 12 Crockford base32
//! characters of a UUID v5 of the order and the index, [`tickets_for`]): they are in the log, and
//! every reader reads a code as an opaque string.

use crate::ids::{ticket_uuid, EventId, OrderId, SeatLabel, SectionId, TicketTypeId};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// One ticket of a confirmed order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ticket {
    /// `TV-` and 44 characters of `[A-Za-z0-9_-]` (a signed code); `TV-` and 12 of `0-9 A-Z`
    /// on tickets issued before codes were signed.
    pub code: String,
    pub section_id: SectionId,
    /// The assigned seat; `None` in a general-admission section.
    pub seat: Option<SeatLabel>,
    /// The ticket's type (absent on tickets issued before types existed: the section's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<TicketTypeId>,
}

/// The prefix of every code.
pub const CODE_PREFIX: &str = "TV-";
/// Bytes of a signed code's MAC: 128 bits.
const MAC_BYTES: usize = 16;
/// Bytes a signed code carries: order id, index, MAC.
const PAYLOAD_BYTES: usize = 16 + 1 + MAC_BYTES;
/// Characters after `TV-` of a signed code (33 bytes are 44 base64 characters, no padding).
pub const SIGNED_CODE_CHARS: usize = PAYLOAD_BYTES / 3 * 4;
/// What the scanner key of an event is derived with, so that the ticket key signs nothing else.
const SCANNER_KEY_LABEL: &[u8] = b"ticketview scanner key v1\0";

type HmacSha256 = Hmac<Sha256>;

/// The server's secret that signs ticket codes (`TV_TICKET_SECRET_FILE`). `Debug` shows nothing
/// of it. Rotating it changes the codes of orders confirmed afterwards only: codes in the log stay
/// valid, since a check-in compares with the issued code, not with a new signature.
#[derive(Clone)]
pub struct TicketKey(Arc<[u8]>);

impl TicketKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.into())
    }

    /// The key that signs (and verifies) the codes of one event's tickets: what a scanner at that
    /// event's gates is given.
    pub fn scanner_key(&self, event_id: EventId) -> ScannerKey {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(SCANNER_KEY_LABEL);
        mac.update(event_id.as_uuid().as_bytes());
        ScannerKey(mac.finalize().into_bytes().into())
    }

    /// The key the access codes of one event's presales are hashed with: derived from the same
    /// server secret under its own label, so it signs no ticket and no ticket key hashes a code.
    pub fn access_code_key(&self, event_id: EventId) -> crate::inventory::AccessCodeKey {
        crate::inventory::AccessCodeKey::derive(&self.0, event_id)
    }

    /// The tickets of an order of `quantity` places in a section of `event_id`: one per seat in
    /// seat order when the seats are named, otherwise `quantity` general-admission tickets; each
    /// with its signed code.
    pub fn tickets_for(
        &self,
        event_id: EventId,
        order_id: OrderId,
        section_id: &SectionId,
        seats: &[SeatLabel],
        quantity: u32,
    ) -> Vec<Ticket> {
        let key = self.scanner_key(event_id);
        (0..quantity)
            .map(|index| Ticket {
                code: key.code(order_id, index),
                section_id: section_id.clone(),
                seat: seats.get(index as usize).cloned(),
                type_id: None,
            })
            .collect()
    }
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketKey(<redacted>)")
    }
}

/// One event's key for ticket codes (see [`TicketKey::scanner_key`]).
#[derive(Clone, PartialEq, Eq)]
pub struct ScannerKey([u8; 32]);

impl ScannerKey {
    /// The key as 64 hexadecimal digits, to hand to a scanner.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A key handed out by [`Self::to_hex`].
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(key))
    }

    fn mac(&self, order_id: OrderId, index: u8) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(order_id.as_uuid().as_bytes());
        mac.update(&[index]);
        mac
    }

    /// The signed code of the `index`-th ticket (from 0) of an order.
    fn code(&self, order_id: OrderId, index: u32) -> String {
        let index = u8::try_from(index).expect("an order has at most 100 tickets");
        let mut payload = Vec::with_capacity(PAYLOAD_BYTES);
        payload.extend_from_slice(order_id.as_uuid().as_bytes());
        payload.push(index);
        payload.extend_from_slice(&self.mac(order_id, index).finalize().into_bytes()[..MAC_BYTES]);
        format!("{CODE_PREFIX}{}", base64url_encode(&payload))
    }

    /// The ticket a code stands for when it was signed with this key (a genuine ticket of this
    /// key's event), checked in constant time; `None` for anything else. What a scanner checks
    /// offline: whether the ticket was checked in already is the server's to say.
    pub fn verify(&self, code: &str) -> Option<TicketRef> {
        let (ticket, mac) = parse(code)?;
        let index = u8::try_from(ticket.index).ok()?;
        self.mac(ticket.order_id, index)
            .verify_truncated_left(&mac)
            .ok()
            .map(|()| ticket)
    }
}

impl fmt::Debug for ScannerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScannerKey(<redacted>)")
    }
}

/// Where a signed code points: its order and its index there. Read from the code without any
/// key, it says only where to look; the order's issued codes say whether it is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRef {
    pub order_id: OrderId,
    pub index: u32,
}

impl TicketRef {
    /// The order and index a well-formed signed code names (unverified); `None` for any other
    /// text, including codes issued before codes were signed.
    pub fn of_code(code: &str) -> Option<Self> {
        parse(code).map(|(ticket, _)| ticket)
    }
}

fn parse(code: &str) -> Option<(TicketRef, Vec<u8>)> {
    let body = code.strip_prefix(CODE_PREFIX)?;
    if body.len() != SIGNED_CODE_CHARS {
        return None;
    }
    let payload = base64url_decode(body)?;
    let order = Uuid::from_slice(&payload[..16]).ok()?;
    let ticket = TicketRef {
        order_id: OrderId::from_uuid(order),
        index: u32::from(payload[16]),
    };
    Some((ticket, payload[17..].to_vec()))
}

/// The id of the `index`-th ticket (from 0) of an order: the same order and index, the same id.
pub fn ticket_id(order_id: OrderId, index: u32) -> Uuid {
    ticket_uuid(order_id, index)
}

/// The tickets of an order confirmed before codes were signed: `TV-` and 12 Crockford base32
/// characters (60 bits) of the ticket's id, derived from ids alone. Kept to describe the log's
/// old facts (fixtures of readers); new tickets come from [`TicketKey::tickets_for`].
pub fn tickets_for(
    order_id: OrderId,
    section_id: &SectionId,
    seats: &[SeatLabel],
    quantity: u32,
) -> Vec<Ticket> {
    (0..quantity)
        .map(|index| Ticket {
            code: unsigned_code(order_id, index),
            section_id: section_id.clone(),
            seat: seats.get(index as usize).cloned(),
            type_id: None,
        })
        .collect()
}

/// Crockford's base32: no `I`, `L`, `O` or `U`.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn unsigned_code(order_id: OrderId, index: u32) -> String {
    // The low 60 bits of a v5 UUID are all hash: its version and variant bits sit higher up.
    let bits = ticket_uuid(order_id, index).as_u128() & ((1 << 60) - 1);
    let mut code = String::from(CODE_PREFIX);
    for position in (0..12).rev() {
        code.push(CROCKFORD[((bits >> (5 * position)) & 0x1f) as usize] as char);
    }
    code
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding of whole 3-byte groups (every payload here is one).
fn base64url_encode(bytes: &[u8]) -> String {
    debug_assert!(bytes.len().is_multiple_of(3));
    let mut text = String::with_capacity(bytes.len() / 3 * 4);
    for group in bytes.chunks(3) {
        let n = u32::from(group[0]) << 16
            | u32::from(*group.get(1).unwrap_or(&0)) << 8
            | u32::from(*group.get(2).unwrap_or(&0));
        for shift in [18, 12, 6, 0] {
            text.push(BASE64URL[(n >> shift & 0x3f) as usize] as char);
        }
    }
    text
}

/// The bytes of [`base64url_encode`]'s text; `None` for any other text.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
    for group in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for &c in group {
            let value = BASE64URL.iter().position(|&b| b == c)?;
            n = n << 6 | value as u32;
        }
        bytes.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    Some(bytes)
}
