//! Orders placed before gateway references existed: their `OrderPlaced` carries the card token
//! (`payment_token`), as stored on streams that are never rewritten. They still load, and are
//! charged with the token as before; nothing new is ever written that way.

use super::*;
use crate::ordering::{evolve, OrderState, OrderStatus, PaymentMeans};

/// An `OrderPlaced` exactly as command-svc wrote it before references (the `data` of a schema-1
/// fact on `orders.<order>`).
const LEGACY_ORDER_PLACED: &str = r#"{
  "type": "OrderPlaced",
  "data": {
    "order_id": "6b0d6a4e-1b8e-5f0c-9a43-2f6f3a0d2c11",
    "customer_id": "alice",
    "hold_id": "00000000-0000-0000-0000-0000000000e1.8a1c7d52-93a4-5b7e-8f0e-1c2d3e4f5a6b",
    "event_id": "00000000-0000-0000-0000-0000000000e1",
    "section_id": "stalls",
    "seats": ["A-1", "A-2"],
    "quantity": 2,
    "unit_price_minor": 4500,
    "total_minor": 9000,
    "currency": "EUR",
    "payment_token": "tok_ok",
    "expires_at": "2030-06-01T18:10:00Z"
  }
}"#;

fn legacy() -> OrderEvent {
    serde_json::from_str(LEGACY_ORDER_PLACED).expect("a legacy OrderPlaced still reads")
}

#[test]
fn an_order_placed_with_a_token_still_loads_and_is_charged_with_it() {
    let state = evolve(OrderState::default(), &legacy());
    let order = state.order().unwrap();
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert_eq!(order.total_minor, TOTAL);
    assert_eq!(
        order.payment_means,
        Some(PaymentMeans::LegacyToken("tok_ok".into()))
    );
    // Written again (a copy, a test), it keeps its token: what is read is what was stored.
    let json = serde_json::to_value(legacy()).unwrap();
    assert_eq!(json["data"]["payment_token"], "tok_ok");
    assert!(json["data"].get("payment_ref").is_none());
}

#[test]
fn an_order_placed_with_a_token_goes_on_as_any_order() {
    let legacy = legacy();
    let OrderEvent::OrderPlaced { order_id, .. } = &legacy else {
        unreachable!()
    };
    let paid = OrderEvent::PaymentCaptured {
        payment_id: crate::ids::PaymentId::for_order(*order_id),
        amount_minor: TOTAL,
    };
    let state = [legacy.clone(), paid]
        .iter()
        .fold(OrderState::default(), evolve);
    assert_eq!(state.status(), Some(OrderStatus::Paid));
    // No `Place` can name a token any more: a new request under its id is another request.
    let state = evolve(OrderState::default(), &legacy);
    let mut retry = place();
    if let OrderCommand::Place {
        order_id: id,
        hold_id,
        ..
    } = &mut retry
    {
        *id = *order_id;
        if let OrderEvent::OrderPlaced { hold_id: held, .. } = &legacy {
            *hold_id = *held;
        }
    }
    assert_eq!(
        crate::ordering::decide(&state, &retry, at(5)),
        Err(crate::ordering::OrderError::IdempotencyKeyReused)
    );
}
