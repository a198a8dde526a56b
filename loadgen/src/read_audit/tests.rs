//! The read-model checks on a read model that agrees with the stream, then on doctored ones:
//! each doctoring must be caught under its kind.

use super::check::{self, HoldSeen, OrderSeen, SeatSeen, SectionSeen, TicketSeen};
use super::violations::Violations;
use super::window::Window;
use crate::fold::{HoldFact, HoldState, InventoryFold, SeatOwner, SectionFact};
use crate::orders::SettledOrder;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2027-06-01 12:00:00 UTC);

fn window() -> Window {
    Window {
        sent: NOW,
        received: NOW + time::Duration::milliseconds(20),
    }
}

fn hold(
    section: &str,
    seats: &[&str],
    quantity: u64,
    expires_at: OffsetDateTime,
    state: HoldState,
) -> HoldFact {
    HoldFact {
        section_id: section.to_owned(),
        customer_id: "c1".to_owned(),
        seats: seats.iter().map(|s| (*s).to_owned()).collect(),
        quantity,
        expires_at,
        state,
        expired: u32::from(state == HoldState::Expired),
        expired_recorded_at: None,
    }
}

/// A seated section `s0` (seats A-1..A-4) and a general-admission `floor` (10):
/// - `live`: held until later;
/// - `lapsed`: 2 on the floor, past `expires_at` with no `HoldExpired` yet (lazy expiry);
/// - `sold`: A-3 sold to order `o1`;
/// - `gone`: 1 on the floor, expired and recorded.
fn fold() -> InventoryFold {
    let mut fold = InventoryFold::default();
    fold.sections.insert(
        "s0".into(),
        SectionFact {
            capacity: 4,
            seated: true,
            held: 2,
            sold: 1,
            blocked: 0,
        },
    );
    fold.sections.insert(
        "floor".into(),
        SectionFact {
            capacity: 10,
            seated: false,
            held: 2,
            sold: 0,
            blocked: 0,
        },
    );
    let later = NOW + time::Duration::minutes(5);
    let earlier = NOW - time::Duration::minutes(1);
    fold.holds.insert(
        "live".into(),
        hold("s0", &["A-1", "A-2"], 2, later, HoldState::Active),
    );
    fold.holds.insert(
        "lapsed".into(),
        hold("floor", &[], 2, earlier, HoldState::Active),
    );
    fold.holds.insert(
        "sold".into(),
        hold("s0", &["A-3"], 1, earlier, HoldState::Sold),
    );
    fold.holds.insert(
        "gone".into(),
        hold("floor", &[], 1, earlier, HoldState::Expired),
    );
    for seat in ["A-1", "A-2"] {
        fold.seats
            .insert(("s0".into(), seat.into()), SeatOwner::Hold("live".into()));
    }
    fold.seats
        .insert(("s0".into(), "A-3".into()), SeatOwner::Order("o1".into()));
    fold.last_sequence = 42;
    fold
}

/// What a correct query-svc answers in `window()`.
fn availability() -> Vec<SectionSeen> {
    vec![
        SectionSeen {
            section_id: "s0".into(),
            capacity: 4,
            available: 1,
            held: 2,
            sold: 1,
        },
        // The lapsed hold no longer counts as held.
        SectionSeen {
            section_id: "floor".into(),
            capacity: 10,
            available: 10,
            held: 0,
            sold: 0,
        },
    ]
}

fn seat_map() -> Vec<SeatSeen> {
    [
        ("A-1", "held"),
        ("A-2", "held"),
        ("A-3", "sold"),
        ("A-4", "available"),
    ]
    .into_iter()
    .map(|(seat, status)| SeatSeen {
        seat: seat.into(),
        status: status.into(),
    })
    .collect()
}

fn hold_seen(id: &str, status: &str) -> HoldSeen {
    let fact = &fold().holds[id];
    HoldSeen {
        hold_id: id.into(),
        status: status.into(),
        section_id: fact.section_id.clone(),
        customer_id: fact.customer_id.clone(),
        seats: fact.seats.clone(),
        quantity: fact.quantity,
    }
}

fn ticket(code: &str, seat: &str) -> TicketSeen {
    TicketSeen {
        code: code.into(),
        section_id: "s0".into(),
        seat: Some(seat.into()),
    }
}

fn order_seen(id: &str, hold: &str, status: &str, tickets: Vec<TicketSeen>) -> OrderSeen {
    OrderSeen {
        order_id: id.into(),
        status: status.into(),
        event_id: Some("e".into()),
        hold_id: Some(hold.into()),
        tickets,
    }
}

