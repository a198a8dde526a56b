//! Tickets: one per place, with a derived code that is the same for the same order every time and
//! different across tickets.

use super::*;
use crate::ordering::ticket_code;
use std::collections::HashSet;

#[test]
fn codes_are_tv_and_twelve_crockford_characters() {
    for ticket in tickets() {
        let (prefix, body) = ticket.code.split_at(3);
        assert_eq!(prefix, "TV-");
        assert_eq!(body.len(), 12, "{}", ticket.code);
        assert!(
            body.chars()
                .all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c))),
            "{}",
            ticket.code
        );
    }
}

#[test]
fn the_same_order_always_gets_the_same_tickets() {
    assert_eq!(tickets(), tickets());
    assert_eq!(tickets()[0].code, ticket_code(order_id(), 0));
    let other = OrderId::from_uuid(Uuid::from_u128(7));
    let theirs = tickets_for(other, &stalls(), &[], 2);
    assert_ne!(theirs[0].code, tickets()[0].code);
}

#[test]
fn seated_tickets_follow_the_seats_and_general_admission_ones_name_none() {
    let seated = tickets();
    assert_eq!(seated.len(), 2);
    assert_eq!(seated[0].seat, Some("A-1".parse().unwrap()));
    assert_eq!(seated[1].seat, Some("A-2".parse().unwrap()));
    assert!(seated.iter().all(|t| t.section_id == stalls()));
    let floor = SectionId::parse("floor").unwrap();
    let ga = tickets_for(order_id(), &floor, &[], 3);
    assert_eq!(ga.len(), 3);
    assert!(ga.iter().all(|t| t.seat.is_none() && t.section_id == floor));
}

#[test]
fn codes_differ_across_tickets_and_orders() {
    let mut codes = HashSet::new();
    for n in 0..2_000u128 {
        let order = OrderId::from_uuid(Uuid::from_u128(n));
        for ticket in tickets_for(order, &stalls(), &[], 8) {
            assert!(codes.insert(ticket.code.clone()), "{} twice", ticket.code);
        }
    }
}

#[test]
fn a_ticket_serializes_with_its_seat_or_null() {
    let json = serde_json::to_value(&tickets()[0]).unwrap();
    assert_eq!(json["section_id"], "stalls");
    assert_eq!(json["seat"], "A-1");
    let ga = &tickets_for(order_id(), &stalls(), &[], 1)[0];
    assert!(serde_json::to_value(ga).unwrap()["seat"].is_null());
}
