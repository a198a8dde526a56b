//! Where a waiting room's facts are stored on the queue stream: the room's own facts (its
//! configuration, the shuffle, admissions, their ends, the closing) on `queue.<event>.room`, and
//! each customer's place (the join, then perhaps the leave) on `queue.<event>.join.<key>`, where
//! the key is a name-based UUID of the customer id: a customer id may hold characters a subject
//! cannot, and the key is the same on every instance.

use domain::ids::{CustomerId, EventId};
use tv_nats::{Naming, Stream};
use uuid::Uuid;

/// The namespace of customer keys (a fixed random UUID: changing it renames every place).
const CUSTOMER_KEYS: Uuid = Uuid::from_u128(0x6b0e_2c1d_94a7_4f33_8c55_0d2e_71f9_a4b8);

/// The aggregate id of an event's room: `<event>.room`.
pub fn room_id(event: EventId) -> String {
    format!("{event}.room")
}

/// The aggregate id of a customer's place: `<event>.join.<key>`.
pub fn place_id(event: EventId, customer: &CustomerId) -> String {
    format!("{event}.join.{}", customer_key(customer))
}

/// The subject token of a customer.
pub fn customer_key(customer: &CustomerId) -> String {
    Uuid::new_v5(&CUSTOMER_KEYS, customer.as_str().as_bytes())
        .simple()
        .to_string()
}

/// Which kind of subject a stored fact came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Room,
    Place,
}

/// The event and kind of a queue subject, if it is one.
pub fn parse(naming: &Naming, subject: &str) -> Option<(EventId, Kind)> {
    let rest = subject
        .strip_prefix(naming.prefix())?
        .strip_prefix('.')?
        .strip_prefix(Stream::Queue.token())?
        .strip_prefix('.')?;
    let (event, rest) = rest.split_once('.')?;
    let event = event.parse().ok()?;
    match rest.split_once('.') {
        None if rest == "room" => Some((event, Kind::Room)),
        Some(("join", key)) if !key.is_empty() => Some((event, Kind::Place)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_the_event_and_the_kind() {
        let naming = Naming::new("t1");
        let event = EventId::new_random();
        let customer = CustomerId::parse("ann@example.com").unwrap();
        let room = naming.subject(Stream::Queue, &room_id(event));
        let place = naming.subject(Stream::Queue, &place_id(event, &customer));
        assert_eq!(room, format!("t1.queue.{event}.room"));
        assert_eq!(parse(&naming, &room), Some((event, Kind::Room)));
        assert_eq!(parse(&naming, &place), Some((event, Kind::Place)));
        assert!(!place.contains('@'), "{place}");
        assert_eq!(parse(&naming, "t1.queue.nope.room"), None);
        assert_eq!(parse(&naming, &format!("t2.queue.{event}.room")), None);
    }

    #[test]
    fn a_customer_key_is_stable_and_differs_between_customers() {
        let ann = CustomerId::parse("ann").unwrap();
        let bob = CustomerId::parse("bob").unwrap();
        assert_eq!(customer_key(&ann), customer_key(&ann));
        assert_ne!(customer_key(&ann), customer_key(&bob));
        assert_eq!(customer_key(&ann).len(), 32);
    }
}
