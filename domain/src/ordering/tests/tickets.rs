//! Tickets: one per place, with a signed code that is the same for the same order every time,
//! different across tickets, not made without the key, and verifiable with the event's scanner key.

use super::*;
use crate::ordering::{ticket_id, tickets_for, TicketRef, CODE_PREFIX, SIGNED_CODE_CHARS};
use std::collections::HashSet;

#[test]
fn codes_are_tv_and_44_url_safe_characters() {
    for ticket in tickets() {
        let body = ticket.code.strip_prefix(CODE_PREFIX).unwrap();
        assert_eq!(body.len(), SIGNED_CODE_CHARS, "{}", ticket.code);
        assert!(body.len() >= 22);
        assert!(
            body.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{}",
            ticket.code
        );
    }
}

#[test]
fn the_same_order_always_gets_the_same_tickets() {
    assert_eq!(tickets(), tickets());
    let other = OrderId::from_uuid(Uuid::from_u128(7));
    let theirs = ticket_key().tickets_for(event_id(), other, &stalls(), &[], 2);
    assert_ne!(theirs[0].code, tickets()[0].code);
}

#[test]
fn another_key_gives_other_codes_so_knowing_the_order_gives_nothing() {
    let other_key = TicketKey::new(b"another-ticket-key-for-these-stories-987654");
    let forged = other_key.tickets_for(event_id(), order_id(), &stalls(), &[], 2);
    for (genuine, forged) in tickets().iter().zip(&forged) {
        assert_ne!(genuine.code, forged.code);
        // It names the same order, so a check-in looks there, and finds no such code.
        assert_eq!(
            TicketRef::of_code(&forged.code),
            TicketRef::of_code(&genuine.code)
        );
    }
}

#[test]
fn a_code_names_its_order_and_index() {
    for (index, ticket) in tickets().iter().enumerate() {
        assert_eq!(
            TicketRef::of_code(&ticket.code),
            Some(TicketRef {
                order_id: order_id(),
                index: index as u32
            })
        );
    }
    assert_eq!(
        TicketRef::of_code("TV-7K3M9Q2X0BFE"),
        None,
        "an unsigned code"
    );
    assert_eq!(TicketRef::of_code("nonsense"), None);
}

#[test]
fn the_event_s_scanner_key_verifies_its_codes_offline_and_nothing_else() {
    let key = ticket_key().scanner_key(event_id());
    let handed_out = ScannerKey::from_hex(&key.to_hex()).unwrap();
    assert_eq!(handed_out, key);
    for ticket in tickets() {
        assert!(handed_out.verify(&ticket.code).is_some());
        // One character changed anywhere after the prefix.
        for position in CODE_PREFIX.len()..ticket.code.len() {
            let mut edited = ticket.code.clone().into_bytes();
            edited[position] = if edited[position] == b'A' { b'B' } else { b'A' };
            let edited = String::from_utf8(edited).unwrap();
            assert_eq!(handed_out.verify(&edited), None, "{edited}");
        }
    }
    let other_event = EventId::from_uuid(Uuid::from_u128(0xe2));
    let elsewhere = ticket_key().scanner_key(other_event);
    assert!(tickets()
        .iter()
        .all(|t| elsewhere.verify(&t.code).is_none()));
}

#[test]
fn seated_tickets_follow_the_seats_and_general_admission_ones_name_none() {
    let seated = tickets();
    assert_eq!(seated.len(), 2);
    assert_eq!(seated[0].seat, Some("A-1".parse().unwrap()));
    assert_eq!(seated[1].seat, Some("A-2".parse().unwrap()));
    assert!(seated.iter().all(|t| t.section_id == stalls()));
    let floor = SectionId::parse("floor").unwrap();
    let ga = ticket_key().tickets_for(event_id(), order_id(), &floor, &[], 3);
    assert_eq!(ga.len(), 3);
    assert!(ga.iter().all(|t| t.seat.is_none() && t.section_id == floor));
}

#[test]
fn codes_and_ids_differ_across_tickets_and_orders() {
    let mut codes = HashSet::new();
    let mut ids = HashSet::new();
    for n in 0..2_000u128 {
        let order = OrderId::from_uuid(Uuid::from_u128(n));
        for (index, ticket) in ticket_key()
            .tickets_for(event_id(), order, &stalls(), &[], 8)
            .into_iter()
            .enumerate()
        {
            assert!(codes.insert(ticket.code.clone()), "{} twice", ticket.code);
            assert!(ids.insert(ticket_id(order, index as u32)));
        }
    }
}

#[test]
fn codes_of_tickets_issued_before_signing_still_read() {
    let old = tickets_for(order_id(), &stalls(), &[], 1);
    let body = old[0].code.strip_prefix(CODE_PREFIX).unwrap();
    assert_eq!(body.len(), 12);
    let json = serde_json::to_value(&old[0]).unwrap();
    let read: Ticket = serde_json::from_value(json).unwrap();
    assert_eq!(read, old[0]);
}

#[test]
fn a_ticket_serializes_with_its_seat_or_null() {
    let json = serde_json::to_value(&tickets()[0]).unwrap();
    assert_eq!(json["section_id"], "stalls");
    assert_eq!(json["seat"], "A-1");
    let ga = &ticket_key().tickets_for(event_id(), order_id(), &stalls(), &[], 1)[0];
    assert!(serde_json::to_value(ga).unwrap()["seat"].is_null());
}
