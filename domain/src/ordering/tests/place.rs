//! Rule 1: an order is placed once, with the facts of its checked-out hold; a retry with the same
//! facts decides nothing, forever; other facts under the same order id are refused.

use super::*;
use crate::ordering::{OrderError, OrderStatus, Preparation};

#[test]
fn placing_an_order_records_its_facts_and_total() {
    let state = given::<Ordering>([])
        .when(place(), at(5))
        .then(vec![placed()]);
    let order = state.order().unwrap();
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert_eq!(order.total_minor, TOTAL);
    assert_eq!(order.expires_at, at(DEADLINE));
    assert_eq!(order.payment, None);
    assert_eq!(state.refund_due_minor(), 0);
}

#[test]
fn placing_again_with_the_same_facts_is_a_retry_forever() {
    placed_then([]).when(place(), at(5)).then_nothing();
    // After the deadline, and once the order went on.
    placed_then([])
        .when(place(), at(DEADLINE + 5))
        .then_nothing();
    placed_then([captured(), confirmed()])
        .when(place(), at(DEADLINE * 10))
        .then_nothing();
}

#[test]
fn the_same_order_id_with_other_facts_is_refused() {
    let other_payment = place_with(|c| {
        if let OrderCommand::Place { payment, .. } = c {
            *payment = Preparation::Prepared {
                gateway_ref: "pi_another".into(),
            };
        }
    });
    let other_hold = place_with(|c| {
        if let OrderCommand::Place { hold_id, .. } = c {
            *hold_id = HoldId::derive(event_id(), &alice(), &IdempotencyKey::parse("h2").unwrap());
        }
    });
    for command in [other_payment, other_hold] {
        placed_then([])
            .when(command, at(5))
            .then_error(OrderError::IdempotencyKeyReused);
    }
}

#[test]
fn a_means_of_payment_the_gateway_refused_places_the_order_failed_at_once() {
    let refused = place_with(|c| {
        if let OrderCommand::Place { payment, .. } = c {
            *payment = Preparation::Refused {
                reason: "resource_missing".into(),
            };
        }
    });
    let mut placed_without_ref = placed();
    if let OrderEvent::OrderPlaced { payment_ref, .. } = &mut placed_without_ref {
        *payment_ref = None;
    }
    let failed = OrderEvent::PaymentFailed {
        reason: "resource_missing".into(),
    };
    let state = given::<Ordering>([])
        .when(refused.clone(), at(5))
        .then(vec![placed_without_ref.clone(), failed.clone()]);
    let order = state.order().unwrap();
    assert_eq!(order.status, OrderStatus::PaymentFailed);
    assert_eq!(order.payment_means, None, "nothing to charge");
    // A retry decides nothing; a prepared payment under the same order id is another request.
    given::<Ordering>([placed_without_ref.clone(), failed.clone()])
        .when(refused, at(6))
        .then_nothing();
    given::<Ordering>([placed_without_ref, failed])
        .when(place(), at(6))
        .then_error(OrderError::IdempotencyKeyReused);
}

#[test]
fn a_placed_order_carries_the_gateway_s_reference_and_never_a_token() {
    let json = serde_json::to_value(placed()).unwrap();
    assert_eq!(json["data"]["payment_ref"], GATEWAY_REF);
    assert!(json["data"].get("payment_token").is_none(), "{json}");
    let state = given::<Ordering>([])
        .when(place(), at(5))
        .then(vec![placed()]);
    assert_eq!(
        state.order().unwrap().payment_means,
        Some(crate::ordering::PaymentMeans::GatewayRef(
            GATEWAY_REF.into()
        ))
    );
}

#[test]
fn nothing_but_placing_is_decided_before_the_order_exists() {
    for command in [
        capture(),
        decline(),
        confirm(),
        OrderCommand::Expire,
        cancel(&alice()),
        record_refund(TOTAL),
    ] {
        given::<Ordering>([])
            .when(command, at(DEADLINE + 5))
            .then_error(OrderError::UnknownOrder);
    }
}

#[test]
fn an_order_cannot_be_placed_at_or_after_its_deadline() {
    given::<Ordering>([])
        .when(place(), at(DEADLINE))
        .then_error(OrderError::HoldExpired);
    given::<Ordering>([])
        .when(place(), at(DEADLINE - 1))
        .then(vec![placed()]);
}

#[test]
fn an_order_of_general_admission_names_no_seat() {
    let command = place_with(|c| {
        if let OrderCommand::Place {
            section_id,
            seats,
            quantity,
            ..
        } = c
        {
            *section_id = SectionId::parse("floor").unwrap();
            seats.clear();
            *quantity = 3;
        }
    });
    let events = given::<Ordering>([]).when(command, at(5)).result().unwrap();
    let [OrderEvent::OrderPlaced {
        seats, total_minor, ..
    }] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert!(seats.is_empty());
    assert_eq!(*total_minor, 3 * UNIT);
}

/// `place()` with one fact changed.
fn place_with(change: impl FnOnce(&mut OrderCommand)) -> OrderCommand {
    let mut command = place();
    change(&mut command);
    command
}

#[test]
fn facts_that_cannot_be_an_order_are_refused() {
    let cases: Vec<(OrderCommand, &str)> = vec![
        (
            place_with(|c| {
                if let OrderCommand::Place {
                    quantity, seats, ..
                } = c
                {
                    *quantity = 0;
                    seats.clear();
                }
            }),
            "quantity",
        ),
        (
            place_with(|c| {
                if let OrderCommand::Place { quantity, .. } = c {
                    *quantity = 3;
                }
            }),
            "seat",
        ),
        (
            place_with(|c| {
                if let OrderCommand::Place {
                    unit_price_minor, ..
                } = c
                {
                    *unit_price_minor = -1;
                }
            }),
            "price",
        ),
        (
            place_with(|c| {
                if let OrderCommand::Place { payment, .. } = c {
                    *payment = Preparation::Prepared {
                        gateway_ref: String::new(),
                    };
                }
            }),
            "reference",
        ),
        (
            place_with(|c| {
                if let OrderCommand::Place { event_id, .. } = c {
                    *event_id = EventId::from_uuid(Uuid::from_u128(0xe2));
                }
            }),
            "event",
        ),
    ];
    for (command, about) in cases {
        match given::<Ordering>([]).when(command, at(5)).result() {
            Err(OrderError::InvalidOrder { reason }) => {
                assert!(reason.contains(about), "{reason:?} is not about {about}")
            }
            other => panic!("expected an invalid order about {about}, got {other:?}"),
        }
    }
}

#[test]
fn order_facts_serialize_as_tagged_json() {
    let json = serde_json::to_value(placed()).unwrap();
    assert_eq!(json["type"], "OrderPlaced");
    assert_eq!(json["data"]["total_minor"], TOTAL);
    assert_eq!(json["data"]["currency"], "EUR");
    assert_eq!(json["data"]["seats"][1], "A-2");
    assert_eq!(json["data"]["expires_at"], "2030-06-01T18:10:00Z");
    assert_eq!(placed().kind(), "OrderPlaced");
    let back: OrderEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, placed());
    for event in [
        captured(),
        failed(),
        confirmed(),
        expired(true),
        cancelled(false),
        refunded(TOTAL),
    ] {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.kind());
        assert_eq!(serde_json::from_value::<OrderEvent>(json).unwrap(), event);
    }
    assert_eq!(
        serde_json::to_value(OrderStatus::PendingPayment).unwrap(),
        "pending_payment"
    );
}
