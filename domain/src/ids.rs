//! Identifiers, parsed once at the edge.
//!
//! Each identifier is a newtype with a private field: a value of it is always valid. Ids that a
//! retry must find again (holds, orders) are derived from the customer and the idempotency key, so
//! the same request always names the same hold or order, forever.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Why a piece of input is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is invalid: {why}")]
pub struct InvalidId {
    pub what: &'static str,
    pub why: &'static str,
}

fn invalid(what: &'static str, why: &'static str) -> InvalidId {
    InvalidId { what, why }
}

/// Serialize and deserialize an id through its `Display` / `FromStr` text.
macro_rules! text_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Serialize and deserialize an id through its text in a human-readable format (JSON: what the
/// API, the events and the JSON snapshots hold) and through its UUIDs' bytes in a binary one (the
/// binary snapshots, where a hold's ids are 32 bytes instead of 73 characters to parse).
macro_rules! bytes_or_text_serde {
    ($ty:ty, Uuid) => {
        bytes_or_text_serde!($ty, Uuid, |id: &$ty| id.0, |uuid: Uuid| Self(uuid));
    };
    ($ty:ty, $repr:ty, $to:expr, $from:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match s.is_human_readable() {
                    true => s.collect_str(self),
                    false => ($to)(self).serialize(s),
                }
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
                    return text.parse().map_err(serde::de::Error::custom);
                }
                let repr = <$repr>::deserialize(d)?;
                Ok(($from)(repr))
            }
        }
    };
}

/// A UUID-backed identifier.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Uuid::try_parse(s)
                    .map(Self)
                    .map_err(|_| invalid($what, "expected a UUID"))
            }
        }

        bytes_or_text_serde!($name, Uuid);
    };
}

uuid_id!(
    /// A sellable event: a concert, a match. Names the catalog and inventory aggregates.
    EventId,
    "event_id"
);
uuid_id!(
    /// An order, derived from the customer and the idempotency key of `POST /orders`.
    OrderId,
    "order_id"
);
uuid_id!(
    /// A payment of one order (one per order: the order id is the gateway's idempotency key).
    PaymentId,
    "payment_id"
);

/// Namespaces of the derived ids, so that ids of different kinds never collide.
const HOLD_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a47_93d1_4c8e_a3b5_1d2e_7f90_0001);
const ORDER_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a47_93d1_4c8e_a3b5_1d2e_7f90_0002);
const PAYMENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a47_93d1_4c8e_a3b5_1d2e_7f90_0003);
const EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a47_93d1_4c8e_a3b5_1d2e_7f90_0004);
const WAITLIST_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a47_93d1_4c8e_a3b5_1d2e_7f90_0006);
const TICKET_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a47_93d1_4c8e_a3b5_1d2e_7f90_0005);
const BLOCK_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a47_93d1_4c8e_a3b5_1d2e_7f90_0008);

fn derive(namespace: &Uuid, parts: &[&str]) -> Uuid {
    // A separator that cannot appear in a customer id keeps ("a", "bc") apart from ("ab", "c").
    Uuid::new_v5(namespace, parts.join("\u{1f}").as_bytes())
}

impl EventId {
    /// The event an operator's `POST /events` with this idempotency key creates.
    pub fn derive(key: &IdempotencyKey) -> Self {
        Self(derive(&EVENT_NAMESPACE, &[key.as_str()]))
    }
}

impl OrderId {
    /// The order a customer's `POST /orders` with this idempotency key creates.
    pub fn derive(customer: &CustomerId, key: &IdempotencyKey) -> Self {
        Self(derive(&ORDER_NAMESPACE, &[customer.as_str(), key.as_str()]))
    }
}

impl PaymentId {
    /// The one payment of an order.
    pub fn for_order(order: OrderId) -> Self {
        Self(derive(&PAYMENT_NAMESPACE, &[&order.to_string()]))
    }
}