#[test]
fn a_read_model_that_agrees_with_the_stream_passes() {
    let fold = fold();
    let mut found = Violations::default();
    check::availability(&fold, &availability(), &window(), &mut found).unwrap();
    check::seat_map(&fold, "s0", &seat_map(), &window(), &mut found).unwrap();
    for (id, status) in [
        ("live", "active"),
        ("lapsed", "expired"),
        ("sold", "ordered"),
        ("gone", "expired"),
    ] {
        check::hold(
            &fold,
            id,
            Some(&hold_seen(id, status)),
            &window(),
            &mut found,
        )
        .unwrap();
    }
    let settled = SettledOrder {
        order_id: "o1".into(),
        customer: "c1".into(),
        hold_id: "sold".into(),
        status: "confirmed".into(),
        tickets: vec![("TV-1".into(), "s0".into(), Some("A-3".into()))],
        last_sequence: 7,
    };
    let o1 = order_seen("o1", "sold", "confirmed", vec![ticket("TV-1", "A-3")]);
    check::order(&settled, Some(&o1), &mut found);
    check::orders_together(&[o1], &mut found);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn doctored_availability_is_caught() {
    let fold = fold();
    let mut found = Violations::default();
    let mut seen = availability();
    seen[0].sold = 3; // two more sold than the stream, over capacity
    seen[0].available = 0;
    seen[1].held = 2; // the lapsed hold still counted
    seen[1].available = 8;
    check::availability(&fold, &seen, &window(), &mut found).unwrap();
    assert_eq!(found.count("sold_mismatch"), 1);
    assert_eq!(found.count("held_mismatch"), 1);
    assert_eq!(found.count("available_mismatch"), 2);
    assert_eq!(found.count("over_capacity"), 1, "s0: 2 held + 3 sold > 4");
}

#[test]
fn a_doctored_seat_map_is_caught() {
    let fold = fold();
    let mut found = Violations::default();
    let mut seen = seat_map();
    seen[2].status = "available".into(); // the sold seat shown free
    seen[3].status = "sold".into(); // a free seat shown sold
    seen.push(SeatSeen {
        seat: "A-1".into(),
        status: "held".into(),
    });
    check::seat_map(&fold, "s0", &seen, &window(), &mut found).unwrap();
    assert_eq!(found.count("sold_seat_mismatch"), 2);
    assert_eq!(found.count("seat_listed_twice"), 1);
    seen.retain(|s| s.seat != "A-2");
    let mut found = Violations::default();
    check::seat_map(&fold, "s0", &seen, &window(), &mut found).unwrap();
    assert_eq!(found.count("seat_missing"), 1);
}

#[test]
fn doctored_holds_are_caught() {
    let fold = fold();
    let mut found = Violations::default();
    check::hold(
        &fold,
        "live",
        Some(&hold_seen("live", "expired")),
        &window(),
        &mut found,
    )
    .unwrap();
    check::hold(
        &fold,
        "lapsed",
        Some(&hold_seen("lapsed", "active")),
        &window(),
        &mut found,
    )
    .unwrap();
    check::hold(&fold, "gone", None, &window(), &mut found).unwrap();
    let mut other_seats = hold_seen("live", "active");
    other_seats.seats = vec!["A-1".into(), "A-4".into()];
    check::hold(&fold, "live", Some(&other_seats), &window(), &mut found).unwrap();
    assert_eq!(found.count("hold_status_mismatch"), 2);
    assert_eq!(found.count("hold_missing"), 1);
    assert_eq!(found.count("hold_contents_mismatch"), 1);
    let twice = [
        &hold_seen("live", "active"),
        &HoldSeen {
            hold_id: "copy".into(),
            ..hold_seen("live", "active")
        },
    ];
    check::holds_together(&twice, &mut found);
    assert_eq!(found.count("seat_in_two_holds"), 2);
}

#[test]
fn a_hold_expiring_while_the_answer_is_computed_is_asked_again() {
    let mut fold = fold();
    fold.holds.get_mut("live").unwrap().expires_at = NOW + time::Duration::milliseconds(10);
    let mut found = Violations::default();
    let again = check::availability(&fold, &availability(), &window(), &mut found).unwrap_err();
    assert!(again.at > NOW + time::Duration::milliseconds(10));
    assert!(check::seat_map(&fold, "s0", &seat_map(), &window(), &mut found).is_err());
    assert!(check::hold(
        &fold,
        "live",
        Some(&hold_seen("live", "active")),
        &window(),
        &mut found
    )
    .is_err());
    assert!(
        found.is_empty(),
        "no verdict on an answer that cannot be told: {found:?}"
    );
}

#[test]
fn doctored_orders_are_caught() {
    let settled = SettledOrder {
        order_id: "o1".into(),
        customer: "c1".into(),
        hold_id: "sold".into(),
        status: "confirmed".into(),
        tickets: vec![("TV-1".into(), "s0".into(), Some("A-3".into()))],
        last_sequence: 7,
    };
    let mut found = Violations::default();
    check::order(
        &settled,
        Some(&order_seen("o1", "sold", "payment_failed", vec![])),
        &mut found,
    );
    check::order(&settled, None, &mut found);
    assert_eq!(found.count("order_status_mismatch"), 1);
    assert_eq!(found.count("order_tickets_mismatch"), 1);
    assert_eq!(found.count("order_missing"), 1);

    let mut found = Violations::default();
    let listed = [
        order_seen("o1", "sold", "confirmed", vec![ticket("TV-1", "A-3")]),
        order_seen("o2", "sold", "confirmed", vec![ticket("TV-2", "A-3")]),
        order_seen("o2", "sold", "confirmed", vec![ticket("TV-2", "A-3")]),
    ];
    check::orders_together(&listed, &mut found);
    assert_eq!(found.count("seat_sold_twice"), 1);
    assert_eq!(
        found.count("duplicate_order"),
        2,
        "o2 listed twice, two orders on one hold"
    );
    assert_eq!(found.count("duplicate_charge"), 1);
}