/// The UUID behind the `index`-th ticket of an order (see `ordering::tickets_for`): the same order
/// and index always give the same ticket.
pub(crate) fn ticket_uuid(order: OrderId, index: u32) -> Uuid {
    derive(&TICKET_NAMESPACE, &[&order.to_string(), &index.to_string()])
}

/// An identifier scoped to one event: `<event uuid>.<local uuid>`. It carries its event so that
/// a request naming only the id (`POST /holds/{hold_id}/release`, `POST /waitlist/{id}/leave`)
/// finds the event's inventory aggregate from the id alone.
macro_rules! event_scoped_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            event: EventId,
            local: Uuid,
        }

        impl $name {
            pub fn event(&self) -> EventId {
                self.event
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}.{}", self.event, self.local.as_hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                let bad = || invalid($what, "expected <event uuid>.<uuid>");
                let (event, local) = s.split_once('.').ok_or_else(bad)?;
                Ok(Self {
                    event: event.parse().map_err(|_| bad())?,
                    local: Uuid::try_parse(local).map_err(|_| bad())?,
                })
            }
        }

        bytes_or_text_serde!(
            $name,
            (EventId, Uuid),
            |id: &$name| (id.event, id.local),
            |(event, local): (EventId, Uuid)| Self { event, local }
        );
    };
}

event_scoped_id!(
    /// A hold on seats or on a quantity of one event.
    HoldId,
    "hold_id"
);
event_scoped_id!(
    /// A customer's place on the waiting list of one event's sold-out section.
    WaitlistId,
    "waitlist_id"
);

event_scoped_id!(
    /// Seats of one event taken off sale by an operator (press, production) until released.
    BlockId,
    "block_id"
);

impl BlockId {
    /// The block an operator's `POST /events/{id}/blocks` with this idempotency key creates: the
    /// key's scope is the event, whichever operator sends it.
    pub fn derive(event: EventId, key: &IdempotencyKey) -> Self {
        let local = derive(&BLOCK_NAMESPACE, &[&event.to_string(), key.as_str()]);
        Self { event, local }
    }
}

impl HoldId {
    /// The hold a customer's request with this idempotency key creates in this event.
    pub fn derive(event: EventId, customer: &CustomerId, key: &IdempotencyKey) -> Self {
        let local = derive(
            &HOLD_NAMESPACE,
            &[&event.to_string(), customer.as_str(), key.as_str()],
        );
        Self { event, local }
    }

    /// The one hold a waiting-list entry is ever offered.
    pub fn offered_to(entry: WaitlistId) -> Self {
        let local = derive(&HOLD_NAMESPACE, &["waitlist", &entry.to_string()]);
        Self {
            event: entry.event,
            local,
        }
    }
}

impl WaitlistId {
    /// The entry a customer's `POST /events/{id}/waitlist` with this idempotency key creates.
    pub fn derive(event: EventId, customer: &CustomerId, key: &IdempotencyKey) -> Self {
        let local = derive(
            &WAITLIST_NAMESPACE,
            &[&event.to_string(), customer.as_str(), key.as_str()],
        );
        Self { event, local }
    }
}

/// True for the characters a short textual id may use: ASCII letters, digits, `-`, `_`, `.`, `:`, `@`.
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@')
}

/// A textual identifier of bounded length over a safe alphabet.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, $valid_char:expr, $why:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in bytes.
            pub const MAX_LEN: usize = $max;

            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                if s.is_empty() {
                    return Err(invalid($what, "must not be empty"));
                }
                if s.len() > Self::MAX_LEN {
                    return Err(invalid($what, concat!("is longer than ", stringify!($max), " characters")));
                }
                if !s.chars().all($valid_char) {
                    return Err(invalid($what, $why));
                }
                Ok(Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Self::parse(s)
            }
        }

        text_serde!($name);
    };
}

text_id!(
    /// A buyer. Opaque to TicketView: whatever the identity provider calls them.
    CustomerId,
    "customer_id",
    64,
    is_id_char,
    "may only use letters, digits and - _ . : @"
);
text_id!(
    /// A section of a venue, unique within its event (`floor`, `block-a`).
    SectionId,
    "section_id",
    64,
    |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    "may only use letters, digits, - and _"
);
text_id!(
    /// A presale of an event, unique within it (`fan-club`, `members_1`).
    PresaleId,
    "presale_id",
    64,
    |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    "may only use letters, digits, - and _"
);
text_id!(
    /// A ticket type of a section (`adult`, `vip`), unique within its section.
    TicketTypeId,
    "type_id",
    64,
    |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    "may only use letters, digits, - and _"
);
text_id!(
    /// A row of a seated section (`A`, `12`, `AA`).
    RowLabel,
    "row",
    8,
    |c: char| c.is_ascii_alphanumeric(),
    "may only use letters and digits"
);
text_id!(
    /// The client's idempotency key of one command (the `Idempotency-Key` header).
    IdempotencyKey,
    "idempotency_key",
    200,
    |c: char| c.is_ascii_graphic(),
    "may only use visible ASCII characters"
);

/// The most seats one row may have.
pub const MAX_SEATS_PER_ROW: u32 = 1_000;

/// An assigned seat, written `<row>-<n>` with `n` from 1 (`A-1`, `12-30`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeatLabel {
    row: RowLabel,
    number: u32,
}

impl SeatLabel {
    pub fn new(row: RowLabel, number: u32) -> Result<Self, InvalidId> {
        if number == 0 || number > MAX_SEATS_PER_ROW {
            return Err(invalid("seat", "seat numbers run from 1 to 1000"));
        }
        Ok(Self { row, number })
    }

    pub fn row(&self) -> &RowLabel {
        &self.row
    }

    pub fn number(&self) -> u32 {
        self.number
    }
}

impl fmt::Display for SeatLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.row, self.number)
    }
}

impl FromStr for SeatLabel {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        let (row, number) = s
            .rsplit_once('-')
            .ok_or(invalid("seat", "expected <row>-<number>, like A-12"))?;
        let number: u32 = number
            .parse()
            .map_err(|_| invalid("seat", "expected <row>-<number>, like A-12"))?;
        Self::new(RowLabel::parse(row)?, number)
    }
}

text_serde!(SeatLabel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_ids_are_derived_from_event_customer_and_key() {
        let event = EventId::new_random();
        let alice = CustomerId::parse("alice").unwrap();
        let key = IdempotencyKey::parse("k-1").unwrap();
        let hold = HoldId::derive(event, &alice, &key);
        assert_eq!(hold, HoldId::derive(event, &alice, &key));
        assert_eq!(hold.event(), event);
        let bob = CustomerId::parse("bob").unwrap();
        assert_ne!(hold, HoldId::derive(event, &bob, &key));
        assert_eq!(hold.to_string().parse::<HoldId>().unwrap(), hold);
    }

    #[test]
    fn seat_labels_round_trip_and_reject_nonsense() {
        let seat: SeatLabel = "AA-12".parse().unwrap();
        assert_eq!(seat.row().as_str(), "AA");
        assert_eq!(seat.number(), 12);
        assert_eq!(seat.to_string(), "AA-12");
        for bad in ["", "A", "A-0", "A-1001", "-1", "A-x", "A B-1", "A-1-"] {
            assert!(bad.parse::<SeatLabel>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn customer_ids_are_bounded_and_safe() {
        assert!(CustomerId::parse("cust_42@example.com").is_ok());
        assert!(CustomerId::parse("").is_err());
        assert!(CustomerId::parse("has space").is_err());
        assert!(CustomerId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn ids_serialize_as_their_text() {
        let seat: SeatLabel = "B-7".parse().unwrap();
        assert_eq!(serde_json::to_string(&seat).unwrap(), "\"B-7\"");
        let back: SeatLabel = serde_json::from_str("\"B-7\"").unwrap();
        assert_eq!(back, seat);
        assert!(serde_json::from_str::<SeatLabel>("\"B-0\"").is_err());
    }
}
